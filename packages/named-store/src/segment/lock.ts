import { ShmError } from '@shmkit/errors'
import { SegmentHeader } from './header.js'
import { isOwnerToken, thisThread, type OwnerLiveness, type OwnerState } from './owner.js'

const LOCK = SegmentHeader.LOCK_WORD >> 2
const OWNER_START = SegmentHeader.LOCK_OWNER_START >> 2
const WAITERS = SegmentHeader.LOCK_WAITERS >> 2
const OWNER_THREAD = SegmentHeader.LOCK_OWNER_THREAD >> 2

/** How a blocked locker sleeps until the word changes. */
export interface LockWaiter {
  /** Sleeps while the word at `index` (of the Int32Array) equals `expected`, at most `timeoutMs`. */
  wait(index: number, expected: number, timeoutMs: number): void
  wake(index: number, count: number): void
}

/** Options of the segment lock: how waiters check the owner and how long they wait. */
export interface LockOptions {
  /** How often a waiter checks whether the owner died. */
  ownerCheckMs?: number
  /** Give up with ETIMEDOUT after this long (default: wait as long as the owner lives). */
  timeoutMs?: number
}

/**
 * The process-shared segment lock. The word holds the owner handle's token
 * (see owner.ts), 0 when free. A waiter takes the lock over only when the
 * liveness says the owner is 'dead' — never on 'unknown', never from a
 * stopped (SIGSTOP) owner, whose kernel lock record is still there — and
 * then rolls its unfinished operation back (`recover`).
 *
 * The lock is recursive per handle: operations called from `withLock` nest.
 * A lock held by another handle of this very thread is EDEADLK, not a wait
 * (it could never end) and not a takeover (its owner is alive: it is us).
 */
export class SegmentLock {
  private depth = 0

  constructor(
    private readonly i32: Int32Array,
    private readonly waiter: LockWaiter,
    private readonly liveness: OwnerLiveness & { readonly method?: string },
    /** Stored beside the word for the pid method's reuse check; 0 for the others. */
    private readonly startTag: number,
    /** Runs under the lock after a dead owner's lock was taken over. */
    private readonly recover: () => void,
    private readonly target: string,
    private readonly options: LockOptions = {},
  ) {}

  get held(): boolean {
    return this.depth > 0
  }

  /** `timeoutMs`: give up with ETIMEDOUT after this long (default: the handle's lock option). */
  acquire(timeoutMs?: number): void {
    if (this.depth > 0) {
      this.depth++
      return
    }
    if (Atomics.compareExchange(this.i32, LOCK, 0, this.liveness.token) !== 0) this.acquireContended(timeoutMs ?? this.options.timeoutMs)
    this.i32[OWNER_START] = this.startTag
    this.i32[OWNER_THREAD] = thisThread
    this.depth = 1
  }

  release(): void {
    if (this.depth === 0) throw new ShmError('EINVAL', `lock of ${this.target} released while not held`, { target: this.target })
    if (--this.depth > 0) return
    this.unlock()
  }

  /** Lets go however deep the holds nest: the handle is closing. */
  releaseAll(): void {
    if (this.depth === 0) return
    this.depth = 0
    this.unlock()
  }

  private unlock(): void {
    this.i32[OWNER_START] = 0
    this.i32[OWNER_THREAD] = 0
    Atomics.store(this.i32, LOCK, 0)
    if (Atomics.load(this.i32, WAITERS) > 0) this.waiter.wake(LOCK, 1)
  }

  /** What the lock word says: free, or held by the handle with token `owner`. */
  static describe(
    i32: Int32Array,
    liveness: OwnerLiveness | undefined,
  ): { held: false } | { held: true; owner: number; state: OwnerState } {
    const observed = Atomics.load(i32, LOCK)
    if (observed === 0) return { held: false }
    return { held: true, owner: observed >>> 0, state: liveness?.stateOf(observed >>> 0) ?? (isOwnerToken(observed) ? 'unknown' : 'dead') }
  }

  private acquireContended(timeoutMs: number | undefined): void {
    const i32 = this.i32
    const token = this.liveness.token
    for (let spin = 0; spin < 64; spin++) {
      if (Atomics.load(i32, LOCK) === 0 && Atomics.compareExchange(i32, LOCK, 0, token) === 0) return
    }
    const checkEvery = this.options.ownerCheckMs ?? 10
    const started = performance.now()
    let lastCheck = started
    let lastOwner = 0
    for (;;) {
      const observed = Atomics.load(i32, LOCK)
      if (observed === 0) {
        if (Atomics.compareExchange(i32, LOCK, 0, token) === 0) return
        continue
      }
      if (this.liveness.isHeldHere(observed >>> 0)) throw this.selfDeadlock(observed >>> 0)
      const now = performance.now()
      // Check on first sight of a new owner, then periodically: a dead owner is
      // found within one interval, a live one costs a syscall per interval.
      if (observed !== lastOwner || now - lastCheck >= checkEvery) {
        lastOwner = observed
        lastCheck = now
        if (this.liveness.stateOf(observed >>> 0) === 'dead' && Atomics.compareExchange(i32, LOCK, observed, token) === observed) {
          this.i32[OWNER_START] = this.startTag
          this.i32[OWNER_THREAD] = thisThread
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
        throw new ShmError(
          'ETIMEDOUT',
          `timed out after ${timeoutMs} ms waiting for the lock of ${this.target}, held by ${this.liveness.method === 'pid' ? 'pid' : 'owner'} ${observed >>> 0}`,
          {
            target: this.target,
            details: { owner: observed >>> 0 },
          },
        )
      }
      Atomics.add(i32, WAITERS, 1)
      try {
        this.waiter.wait(LOCK, observed, checkEvery)
      } finally {
        Atomics.sub(i32, WAITERS, 1)
      }
    }
  }

  private selfDeadlock(owner: number): ShmError {
    return new ShmError(
      'EDEADLK',
      `the lock of ${this.target} is held by another handle opened in this same thread (owner ${owner}): waiting for it would never end`,
      {
        target: this.target,
        details: { owner },
        hint: 'use the handle that holds the lock (the one whose withLock is running), or do this after its withLock returns',
      },
    )
  }
}
