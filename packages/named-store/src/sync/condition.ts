import { ShmError } from '@shmkit/errors'
import { abortError } from '@shmkit/ffi-shm'
import { checkWrite, closedError, type SegmentMemory } from '../types/memory.js'
import { Mutex, type LockStatus } from './mutex.js'
import { deadlineOf, parseAsyncWaitOptions, parseWaitOptions, RECHECK_MS, type AsyncWaitOptions, type WaitOptions } from './options.js'
import { SyncType } from './sync-type.js'
import { LocalWords, type WordWaiter } from './word-waiter.js'

/** How a condition wait ended; 'owner-died' when relocking the mutex found its owner dead (see LockStatus). */
export type ConditionWaitResult = 'notified' | 'timed-out' | 'owner-died'

// Words of a condition (8 bytes).
const SEQUENCE = 0 // moved by every notify: waiters sleep while it holds the value they read
const WAITERS = 1 // how many may be asleep: notify skips the wake call when 0
/** Bytes a `t.condition` occupies in a segment (two 32-bit words). */
export const CONDITION_BYTES = 8

const localFallback = new LocalWords()

/**
 * A process-shared condition variable (Boost's `interprocess_condition`):
 * a futex sequence word. A waiter reads the sequence while holding the
 * mutex, unlocks, and sleeps while the sequence is unchanged; every notify
 * moves it first, so a notify after the unlock is never missed. A notifier
 * that dies between moving the sequence and waking costs its waiters at most
 * RECHECK_MS (they look again on their own); a waiter that dies leaves an
 * inflated waiter count, which costs notifiers a needless wake call, nothing else.
 * Waits may end spuriously ('notified' without a notify): wait in a loop on your predicate.
 */
export class Condition {
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

  /** Unlocks `mutex`, sleeps until notified (or `timeoutMs`), locks it again; blocks this thread. */
  wait(mutex: Mutex, options?: WaitOptions): ConditionWaitResult {
    const parsed = options === undefined ? {} : parseWaitOptions(options, this.mem.target)
    const sequence = this.enter(mutex)
    const deadline = deadlineOf(parsed)
    let result: ConditionWaitResult = 'timed-out'
    try {
      for (;;) {
        const now = performance.now()
        if (Atomics.load(this.mem.i32, this.index + SEQUENCE) !== sequence) {
          result = 'notified'
          break
        }
        if (now >= deadline) break
        if (this.words.kind === 'local' && deadline === Infinity) throw this.wouldNeverEnd()
        this.words.wait(this.offset, sequence, Math.min(deadline - now, RECHECK_MS))
      }
    } finally {
      Atomics.sub(this.mem.i32, this.index + WAITERS, 1)
      const relocked = mutex.lock()
      if (relocked === 'owner-died') result = 'owner-died'
    }
    return result
  }

  /** The same without blocking the event loop; on abort it relocks the mutex, then rejects with EABORTED. */
  async waitAsync(mutex: Mutex, options?: AsyncWaitOptions): Promise<ConditionWaitResult> {
    const parsed = options === undefined ? {} : parseAsyncWaitOptions(options, this.mem.target)
    if (parsed.signal?.aborted) throw abortError(parsed.signal)
    const sequence = this.enter(mutex)
    const deadline = deadlineOf(parsed)
    let result: ConditionWaitResult = 'timed-out'
    try {
      for (;;) {
        const now = performance.now()
        if (this.mem.closed) throw closedError(this.mem)
        if (Atomics.load(this.mem.i32, this.index + SEQUENCE) !== sequence) {
          result = 'notified'
          break
        }
        if (now >= deadline) break
        const waitOptions: { timeoutMs: number; signal?: AbortSignal } = { timeoutMs: Math.min(deadline - now, RECHECK_MS * 5) }
        if (parsed.signal !== undefined) waitOptions.signal = parsed.signal
        await this.words.waitAsync(this.offset, sequence, waitOptions)
      }
    } finally {
      if (!this.mem.closed) {
        Atomics.sub(this.mem.i32, this.index + WAITERS, 1)
        const relocked: LockStatus = await mutex.lockAsync()
        if (relocked === 'owner-died') result = 'owner-died'
      }
    }
    return result
  }

  /** Wakes one waiter (possibly more: waiters must re-check their predicate). */
  notifyOne(): void {
    this.notify(1)
  }

  /** Wakes every waiter. */
  notifyAll(): void {
    this.notify(0x7fffffff)
  }

  /** How many may be waiting now (a snapshot; a waiter that died still counts). */
  get waiters(): number {
    if (this.mem.closed) throw closedError(this.mem)
    return Atomics.load(this.mem.i32, this.index + WAITERS)
  }

  /** A snapshot: how many waiters may be asleep on it. */
  toJSON(): { waiters: number } {
    return { waiters: this.waiters }
  }

  private notify(count: number): void {
    checkWrite(this.mem)
    Atomics.add(this.mem.i32, this.index + SEQUENCE, 1)
    if (Atomics.load(this.mem.i32, this.index + WAITERS) > 0) this.words.wake(this.offset, count)
  }

  /** Checks the mutex, reads the sequence, counts itself in and unlocks: the sequence read comes before the unlock. */
  private enter(mutex: Mutex): number {
    checkWrite(this.mem)
    if (!(mutex instanceof Mutex))
      throw new ShmError('EINVAL', 'invalid mutex: expected a t.mutex or t.recursiveMutex view', {
        target: this.mem.target,
        issues: [{ path: ['mutex'], message: 'expected a mutex view' }],
      })
    if (mutex.mem !== this.mem && mutex.mem.buffer !== this.mem.buffer) {
      throw new ShmError('EINVAL', 'invalid mutex: it must live in the same segment handle as the condition', {
        target: this.mem.target,
        issues: [{ path: ['mutex'], message: 'a mutex of another segment' }],
      })
    }
    if (!mutex.heldByMe)
      throw new ShmError(
        'EPERM',
        `cannot wait on the condition at offset ${this.offset} of ${this.mem.target}: the mutex is not held by this thread`,
        { target: this.mem.target },
      )
    const sequence = Atomics.load(this.mem.i32, this.index + SEQUENCE)
    Atomics.add(this.mem.i32, this.index + WAITERS, 1)
    try {
      mutex.releaseForWait()
    } catch (error) {
      Atomics.sub(this.mem.i32, this.index + WAITERS, 1)
      throw error
    }
    return sequence
  }

  private wouldNeverEnd(): ShmError {
    return new ShmError(
      'EDEADLK',
      `a wait without a timeout on the condition at offset ${this.offset} of ${this.mem.target} would never end: only this thread can use its memory`,
      { target: this.mem.target },
    )
  }
}

function snapshot(mem: SegmentMemory, offset: number): { waiters: number } {
  if (mem.closed) throw closedError(mem)
  return { waiters: Atomics.load(mem.i32, (offset >> 2) + WAITERS) }
}

/** `t.condition`: a process-shared condition variable (8 bytes). */
export const conditionType = new SyncType<Condition>('condition', CONDITION_BYTES, (mem, offset) => new Condition(mem, offset), snapshot)
