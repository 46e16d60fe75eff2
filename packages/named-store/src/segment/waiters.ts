import { futexSupported, futexWait, futexWake, type MappedRegion } from '@shmkit/ffi-shm'
import type { LockWaiter } from './lock.js'

/** Blocks in the kernel on a mapped word: the cross-process case on Linux. */
export class FutexWaiter implements LockWaiter {
  constructor(private readonly region: MappedRegion) {}
  wait(index: number, expected: number, timeoutMs: number): void {
    futexWait(this.region, index * 4, expected, timeoutMs)
  }
  wake(index: number, count: number): void {
    futexWake(this.region, index * 4, count)
  }
}

/** A SharedArrayBuffer shared between worker threads: Atomics.wait works there. */
export class AtomicsWaiter implements LockWaiter {
  constructor(private readonly i32: Int32Array) {}
  wait(index: number, expected: number, timeoutMs: number): void {
    Atomics.wait(this.i32, index, expected, timeoutMs)
  }
  wake(index: number, count: number): void {
    Atomics.notify(this.i32, index, count)
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))

/** No way to block on the word itself: sleep a little and look again. */
export class SleepWaiter implements LockWaiter {
  wait(_index: number, _expected: number, timeoutMs: number): void {
    Atomics.wait(sleeper, 0, 0, Math.min(timeoutMs, 1))
  }
  wake(): void {}
}

/** The best waiter for a mapped region on this platform. */
export function regionWaiter(region: MappedRegion): LockWaiter {
  return futexSupported ? new FutexWaiter(region) : new SleepWaiter()
}
