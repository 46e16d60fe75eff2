import { ShmError } from '@shmkit/errors'
import { remainingMs } from './word-wait.js'

/**
 * Resolves once the word at `index` no longer holds `expected`, the deadline
 * passes (false) or `signal` aborts (rejects). Never blocks the event loop.
 *
 * PRIVATE STAND-IN until helper H3's async wait engine lands on main: it polls
 * (a few turns of the event loop, then timers backing off to 4 ms), so a
 * pending wait costs a little CPU and adds up to 4 ms of latency.
 */
export function waitWhileEqualAsync(
  i32: Int32Array,
  index: number,
  expected: number,
  deadline: number,
  signal: AbortSignal | undefined,
  target: string,
): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(abortedError(signal, target))
      return
    }
    let round = 0
    let timer: NodeJS.Timeout | undefined
    const onAbort = (): void => {
      if (timer !== undefined) clearTimeout(timer)
      reject(abortedError(signal, target))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    const finish = (value: boolean): void => {
      signal?.removeEventListener('abort', onAbort)
      resolve(value)
    }
    const look = (): void => {
      timer = undefined
      if (signal?.aborted === true) return
      if (Atomics.load(i32, index) !== expected) return finish(true)
      const left = remainingMs(deadline)
      if (left <= 0) return finish(false)
      round++
      if (round < 8) setImmediate(look)
      else timer = setTimeout(look, Math.min(left, round < 64 ? 1 : 4))
    }
    look()
  })
}

/** What an aborted wait rejects with: ShmError EABORTED, the signal's reason as its cause. */
export function abortedError(signal: AbortSignal | undefined, target: string): ShmError {
  return new ShmError('EABORTED', `the wait on ${target} was aborted`, { target, cause: signal?.reason })
}
