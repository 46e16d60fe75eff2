import { ShmError } from '@shmkit/errors'

/**
 * create, and on EEXIST open: two processes racing end up with one segment,
 * formatted once. A segment removed between the two steps is tried again.
 */
export function openOrCreateWith<T>(create: () => T, open: () => T, target: string): T {
  for (let attempt = 0; attempt < 16; attempt++) {
    try {
      return create()
    } catch (e) {
      if (!(e instanceof ShmError) || e.code !== 'EEXIST') throw e
    }
    try {
      return open()
    } catch (e) {
      if (!(e instanceof ShmError) || e.code !== 'ENOENT') throw e
    }
  }
  throw new ShmError('ETIMEDOUT', `${target} kept appearing and disappearing while opening it`, { target })
}
