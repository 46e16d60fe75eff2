import { randomInt } from 'node:crypto'
import { ShmError } from '@shmkit/errors'
import type { OwnerLiveness } from '../segment/owner.js'
import { checkWrite, closedError, type SegmentMemory } from '../types/memory.js'
import { livenessOf } from './fallback-liveness.js'
import {
  deadlineOf,
  parseAsyncWaitOptions,
  parseWaitOptions,
  RECHECK_MS,
  timedOut,
  type AsyncWaitOptions,
  type WaitOptions,
} from './options.js'
import { HeldLock } from './held-lock.js'
import { SyncType } from './sync-type.js'
import { LocalWords, type WordWaiter } from './word-waiter.js'

/**
 * How a lock was acquired: 'acquired', or 'owner-died' — the previous owner
 * died holding it (or a previous taker did, before calling markConsistent):
 * the data it guards may be half-updated. Repair it, then `markConsistent()`;
 * unlocking without that makes the mutex unusable for good (ENOTRECOVERABLE),
 * as a robust pthread mutex does.
 */
export type LockStatus = 'acquired' | 'owner-died'

// Words of a mutex (16 bytes).
const STATE = 0 // 0: free; else the owner's token, | WAITERS when someone may sleep on it
const HANDLE = 1 // the owner's handle (a random number per SegmentMemory): tells handles sharing a token apart
const CONSISTENCY = 2 // CONSISTENT, INCONSISTENT (an owner died) or NOT_RECOVERABLE
const DEPTH = 3 // recursive mutexes: how many more times the owner locked it
/** Bytes a `t.mutex` occupies in a segment (four 32-bit words). */
export const MUTEX_BYTES = 16

const TOKEN_MASK = 0x00ffffff
const WAITERS = 0x40000000
const CONSISTENT = 0
const INCONSISTENT = 1
const NOT_RECOVERABLE = 2
const SPINS = 100
/** First owner-liveness check after this long asleep, then at most every RECHECK_MS. */
const FIRST_CHECK_MS = 2

const localFallback = new LocalWords()

const handleIds = new WeakMap<SegmentMemory, number>()
/** @internal A random id per handle (never 0): two handles, or two threads, that share an owner token still differ. */
export function handleIdOf(mem: SegmentMemory): number {
  let id = handleIds.get(mem)
  if (id === undefined) {
    id = randomInt(1, 2 ** 31)
    handleIds.set(mem, id)
  }
  return id
}

/** A snapshot of a mutex for tools and toJSON. */
export interface MutexSnapshot {
  locked: boolean
  /** The owner's token (0 when free). */
  owner: number
  consistent: boolean
  recoverable: boolean
}

function snapshot(mem: SegmentMemory, offset: number): MutexSnapshot {
  if (mem.closed) throw closedError(mem)
  const i = offset >> 2
  const state = Atomics.load(mem.i32, i + STATE)
  const consistency = Atomics.load(mem.i32, i + CONSISTENCY)
  return {
    locked: state !== 0,
    owner: state & TOKEN_MASK,
    consistent: consistency === CONSISTENT,
    recoverable: consistency !== NOT_RECOVERABLE,
  }
}

/**
 * A process-shared, robust mutex in a segment (Boost's `interprocess_mutex`,
 * a robust `pthread_mutex_t`). The uncontended path is one compare-and-swap
 * in JavaScript; contended lockers sleep on the word (futex, Atomics.wait, or
 * the async wait engine). The lock word holds the owner's token, so a waiter
 * asks the segment's owner liveness whether a holder died (never on a stopped
 * or slow one: only 'dead' is taken over) and takes the lock over.
 */
export class Mutex {
  /** @internal */
  readonly index: number
  private readonly handle: number
  constructor(
    readonly mem: SegmentMemory,
    readonly offset: number,
    readonly recursive = false,
  ) {
    this.index = offset >> 2
    this.handle = handleIdOf(mem)
  }

  private get words(): WordWaiter {
    return this.mem.words ?? localFallback
  }

  private get liveness(): OwnerLiveness {
    return livenessOf(this.mem)
  }

  private describeSelf(): string {
    return `${this.recursive ? 'recursive mutex' : 'mutex'} at offset ${this.offset} of ${this.mem.target}`
  }

  /** Locks, blocking this thread; with `timeoutMs`, ETIMEDOUT if it could not. */
  lock(options?: WaitOptions): LockStatus {
    checkWrite(this.mem)
    const i32 = this.mem.i32
    // Options are checked before the fast path, so bad ones fail whether or not the lock is free.
    const parsed = options === undefined ? {} : parseWaitOptions(options, this.mem.target)
    const token = this.liveness.token
    if (Atomics.compareExchange(i32, this.index + STATE, 0, token) === 0) return this.acquired(false)
    const deadline = deadlineOf(parsed)
    const again = this.relock(token, deadline === Infinity)
    if (again !== undefined) return again
    for (let spin = 0; spin < SPINS; spin++) {
      if (Atomics.load(i32, this.index + STATE) === 0 && Atomics.compareExchange(i32, this.index + STATE, 0, token) === 0)
        return this.acquired(false)
    }
    let checkAfter = performance.now() + FIRST_CHECK_MS
    for (;;) {
      const step = this.step(token, checkAfter)
      if (typeof step === 'string') return step
      if (step !== 0) checkAfter = performance.now() + RECHECK_MS
      const observed = Atomics.load(i32, this.index + STATE)
      if (observed === 0) continue
      const now = performance.now()
      if (now >= deadline) throw this.timeout(parsed.timeoutMs, observed)
      if ((observed & WAITERS) === 0 && Atomics.compareExchange(i32, this.index + STATE, observed, observed | WAITERS) !== observed)
        continue
      this.words.wait(this.offset, observed | WAITERS, Math.max(0, Math.min(deadline, checkAfter) - now))
    }
  }

  /** Locks without blocking the event loop; `signal` aborts the wait (EABORTED), `timeoutMs` ends it (ETIMEDOUT). */
  async lockAsync(options?: AsyncWaitOptions): Promise<LockStatus> {
    checkWrite(this.mem)
    const i32 = this.mem.i32
    // Options are checked before the fast path, so bad ones fail whether or not the lock is free.
    const parsed = options === undefined ? {} : parseAsyncWaitOptions(options, this.mem.target)
    const token = this.liveness.token
    if (Atomics.compareExchange(i32, this.index + STATE, 0, token) === 0) return this.acquired(false)
    const deadline = deadlineOf(parsed)
    const again = this.relock(token, false)
    if (again !== undefined) return again
    let checkAfter = performance.now() + FIRST_CHECK_MS
    for (;;) {
      checkWrite(this.mem)
      const step = this.step(token, checkAfter)
      if (typeof step === 'string') return step
      if (step !== 0) checkAfter = performance.now() + RECHECK_MS
      const observed = Atomics.load(i32, this.index + STATE)
      if (observed === 0) continue
      const now = performance.now()
      if (now >= deadline) throw this.timeout(parsed.timeoutMs, observed)
      if ((observed & WAITERS) === 0 && Atomics.compareExchange(i32, this.index + STATE, observed, observed | WAITERS) !== observed)
        continue
      const waitOptions: { timeoutMs: number; signal?: AbortSignal } = { timeoutMs: Math.max(0, Math.min(deadline, checkAfter) - now) }
      if (parsed.signal !== undefined) waitOptions.signal = parsed.signal
      await this.words.waitAsync(this.offset, observed | WAITERS, waitOptions)
    }
  }

  /** Locks if free (or already held by this thread, for a recursive mutex); false otherwise. A dead owner's lock is taken over. */
  tryLock(): LockStatus | false {
    checkWrite(this.mem)
    const i32 = this.mem.i32
    const token = this.liveness.token
    if (Atomics.compareExchange(i32, this.index + STATE, 0, token) === 0) return this.acquired(false)
    const observed = Atomics.load(i32, this.index + STATE)
    if (this.isMine(observed, token)) {
      if (this.recursive) return this.deeper()
      return false
    }
    if (observed === 0) return Atomics.compareExchange(i32, this.index + STATE, 0, token) === 0 ? this.acquired(false) : false
    return this.takeOverIfDead(observed, token) ?? false
  }

  /** Unlocks; EPERM unless this thread holds it. */
  unlock(): void {
    if (this.mem.closed) throw closedError(this.mem)
    const i32 = this.mem.i32
    const observed = Atomics.load(i32, this.index + STATE)
    if (!this.isMine(observed, this.liveness.token)) throw this.notOwner('unlock')
    if (this.recursive && (i32[this.index + DEPTH] ?? 0) > 0) {
      i32[this.index + DEPTH] = (i32[this.index + DEPTH] ?? 1) - 1
      return
    }
    // Unlocked before the data was repaired: no one can trust it again (pthread's rule).
    const unrecoverable = Atomics.load(i32, this.index + CONSISTENCY) === INCONSISTENT
    if (unrecoverable) Atomics.store(i32, this.index + CONSISTENCY, NOT_RECOVERABLE)
    this.release(unrecoverable)
  }

  /** @internal Releases for a condition wait: the consistency state stays as it is. */
  releaseForWait(): void {
    if (this.recursive && (this.mem.i32[this.index + DEPTH] ?? 0) > 0) {
      throw new ShmError('EINVAL', `cannot wait on a condition with ${this.describeSelf()} locked more than once`, {
        target: this.mem.target,
      })
    }
    this.release(false)
  }

  /** True when this thread holds it. */
  get heldByMe(): boolean {
    if (this.mem.closed) throw closedError(this.mem)
    return this.isMine(Atomics.load(this.mem.i32, this.index + STATE), this.liveness.token)
  }

  /** Whether anyone holds it now (a snapshot). */
  get locked(): boolean {
    if (this.mem.closed) throw closedError(this.mem)
    return Atomics.load(this.mem.i32, this.index + STATE) !== 0
  }

  /** False between an owner-died acquisition and markConsistent() (and for good once not recoverable). */
  get consistent(): boolean {
    if (this.mem.closed) throw closedError(this.mem)
    return Atomics.load(this.mem.i32, this.index + CONSISTENCY) === CONSISTENT
  }

  /** Says the data a dead owner left is repaired: call it holding the lock after 'owner-died'. */
  markConsistent(): void {
    checkWrite(this.mem)
    if (!this.heldByMe) throw this.notOwner('markConsistent')
    const i32 = this.mem.i32
    const state = Atomics.load(i32, this.index + CONSISTENCY)
    if (state === NOT_RECOVERABLE) throw this.notRecoverable()
    Atomics.store(i32, this.index + CONSISTENCY, CONSISTENT)
  }

  /** Locks and returns a guard that unlocks when disposed: `using g = m.guard()`. */
  guard(options?: WaitOptions): MutexGuard {
    return new MutexGuard(this, this.lock(options))
  }

  /** lockAsync, then a guard: `using g = await m.guardAsync()`. */
  async guardAsync(options?: AsyncWaitOptions): Promise<MutexGuard> {
    return new MutexGuard(this, await this.lockAsync(options))
  }

  /** A snapshot of the mutex's state. */
  toJSON(): MutexSnapshot {
    return snapshot(this.mem, this.offset)
  }

  // ---- internals -------------------------------------------------------------

  private isMine(observed: number, token: number): boolean {
    return observed !== 0 && (observed & TOKEN_MASK) === token && Atomics.load(this.mem.i32, this.index + HANDLE) === this.handle
  }

  /**
   * Already held by this handle: deeper for a recursive mutex, EDEADLK
   * otherwise; undefined when not ours. `forever`: a blocking wait with no
   * timeout, which this very thread could never see end.
   */
  private relock(token: number, forever: boolean): LockStatus | undefined {
    const observed = Atomics.load(this.mem.i32, this.index + STATE)
    if (this.isMine(observed, token)) {
      if (this.recursive) return this.deeper()
      throw new ShmError('EDEADLK', `${this.describeSelf()} is already held by this thread: locking it again would wait forever`, {
        target: this.mem.target,
      })
    }
    if (!forever) return undefined
    if (observed !== 0 && this.liveness.isHeldHere(observed & TOKEN_MASK)) {
      throw new ShmError('EDEADLK', `${this.describeSelf()} is held by another handle of this thread: waiting would never end`, {
        target: this.mem.target,
      })
    }
    if (observed !== 0 && this.words.kind === 'local') {
      throw new ShmError('EDEADLK', `${this.describeSelf()} is held, and only this thread can use its memory: waiting would never end`, {
        target: this.mem.target,
      })
    }
    return undefined
  }

  private deeper(): LockStatus {
    const i32 = this.mem.i32
    i32[this.index + DEPTH] = (i32[this.index + DEPTH] ?? 0) + 1
    return Atomics.load(i32, this.index + CONSISTENCY) === CONSISTENT ? 'acquired' : 'owner-died'
  }

  /**
   * One look at the lock: take it if free (keeping WAITERS: others may sleep),
   * or take it over if the owner is dead and the check is due. A status when
   * taken; 1 when a liveness check ran; 0 otherwise.
   */
  private step(token: number, checkAfter: number): LockStatus | 0 | 1 {
    const i32 = this.mem.i32
    const observed = Atomics.load(i32, this.index + STATE)
    if (observed === 0) {
      return Atomics.compareExchange(i32, this.index + STATE, 0, token | WAITERS) === 0 ? this.acquired(false) : 0
    }
    if (performance.now() < checkAfter) return 0
    return this.takeOverIfDead(observed, token) ?? 1
  }

  private takeOverIfDead(observed: number, token: number): LockStatus | undefined {
    const owner = observed & TOKEN_MASK
    if (owner === token || this.liveness.stateOf(owner) !== 'dead') return undefined
    if (Atomics.compareExchange(this.mem.i32, this.index + STATE, observed, token | (observed & WAITERS)) !== observed) return undefined
    return this.acquired(true)
  }

  private acquired(tookOver: boolean): LockStatus {
    const i32 = this.mem.i32
    // A plain store: HANDLE only tells apart handles that share the owner
    // token, and only the holder writes it; the CAS that took the lock (and
    // the exchange that releases it) order it. Atomics.store would be a
    // second locked instruction on every lock (measured: ~30 % of lock+unlock).
    i32[this.index + HANDLE] = this.handle
    i32[this.index + DEPTH] = 0
    const consistency = Atomics.load(i32, this.index + CONSISTENCY)
    if (consistency === NOT_RECOVERABLE) {
      this.release(true)
      throw this.notRecoverable()
    }
    if (tookOver) {
      Atomics.store(i32, this.index + CONSISTENCY, INCONSISTENT)
      return 'owner-died'
    }
    return consistency === INCONSISTENT ? 'owner-died' : 'acquired'
  }

  private release(wakeAll: boolean): void {
    const i32 = this.mem.i32
    i32[this.index + HANDLE] = 0 // plain, before the exchange that publishes the release (see acquired)
    const previous = Atomics.exchange(i32, this.index + STATE, 0)
    if ((previous & WAITERS) !== 0 || wakeAll) this.words.wake(this.offset, wakeAll ? 0x7fffffff : 1)
  }

  private timeout(timeoutMs: number | undefined, observed: number): ShmError {
    return timedOut(`the ${this.describeSelf()}, held by owner ${observed & TOKEN_MASK}`, timeoutMs, this.mem.target, {
      owner: observed & TOKEN_MASK,
    })
  }

  private notOwner(what: string): ShmError {
    return new ShmError('EPERM', `cannot ${what} the ${this.describeSelf()}: this thread does not hold it`, { target: this.mem.target })
  }

  private notRecoverable(): ShmError {
    return new ShmError(
      'ENOTRECOVERABLE',
      `the ${this.describeSelf()} is not recoverable: an owner died holding it and it was unlocked without markConsistent(); construct a new one`,
      { target: this.mem.target },
    )
  }
}

/**
 * A held lock that unlocks when disposed (`using g = m.guard()`); says how
 * it was acquired, and repairs with `markConsistent()` after an owner died.
 */
export class MutexGuard extends HeldLock {
  constructor(
    readonly mutex: Mutex,
    status: LockStatus,
  ) {
    super(status)
  }
  /** Says the data the dead owner left is repaired (see Mutex.markConsistent). */
  markConsistent(): void {
    this.mutex.markConsistent()
  }
  protected release(): void {
    this.mutex.unlock()
  }
}

/** `t.mutex`: a robust process-shared mutex (16 bytes). */
export const mutexType = new SyncType<Mutex>('mutex', MUTEX_BYTES, (mem, offset) => new Mutex(mem, offset), snapshot)
/** `t.recursiveMutex`: the same, lockable again by its owner (unlock as many times). */
export const recursiveMutexType = new SyncType<Mutex>(
  'recursive_mutex',
  MUTEX_BYTES,
  (mem, offset) => new Mutex(mem, offset, true),
  snapshot,
)
