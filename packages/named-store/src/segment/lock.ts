import { ShmError } from '@shmkit/errors'
import { SegmentHeader } from './header.js'

const LOCK = SegmentHeader.LOCK_WORD >> 2
const OWNER_START = SegmentHeader.LOCK_OWNER_START >> 2
const WAITERS = SegmentHeader.LOCK_WAITERS >> 2
const OWNER_THREAD = SegmentHeader.LOCK_OWNER_THREAD >> 2

/** Linux's PID_MAX_LIMIT is 2^22: the pid takes 22 bits of the lock word. */
const PID_BITS = 22
const PID_MASK = (1 << PID_BITS) - 1
const TAG_MASK = (1 << (32 - PID_BITS)) - 1

/** How a blocked locker sleeps until the word changes. */
export interface LockWaiter {
  /** Sleeps while the word at `index` (of the Int32Array) equals `expected`, at most `timeoutMs`. */
  wait(index: number, expected: number, timeoutMs: number): void
  wake(index: number, count: number): void
}

/** Who we are, and how to tell whether another owner still lives. */
export interface ProcessIdentity {
  readonly pid: number
  /** The process start time's low 32 bits (never 0), or 0 where unknown. */
  readonly startTag: number
  /** This thread, as threadId + 1 (never 0). */
  readonly thread: number
  isAlive(pid: number): boolean
  /** Another process's start tag; 'gone' if the OS says there is no such process, 'unknown' if it cannot tell (then the owner counts as alive). */
  startTagOf(pid: number): number | 'gone' | 'unknown'
}

export interface LockOptions {
  /** How often a waiter checks whether the owner died. */
  ownerCheckMs?: number
  /** Give up with ETIMEDOUT after this long (default: wait as long as the owner lives). */
  timeoutMs?: number
}

/**
 * The process-shared segment lock. The word holds the owner's pid and ten bits
 * of its start time, so a waiter can tell a dead owner (kill fails) from a live
 * one, and a recycled pid (the start time differs) from the original owner. The
 * full start tag is stored next to it once the lock is taken, closing the
 * 1-in-1024 chance of a tag collision except in the few instructions between.
 *
 * The lock is recursive per handle: operations called from `withLock` nest.
 */
export class SegmentLock {
  private depth = 0
  private readonly word: number

  constructor(
    private readonly i32: Int32Array,
    private readonly waiter: LockWaiter,
    private readonly identity: ProcessIdentity,
    /** Runs under the lock after a dead owner's lock was taken over. */
    private readonly recover: () => void,
    private readonly target: string,
    private readonly options: LockOptions = {},
  ) {
    // A pid too large for the word (Windows pids are 32 bits) is stored as
    // PID_MASK, "an owner nobody can check": never declared dead, never
    // mistaken for the process whose pid its low bits would be.
    this.word = Math.min(identity.pid, PID_MASK) | ((identity.startTag & TAG_MASK) << PID_BITS)
  }

  get held(): boolean {
    return this.depth > 0
  }

  /** `timeoutMs`: give up with ETIMEDOUT after this long (default: the handle's lock option). */
  acquire(timeoutMs?: number): void {
    if (this.depth > 0) {
      this.depth++
      return
    }
    if (Atomics.compareExchange(this.i32, LOCK, 0, this.word) !== 0) this.acquireContended(timeoutMs ?? this.options.timeoutMs)
    this.i32[OWNER_START] = this.identity.startTag
    this.i32[OWNER_THREAD] = this.identity.thread
    this.depth = 1
  }

  release(): void {
    if (this.depth === 0) throw new ShmError('EINVAL', `lock of ${this.target} released while not held`, { target: this.target })
    if (--this.depth > 0) return
    this.i32[OWNER_START] = 0
    this.i32[OWNER_THREAD] = 0
    Atomics.store(this.i32, LOCK, 0)
    if (Atomics.load(this.i32, WAITERS) > 0) this.waiter.wake(LOCK, 1)
  }

  /** What the lock word says: free, or held by pid N. */
  static describe(i32: Int32Array): { held: false } | { held: true; pid: number } {
    const observed = Atomics.load(i32, LOCK)
    return observed === 0 ? { held: false } : { held: true, pid: observed & PID_MASK }
  }

  private acquireContended(timeoutMs: number | undefined): void {
    const i32 = this.i32
    for (let spin = 0; spin < 64; spin++) {
      if (Atomics.load(i32, LOCK) === 0 && Atomics.compareExchange(i32, LOCK, 0, this.word) === 0) return
    }
    const checkEvery = this.options.ownerCheckMs ?? 10
    const started = performance.now()
    let lastCheck = started
    let lastOwner = 0
    for (;;) {
      const observed = Atomics.load(i32, LOCK)
      if (observed === 0) {
        if (Atomics.compareExchange(i32, LOCK, 0, this.word) === 0) return
        continue
      }
      const now = performance.now()
      // Check on first sight of a new owner, then periodically: a dead owner is
      // found within one interval, a live one costs a syscall per interval.
      if (observed !== lastOwner || now - lastCheck >= checkEvery) {
        lastOwner = observed
        lastCheck = now
        if (this.ownerIsDead(observed) && Atomics.compareExchange(i32, LOCK, observed, this.word) === observed) {
          this.i32[OWNER_START] = this.identity.startTag
          this.i32[OWNER_THREAD] = this.identity.thread
          this.depth = 1
          try {
            this.recover()
          } finally {
            this.depth = 0
          }
          return
        }
      }
      if (timeoutMs !== undefined && now - started > timeoutMs) {
        throw new ShmError('ETIMEDOUT', `timed out after ${timeoutMs} ms waiting for the lock of ${this.target}, held by pid ${observed & PID_MASK}`, {
          target: this.target,
          details: { ownerPid: observed & PID_MASK },
        })
      }
      Atomics.add(i32, WAITERS, 1)
      try {
        this.waiter.wait(LOCK, observed, checkEvery)
      } finally {
        Atomics.sub(i32, WAITERS, 1)
      }
    }
  }

  private ownerIsDead(observed: number): boolean {
    const pid = observed & PID_MASK
    if (pid === PID_MASK) return false // an owner whose pid did not fit (maybe us): cannot be checked
    if (pid === this.identity.pid) {
      // Another thread of this process: alive as long as we are. This very
      // thread, though, is not waiting on itself: the word is left over (a
      // handle closed inside withLock, or corrupt bytes), and waiting would
      // be a deadlock. Owners clear the thread word before releasing, so a
      // stale read never shows our own thread.
      return (this.i32[OWNER_THREAD] ?? 0) === this.identity.thread
    }
    if (!this.identity.isAlive(pid)) return true
    if (this.identity.startTag === 0) return false // no start times on this platform
    const start = this.identity.startTagOf(pid)
    if (start === 'gone') return true
    if (start === 'unknown') return false // never declare an owner dead on a guess
    if ((start & TAG_MASK) !== observed >>> PID_BITS) return true
    const recorded = this.i32[OWNER_START] ?? 0
    return recorded !== 0 && recorded !== (start | 0)
  }
}
