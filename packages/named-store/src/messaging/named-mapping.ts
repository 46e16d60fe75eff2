import { ShmError } from '@shmkit/errors'
import { MappedRegion, SharedMemoryObject } from '@shmkit/ffi-shm'
import { waitUntil } from '../segment/open-protocol.js'

/** A shared memory object of our own, mapped read-write, for a queue or a channel. */
export interface NamedMapping {
  shm: SharedMemoryObject
  region: MappedRegion
}

/**
 * Creates `name` with `bytes` bytes and lets `format` write it; the object is
 * removed again if anything fails, so a failed create leaves nothing behind.
 * `format` must publish a READY state word last.
 */
export function createMapping(name: string, bytes: number, mode: number | undefined, format: (region: MappedRegion) => void): NamedMapping {
  const shm = SharedMemoryObject.create(name, mode === undefined ? {} : { mode })
  let region: MappedRegion | undefined
  try {
    shm.truncate(bytes)
    region = new MappedRegion(shm)
    format(region)
    return { shm, region }
  } catch (e) {
    region?.close()
    shm.close()
    SharedMemoryObject.remove(name)
    throw e
  }
}

/**
 * Opens `name` once its creator has sized it and published READY in the word
 * at `stateIndex`. A creator that died half-way leaves it unfinished: after
 * `timeoutMs` that is ECORRUPT, not a hang.
 */
export function openMapping(
  name: string,
  what: string,
  headerBytes: number,
  stateIndex: number,
  ready: number,
  timeoutMs: number,
): NamedMapping {
  const target = `${what} "${name}"`
  const shm = SharedMemoryObject.open(name)
  let region: MappedRegion | undefined
  try {
    if (!waitUntil(() => shm.size >= headerBytes, timeoutMs)) {
      throw new ShmError('ECORRUPT', `${target} is not a shmkit ${what}: ${shm.size} bytes is smaller than its header (${headerBytes})`, {
        target,
      })
    }
    region = new MappedRegion(shm)
    const i32 = new Int32Array(region.buffer, 0, headerBytes >> 2)
    if (!waitUntil(() => Atomics.load(i32, stateIndex) === ready, timeoutMs)) {
      throw new ShmError('ECORRUPT', `${target} was never finished: not ready after ${timeoutMs} ms (did its creator die?)`, {
        target,
        hint: 'remove it and create it again',
      })
    }
    return { shm, region }
  } catch (e) {
    region?.close()
    shm.close()
    throw e
  }
}
