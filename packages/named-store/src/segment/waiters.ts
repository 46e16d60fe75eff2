import { createHash } from 'node:crypto'
import { futexSupported, futexWait, futexWake, selectBackend, WindowsNamedEvent, type MappedRegion } from '@shmkit/ffi-shm'
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

/**
 * Windows: WaitOnAddress only sees its own process, so a blocked locker
 * sleeps on a named auto-reset event per segment and word, and the releaser
 * signals it. The event's name comes from the segment's target (its name or
 * path), so every process that opens the segment by that name shares it; a
 * process that reached the segment under another spelling of its path still
 * finds the lock free within its periodic look (ownerCheckMs), never later.
 */
export class EventWaiter implements LockWaiter {
  private readonly events = new Map<number, WindowsNamedEvent>()
  private readonly key: string

  constructor(
    private readonly i32: Int32Array,
    target: string,
  ) {
    this.key = createHash('sha256').update(target).digest('hex').slice(0, 32)
  }

  private event(index: number): WindowsNamedEvent {
    let event = this.events.get(index)
    if (event === undefined) {
      event = WindowsNamedEvent.open(`shmkit-${this.key}-${index}`)
      this.events.set(index, event)
    }
    return event
  }

  wait(index: number, expected: number, timeoutMs: number): void {
    // The locker counted itself among the waiters before calling: if the word
    // has moved already, its releaser may have seen no waiter and not signaled.
    if (Atomics.load(this.i32, index) !== expected) return
    this.event(index).wait(timeoutMs)
  }

  /** Releases one waiter (an auto-reset event); others look again when their wait times out. */
  wake(index: number): void {
    this.event(index).signal()
  }

  close(): void {
    for (const event of this.events.values()) event.close()
    this.events.clear()
  }
}

/**
 * The best waiter for a mapped region on this platform; `close` (if any) goes
 * with the region. On Windows the named events need the segment's `target`,
 * and they release one waiter per wake: callers that wake several at once
 * (or pass no target) get the 1 ms naps of SleepWaiter there instead.
 */
export function regionWaiter(region: MappedRegion, target?: string): LockWaiter & { close?(): void } {
  if (futexSupported) return new FutexWaiter(region)
  if (selectBackend() === 'windows' && target !== undefined)
    return new EventWaiter(new Int32Array(region.buffer, 0, Math.floor(Math.min(region.size, 4096) / 4)), target)
  return new SleepWaiter()
}
