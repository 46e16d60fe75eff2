import { ShmError } from '@shmkit/errors'
import {
  abortError,
  futexSupported,
  futexWait,
  futexWaitAsync,
  futexWake,
  type AsyncWaitOptions,
  type AsyncWaitResult,
  type MappedRegion,
} from '@shmkit/ffi-shm'

/** How a synchronous wait on a word ended. */
export type WaitResult = 'woken' | 'timeout' | 'mismatch'

/**
 * How a segment's 32-bit words are slept on and woken, by byte offset: the
 * one seam between the sync primitives (and the message queue) and the
 * memory's kind. Every wait may also end spuriously: callers look again.
 */
export interface WordWaiter {
  /** 'futex': a mapping other processes share; 'atomics': a SharedArrayBuffer; 'local': this thread's own buffer; 'poll': no way to block. */
  readonly kind: 'futex' | 'atomics' | 'local' | 'poll'
  /** Sleeps while the word at `byteOffset` equals `expected`, at most `timeoutMs`; blocks this thread. */
  wait(byteOffset: number, expected: number, timeoutMs: number): WaitResult
  /** Wakes up to `count` waiters (sync and async, in any process) of the word. */
  wake(byteOffset: number, count: number): void
  /** The same wait without blocking the event loop. */
  waitAsync(byteOffset: number, expected: number, options: AsyncWaitOptions): Promise<AsyncWaitResult>
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))

/** Atomics.waitAsync (ES2024; Node 16+), typed here: the workspace's lib is older. */
const atomicsWaitAsync = (
  Atomics as unknown as {
    waitAsync(
      i32: Int32Array,
      index: number,
      value: number,
      timeoutMs: number,
    ): { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> }
  }
).waitAsync

function sleep(ms: number): void {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms)
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal))
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(abortError(signal as AbortSignal))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** A mapping shared between processes, on Linux: futex(2) for sync waits, the wait engine for async ones. */
export class FutexWords implements WordWaiter {
  readonly kind = 'futex'
  constructor(private readonly region: MappedRegion) {}
  wait(byteOffset: number, expected: number, timeoutMs: number): WaitResult {
    return futexWait(this.region, byteOffset, expected, timeoutMs)
  }
  wake(byteOffset: number, count: number): void {
    futexWake(this.region, byteOffset, count)
  }
  waitAsync(byteOffset: number, expected: number, options: AsyncWaitOptions): Promise<AsyncWaitResult> {
    return futexWaitAsync(this.region, byteOffset, expected, options)
  }
}

/** A SharedArrayBuffer between worker threads: Atomics.wait and Atomics.waitAsync. */
export class AtomicsWords implements WordWaiter {
  readonly kind = 'atomics'
  private readonly i32: Int32Array
  constructor(buffer: SharedArrayBuffer) {
    this.i32 = new Int32Array(buffer, 0, buffer.byteLength >> 2)
  }
  wait(byteOffset: number, expected: number, timeoutMs: number): WaitResult {
    const r = Atomics.wait(this.i32, byteOffset >> 2, expected | 0, timeoutMs)
    return r === 'ok' ? 'woken' : r === 'timed-out' ? 'timeout' : 'mismatch'
  }
  wake(byteOffset: number, count: number): void {
    if (count > 0) Atomics.notify(this.i32, byteOffset >> 2, count)
  }
  async waitAsync(byteOffset: number, expected: number, options: AsyncWaitOptions): Promise<AsyncWaitResult> {
    const { signal, timeoutMs } = options
    if (signal?.aborted) throw abortError(signal)
    const r = atomicsWaitAsync(this.i32, byteOffset >> 2, expected | 0, timeoutMs ?? Infinity)
    if (!r.async) return r.value === 'timed-out' ? 'timeout' : 'woken'
    const settled = r.value.then((v) => (v === 'ok' ? 'woken' : 'timeout') as AsyncWaitResult)
    if (signal === undefined) return settled
    // Atomics.waitAsync cannot be cancelled: an aborted wait leaves it to expire (callers wait in bounded slices).
    let onAbort: (() => void) | undefined
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(abortError(signal))
      signal.addEventListener('abort', onAbort, { once: true })
    })
    try {
      return await Promise.race([settled, aborted])
    } finally {
      signal.removeEventListener('abort', onAbort as () => void)
    }
  }
}

/**
 * This thread's own buffer (a heap segment, a plain ArrayBuffer): only this
 * thread changes its words, so a sync wait can only time out, and async
 * waiters are woken by `wake` calls from this thread.
 */
export class LocalWords implements WordWaiter {
  readonly kind = 'local'
  private readonly waiters = new Map<number, Set<() => void>>()
  wait(_byteOffset: number, _expected: number, timeoutMs: number): WaitResult {
    if (!Number.isFinite(timeoutMs))
      throw new ShmError('EDEADLK', 'a wait without a timeout on memory only this thread can change would never end', {})
    sleep(timeoutMs)
    return 'timeout'
  }
  wake(byteOffset: number, count: number): void {
    const set = this.waiters.get(byteOffset)
    if (set === undefined) return
    for (const resolve of set) {
      if (count-- <= 0) break
      resolve()
    }
  }
  waitAsync(byteOffset: number, _expected: number, options: AsyncWaitOptions): Promise<AsyncWaitResult> {
    const { signal, timeoutMs } = options
    if (signal?.aborted) return Promise.reject(abortError(signal))
    return new Promise((resolve, reject) => {
      let set = this.waiters.get(byteOffset)
      if (set === undefined) {
        set = new Set()
        this.waiters.set(byteOffset, set)
      }
      const finish = (): void => {
        set.delete(wake)
        if (set.size === 0) this.waiters.delete(byteOffset)
        if (timer !== undefined) clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
      }
      const wake = (): void => {
        finish()
        resolve('woken')
      }
      const onAbort = (): void => {
        finish()
        reject(abortError(signal as AbortSignal))
      }
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              finish()
              resolve('timeout')
            }, timeoutMs)
      signal?.addEventListener('abort', onAbort, { once: true })
      set.add(wake)
    })
  }
}

/** Shared memory with no way to block on a word (no futex here): look again every millisecond. */
export class PollWords implements WordWaiter {
  readonly kind = 'poll'
  wait(_byteOffset: number, _expected: number, timeoutMs: number): WaitResult {
    sleep(Math.min(timeoutMs, 1))
    return 'woken'
  }
  wake(): void {}
  async waitAsync(_byteOffset: number, _expected: number, options: AsyncWaitOptions): Promise<AsyncWaitResult> {
    await delay(Math.min(options.timeoutMs ?? 1, 1), options.signal)
    return 'woken'
  }
}

/** The word waiter for a region mapped from a shared object. */
export function regionWords(region: MappedRegion): WordWaiter {
  return futexSupported ? new FutexWords(region) : new PollWords()
}

/** The word waiter for a buffer: Atomics for a SharedArrayBuffer, local otherwise. */
export function bufferWords(buffer: ArrayBuffer | SharedArrayBuffer): WordWaiter {
  return typeof SharedArrayBuffer === 'function' && buffer instanceof SharedArrayBuffer ? new AtomicsWords(buffer) : new LocalWords()
}
