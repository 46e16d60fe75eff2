import type { LockWaiter } from '../segment/lock.js'
import type { OwnerProbe } from './owner-token.js'
import { MAX_SLEEP_MS, remainingMs } from './word-wait.js'

/** How a lock attempt ended: taken, taken from a dead owner (repair what it guards), or timed out. */
export type LockOutcome = 'acquired' | 'recovered' | 'timeout'

/** How often a blocked locker asks whether the owner still lives. */
const OWNER_CHECK_MS = 10

/**
 * A process-shared lock word holding its owner's token (0 when free), with a
 * waiter count beside it so an uncontended unlock makes no system call. A
 * locker that finds the owner dead takes the word over and is told so
 * ('recovered'), to rebuild what the lock guards.
 *
 * Queues and channels keep this lock rather than `t.mutex`: its two words sit
 * in the queue's own layout (a standalone queue is mapped without any
 * segment), and a recovery rebuilds the queue from its slots instead of
 * handing the caller an 'owner-died' state to repair.
 */
export class WordLock {
  constructor(
    private readonly i32: Int32Array,
    private readonly lockIndex: number,
    private readonly waitersIndex: number,
    private readonly waiter: LockWaiter,
    private readonly owner: OwnerProbe,
  ) {}

  /** Takes the lock, waiting until `deadline` (a performance.now() value). */
  acquire(deadline: number): LockOutcome {
    const i32 = this.i32
    if (Atomics.compareExchange(i32, this.lockIndex, 0, this.owner.token) === 0) return 'acquired'
    return this.acquireContended(deadline)
  }

  /** Takes the lock only if it is free (or its owner is dead). */
  tryAcquire(): LockOutcome | 'busy' {
    const observed = Atomics.compareExchange(this.i32, this.lockIndex, 0, this.owner.token)
    if (observed === 0) return 'acquired'
    if (
      this.owner.stateOf(observed) === 'dead' &&
      Atomics.compareExchange(this.i32, this.lockIndex, observed, this.owner.token) === observed
    )
      return 'recovered'
    return 'busy'
  }

  release(): void {
    Atomics.store(this.i32, this.lockIndex, 0)
    if (Atomics.load(this.i32, this.waitersIndex) > 0) this.waiter.wake(this.lockIndex, 1)
  }

  private acquireContended(deadline: number): LockOutcome {
    const i32 = this.i32
    const token = this.owner.token
    for (let spin = 0; spin < 200; spin++) {
      if (Atomics.load(i32, this.lockIndex) === 0 && Atomics.compareExchange(i32, this.lockIndex, 0, token) === 0) return 'acquired'
    }
    let lastOwner = 0
    let lastCheck = 0
    for (;;) {
      const observed = Atomics.load(i32, this.lockIndex)
      if (observed === 0) {
        if (Atomics.compareExchange(i32, this.lockIndex, 0, token) === 0) return 'acquired'
        continue
      }
      const now = performance.now()
      if (observed !== lastOwner || now - lastCheck >= OWNER_CHECK_MS) {
        lastOwner = observed
        lastCheck = now
        if (this.owner.stateOf(observed) === 'dead' && Atomics.compareExchange(i32, this.lockIndex, observed, token) === observed)
          return 'recovered'
      }
      const left = remainingMs(deadline)
      if (left <= 0) return 'timeout'
      Atomics.add(i32, this.waitersIndex, 1)
      try {
        this.waiter.wait(this.lockIndex, observed, Math.min(left, OWNER_CHECK_MS, MAX_SLEEP_MS))
      } finally {
        Atomics.sub(i32, this.waitersIndex, 1)
      }
    }
  }
}
