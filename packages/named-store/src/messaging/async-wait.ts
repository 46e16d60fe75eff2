import { ShmError } from '@shmkit/errors'
import type { WordWaiter } from '../sync/word-waiter.js'
import { MAX_SLEEP_MS, remainingMs } from './word-wait.js'

/**
 * Waits, without blocking the event loop, while the word at `index` holds
 * `expected`: true once it may have moved (woken, moved, or `maxMs` passed —
 * callers look again, as after any wait), false once `deadline` has passed;
 * rejects EABORTED when `signal` aborts.
 *
 * On a futex word (a mapping, on Linux) it sleeps in the wait engine, the
 * same one the sync primitives' async waits use: no polling, no thread per
 * wait, and a wake from a sync or async peer in any process ends it (a
 * SharedArrayBuffer uses Atomics.waitAsync, a thread's own buffer its local
 * waiters). A
 * waker only wakes when the waiter raised the "asleep" flag it checks, so
 * callers raise it (and look once more) before they call this. Elsewhere
 * (Windows, 'poll' words) it polls: a few turns of the event loop, then timers backing off
 * to 4 ms.
 */
export async function waitWhileEqualAsync(
  words: WordWaiter,
  i32: Int32Array,
  index: number,
  expected: number,
  deadline: number,
  signal: AbortSignal | undefined,
  target: string,
  maxMs = MAX_SLEEP_MS,
): Promise<boolean> {
  if (signal?.aborted === true) throw abortedError(signal, target)
  if (Atomics.load(i32, index) !== expected) return true
  const left = remainingMs(deadline)
  if (left <= 0) return false
  if (words.kind === 'poll') return pollWhileEqual(i32, index, expected, Math.min(deadline, performance.now() + maxMs), signal, target)
  try {
    await words.waitAsync(
      index * 4,
      expected,
      signal === undefined ? { timeoutMs: Math.min(left, maxMs) } : { timeoutMs: Math.min(left, maxMs), signal },
    )
  } catch (e) {
    if (ShmError.is(e, 'EABORTED')) throw abortedError(signal, target)
    throw e
  }
  return true
}

/** The polling form, where no word can be slept on across processes. */
function pollWhileEqual(
  i32: Int32Array,
  index: number,
  expected: number,
  until: number,
  signal: AbortSignal | undefined,
  target: string,
): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
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
      const left = remainingMs(until)
      if (left <= 0) return finish(true)
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
