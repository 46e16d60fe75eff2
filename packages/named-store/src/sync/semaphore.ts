import { ShmError } from '@shmkit/errors'
import { checkWrite, closedError, type SegmentMemory } from '../types/memory.js'
import { deadlineOf, parseAsyncWaitOptions, parseWaitOptions, RECHECK_MS, type AsyncWaitOptions, type WaitOptions } from './options.js'
import { SyncType } from './sync-type.js'
import { LocalWords, type WordWaiter } from './word-waiter.js'

// Words of a semaphore (8 bytes).
const COUNT = 0 // the units available; waiters sleep while it is 0
const WAITERS = 1 // how many may be asleep: post skips the wake call when 0
/** Bytes a `t.semaphore` occupies in a segment (two 32-bit words). */
export const SEMAPHORE_BYTES = 8
/** The largest count a semaphore holds (SEM_VALUE_MAX on Linux). */
export const MAX_SEMAPHORE_COUNT = 2 ** 31 - 1

const localFallback = new LocalWords()

/**
 * A process-shared counting semaphore (Boost's `interprocess_semaphore`): a
 * count word that waiters sleep on while it is 0, and a waiter count so
 * `post` skips the wake call when no one sleeps. A unit taken is taken by one
 * compare-and-swap, so a waiter killed at any instant either took its unit or
 * did not — no unit is lost or made twice; a poster killed between adding
 * and waking costs the waiters at most RECHECK_MS.
 */
export class Semaphore {
  private readonly index: number
  constructor(
    readonly mem: SegmentMemory,
    readonly offset: number,
  ) {
    this.index = offset >> 2
  }

  private get words(): WordWaiter {
    return this.mem.words ?? localFallback
  }

  /** The units available now (a snapshot). */
  get value(): number {
    if (this.mem.closed) throw closedError(this.mem)
    return Atomics.load(this.mem.i32, this.index + COUNT)
  }

  /** Adds `n` units (default 1) and wakes up to `n` waiters; EINVAL past MAX_SEMAPHORE_COUNT. */
  post(n = 1): void {
    checkWrite(this.mem)
    if (!Number.isSafeInteger(n) || n < 1 || n > MAX_SEMAPHORE_COUNT) {
      throw new ShmError('EINVAL', `invalid n: expected an integer from 1 to ${MAX_SEMAPHORE_COUNT}, got ${String(n)}`, {
        target: this.mem.target,
        issues: [{ path: ['n'], message: `an integer from 1 to ${MAX_SEMAPHORE_COUNT}` }],
      })
    }
    const i32 = this.mem.i32
    for (let bounded = 0; ; bounded++) {
      const count = Atomics.load(i32, this.index + COUNT)
      if (count > MAX_SEMAPHORE_COUNT - n || count < 0) {
        throw new ShmError(
          'EINVAL',
          `cannot post ${n} to the semaphore at offset ${this.offset} of ${this.mem.target}: its count ${count} would pass ${MAX_SEMAPHORE_COUNT}`,
          { target: this.mem.target },
        )
      }
      if (Atomics.compareExchange(i32, this.index + COUNT, count, count + n) === count) break
      if (bounded > 1_000_000)
        throw new ShmError(
          'ETIMEDOUT',
          `the semaphore at offset ${this.offset} of ${this.mem.target} changed a million times during one post`,
          { target: this.mem.target },
        )
    }
    if (Atomics.load(i32, this.index + WAITERS) > 0) this.words.wake(this.offset, n)
  }

  /** Takes a unit if one is available; never blocks. */
  tryWait(): boolean {
    checkWrite(this.mem)
    return this.take()
  }

  /** Takes a unit, blocking this thread until one is posted; with `timeoutMs`, false if none came in time. */
  wait(options?: WaitOptions): boolean {
    checkWrite(this.mem)
    const parsed = options === undefined ? {} : parseWaitOptions(options, this.mem.target)
    if (this.take()) return true
    const deadline = deadlineOf(parsed)
    if (this.words.kind === 'local' && deadline === Infinity) {
      throw new ShmError(
        'EDEADLK',
        `a wait without a timeout on the semaphore at offset ${this.offset} of ${this.mem.target} would never end: its count is 0 and only this thread can use its memory`,
        { target: this.mem.target },
      )
    }
    const i32 = this.mem.i32
    Atomics.add(i32, this.index + WAITERS, 1)
    try {
      for (;;) {
        if (this.take()) return true
        const now = performance.now()
        if (now >= deadline) return false
        this.words.wait(this.offset, 0, Math.min(deadline - now, RECHECK_MS))
      }
    } finally {
      Atomics.sub(i32, this.index + WAITERS, 1)
    }
  }

  /** The same without blocking the event loop; `signal` rejects with EABORTED (no unit taken). */
  async waitAsync(options?: AsyncWaitOptions): Promise<boolean> {
    checkWrite(this.mem)
    const parsed = options === undefined ? {} : parseAsyncWaitOptions(options, this.mem.target)
    if (this.take()) return true
    const deadline = deadlineOf(parsed)
    const i32 = this.mem.i32
    Atomics.add(i32, this.index + WAITERS, 1)
    try {
      for (;;) {
        checkWrite(this.mem)
        if (this.take()) return true
        const now = performance.now()
        if (now >= deadline) return false
        const waitOptions: { timeoutMs: number; signal?: AbortSignal } = { timeoutMs: Math.min(deadline - now, RECHECK_MS * 5) }
        if (parsed.signal !== undefined) waitOptions.signal = parsed.signal
        await this.words.waitAsync(this.offset, 0, waitOptions)
      }
    } finally {
      if (!this.mem.closed) Atomics.sub(i32, this.index + WAITERS, 1)
    }
  }

  /** A snapshot: the units available and how many waiters may be asleep. */
  toJSON(): { value: number; waiters: number } {
    return snapshot(this.mem, this.offset)
  }

  private take(): boolean {
    const i32 = this.mem.i32
    for (;;) {
      const count = Atomics.load(i32, this.index + COUNT)
      if (count <= 0) return false
      if (Atomics.compareExchange(i32, this.index + COUNT, count, count - 1) === count) return true
    }
  }
}

function snapshot(mem: SegmentMemory, offset: number): { value: number; waiters: number } {
  if (mem.closed) throw closedError(mem)
  return { value: Atomics.load(mem.i32, offset >> 2), waiters: Atomics.load(mem.i32, (offset >> 2) + WAITERS) }
}

/** `t.semaphore`: a process-shared counting semaphore (8 bytes); `init` is its initial count (default 0). */
export const semaphoreType = new SyncType<Semaphore, number>(
  'semaphore',
  SEMAPHORE_BYTES,
  (mem, offset) => new Semaphore(mem, offset),
  (mem, offset) => snapshot(mem, offset).value,
  {
    check: (value) =>
      typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_SEMAPHORE_COUNT
        ? undefined
        : `an initial count from 0 to ${MAX_SEMAPHORE_COUNT}`,
    store: (mem, offset, value) => {
      mem.i32[offset >> 2] = value as number
    },
  },
)
