import { ShmError } from '@shmkit/errors'
import type { OwnerLiveness, OwnerState } from '../segment/owner.js'
import { checkWrite, closedError, type SegmentMemory } from '../types/memory.js'
import { livenessOf } from './fallback-liveness.js'
import { handleIdOf, type LockStatus } from './mutex.js'
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

// Words of a rwlock (256 bytes).
const STATE = 0 // 0: free; else a writer's token, | PENDING while it waits for readers to leave, | WAITERS when someone may sleep on it
const HANDLE = 1 // the writer's handle (see mutex.ts): tells handles sharing a token apart
const CONSISTENCY = 2 // CONSISTENT, INCONSISTENT (a writer died holding it) or NOT_RECOVERABLE
const READERS_SEQ = 3 // moved by every reader slot released or reclaimed, | SLEEPERS when someone may sleep on it
const FIRST_SLOT = 4 // then RWLOCK_READERS slots: 0, or the token of a shared holder (one slot per shared hold)
/** How many shared holds a `t.rwlock` has room for at once: the next shared locker waits for a slot. */
export const RWLOCK_READERS = 60
/** Bytes a `t.rwlock` occupies in a segment (64 32-bit words: 4 of state, 60 reader slots). */
export const RWLOCK_BYTES = 256

const TOKEN_MASK = 0x00ffffff
const WAITERS = 0x40000000
/** The writer holds STATE but readers are still in: it has not got the lock yet (its death leaves nothing to repair). */
const PENDING = 0x20000000
const SLEEPERS = 0x40000000
const SEQ_MASK = 0x3fffffff
const CONSISTENT = 0
const INCONSISTENT = 1
const NOT_RECOVERABLE = 2
const SPINS = 100
/** First owner-liveness check after this long asleep, then at most every RECHECK_MS. */
const FIRST_CHECK_MS = 2
const ALL = 0x7fffffff

const localFallback = new LocalWords()

/**
 * The reader slots each handle holds, by rwlock offset: which slot is whose
 * cannot be read from the segment (tokens are per handle or per process, not
 * per view), and two views of one rwlock are different objects.
 */
const sharedHolds = new WeakMap<SegmentMemory, Map<number, number[]>>()

/** A snapshot of a rwlock for tools and toJSON. */
export interface RwLockSnapshot {
  /** Whether a writer holds it (one still waiting for readers to leave does not). */
  locked: boolean
  /** The writer's token (0 when no writer holds it). */
  owner: number
  /** How many reader slots are taken: the shared holds. */
  readers: number
  consistent: boolean
  recoverable: boolean
}

function snapshot(mem: SegmentMemory, offset: number): RwLockSnapshot {
  if (mem.closed) throw closedError(mem)
  const i = offset >> 2
  const state = Atomics.load(mem.i32, i + STATE)
  const held = state !== 0 && (state & PENDING) === 0
  const consistency = Atomics.load(mem.i32, i + CONSISTENCY)
  return {
    locked: held,
    owner: held ? state & TOKEN_MASK : 0,
    readers: countReaders(mem, i),
    consistent: consistency === CONSISTENT,
    recoverable: consistency !== NOT_RECOVERABLE,
  }
}

function countReaders(mem: SegmentMemory, index: number): number {
  let n = 0
  for (let k = 0; k < RWLOCK_READERS; k++) if (Atomics.load(mem.i32, index + FIRST_SLOT + k) !== 0) n++
  return n
}

/** Where a waiter sleeps next (a word, the value it must still hold, how long at most). */
interface Sleep {
  byteOffset: number
  expected: number
  timeoutMs: number
}

/** One way to the lock, driven by a sync or an async loop: a status, a sleep, or undefined (look again now). */
interface Attempt {
  next(): LockStatus | Sleep | undefined
  /** Gives back what the attempt holds (a writer's STATE) when it ends in an error. */
  abandon(): void
}

/**
 * A process-shared, robust reader/writer lock in a segment (Boost's
 * `interprocess_sharable_mutex`): one writer (`lock`) or up to
 * RWLOCK_READERS shared holders (`lockShared`) at a time. The writer word
 * holds the writer's token, as a mutex does; each shared hold is a slot
 * holding the reader's token. A writer takes the writer word first, which
 * keeps new readers out (writer-preferring), then waits for the slots to
 * empty; a reader takes a slot, then looks at the writer word again and
 * gives the slot back if a writer came in between. Dead holders are found
 * through the segment's owner liveness (only 'dead' is acted on: a stopped
 * or slow holder is waited for): a dead reader's slot is simply freed, a
 * dead writer's lock is taken over with 'owner-died' and stays inconsistent
 * until an exclusive holder calls `markConsistent()`.
 */
export class RwLock {
  /** @internal */
  readonly index: number
  private readonly handle: number
  constructor(
    readonly mem: SegmentMemory,
    readonly offset: number,
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
    return `rwlock at offset ${this.offset} of ${this.mem.target}`
  }

  // ---- exclusive -------------------------------------------------------------

  /** Locks exclusively, blocking this thread; with `timeoutMs`, ETIMEDOUT if it could not. */
  lock(options?: WaitOptions): LockStatus {
    checkWrite(this.mem)
    // Options are checked before the fast path, so bad ones fail whether or not the lock is free.
    const parsed = options === undefined ? {} : parseWaitOptions(options, this.mem.target)
    const token = this.liveness.token
    this.refuseRelock(token)
    const holding = Atomics.compareExchange(this.mem.i32, this.index + STATE, 0, token | PENDING) === 0
    if (holding && this.noReaders()) return this.acquired()
    return this.runSync(this.writer(token, parsed, holding, SPINS, true))
  }

  /** Locks exclusively without blocking the event loop; `signal` aborts the wait (EABORTED), `timeoutMs` ends it (ETIMEDOUT). */
  async lockAsync(options?: AsyncWaitOptions): Promise<LockStatus> {
    checkWrite(this.mem)
    // Options are checked before the fast path, so bad ones fail whether or not the lock is free.
    const parsed = options === undefined ? {} : parseAsyncWaitOptions(options, this.mem.target)
    const token = this.liveness.token
    this.refuseRelock(token)
    const holding = Atomics.compareExchange(this.mem.i32, this.index + STATE, 0, token | PENDING) === 0
    if (holding && this.noReaders()) return this.acquired()
    return this.runAsync(this.writer(token, parsed, holding, 0, false), parsed.signal)
  }

  /** Locks exclusively if no one holds it (a dead writer's lock is taken over, dead readers' slots freed); false otherwise. */
  tryLock(): LockStatus | false {
    checkWrite(this.mem)
    const token = this.liveness.token
    if (this.holdsShared()) return false
    // Readers in: false without touching the writer word (no needless wake-ups of waiting readers).
    if (!this.noReaders() && !(this.reclaimDead(token) && this.noReaders())) return false
    const i32 = this.mem.i32
    const at = this.index + STATE
    if (Atomics.compareExchange(i32, at, 0, token | PENDING) !== 0) {
      const observed = Atomics.load(i32, at)
      if (this.isMine(observed, token)) return false
      if (observed === 0) {
        if (Atomics.compareExchange(i32, at, 0, token | PENDING) !== 0) return false
      } else if (!this.writerTakeOver(observed, token)) return false
    }
    if (this.noReaders()) return this.acquired()
    // A reader came in between: give the writer word back.
    this.releaseState(false)
    return false
  }

  /** Unlocks an exclusive hold; EPERM unless this thread holds it so. */
  unlock(): void {
    if (this.mem.closed) throw closedError(this.mem)
    const i32 = this.mem.i32
    if (!this.isMine(Atomics.load(i32, this.index + STATE), this.liveness.token)) throw this.notOwner('unlock')
    // Unlocked before the data was repaired: no one can trust it again (pthread's rule).
    const unrecoverable = Atomics.load(i32, this.index + CONSISTENCY) === INCONSISTENT
    if (unrecoverable) Atomics.store(i32, this.index + CONSISTENCY, NOT_RECOVERABLE)
    this.releaseState(unrecoverable)
  }

  /** Says the data a dead writer left is repaired: call it holding the lock exclusively after 'owner-died'. */
  markConsistent(): void {
    checkWrite(this.mem)
    if (!this.heldByMe) throw this.notOwner('markConsistent')
    const i32 = this.mem.i32
    if (Atomics.load(i32, this.index + CONSISTENCY) === NOT_RECOVERABLE) throw this.notRecoverable()
    Atomics.store(i32, this.index + CONSISTENCY, CONSISTENT)
  }

  /** Locks exclusively and returns a guard that unlocks when disposed: `using g = rw.guard()`. */
  guard(options?: WaitOptions): RwLockGuard {
    return new RwLockGuard(this, this.lock(options))
  }

  /** lockAsync, then a guard: `using g = await rw.guardAsync()`. */
  async guardAsync(options?: AsyncWaitOptions): Promise<RwLockGuard> {
    return new RwLockGuard(this, await this.lockAsync(options))
  }

  // ---- shared ----------------------------------------------------------------

  /**
   * Locks shared, blocking this thread while a writer holds it (or waits for
   * readers to leave) or every reader slot is taken; with `timeoutMs`,
   * ETIMEDOUT if it could not. 'owner-died' while the data a dead writer left
   * is not repaired yet (readers cannot repair it: a writer must). A handle
   * that holds it shared already takes another slot without waiting for writers.
   */
  lockShared(options?: WaitOptions): LockStatus {
    checkWrite(this.mem)
    // Options are checked before the fast path, so bad ones fail whether or not the lock is free.
    const parsed = options === undefined ? {} : parseWaitOptions(options, this.mem.target)
    const token = this.liveness.token
    const entered = this.enterShared(token)
    if (typeof entered === 'string') return entered
    return this.runSync(this.reader(token, parsed, SPINS, true))
  }

  /** Locks shared without blocking the event loop; `signal` aborts the wait (EABORTED), `timeoutMs` ends it (ETIMEDOUT). */
  async lockSharedAsync(options?: AsyncWaitOptions): Promise<LockStatus> {
    checkWrite(this.mem)
    // Options are checked before the fast path, so bad ones fail whether or not the lock is free.
    const parsed = options === undefined ? {} : parseAsyncWaitOptions(options, this.mem.target)
    const token = this.liveness.token
    const entered = this.enterShared(token)
    if (typeof entered === 'string') return entered
    return this.runAsync(this.reader(token, parsed, 0, false), parsed.signal)
  }

  /** Locks shared if no writer holds it and a slot is free (dead holders are cleared first); false otherwise. */
  tryLockShared(): LockStatus | false {
    checkWrite(this.mem)
    const token = this.liveness.token
    const entered = this.enterShared(token)
    if (typeof entered === 'string') return entered
    const step = entered === 0 ? this.readerTakeOver(token) : this.reclaimDead(token)
    if (typeof step === 'string') return step
    if (!step) return false
    const again = this.enterShared(token)
    return typeof again === 'string' ? again : false
  }

  /** Gives back one shared hold of this handle; EPERM when it holds none. */
  unlockShared(): void {
    if (this.mem.closed) throw closedError(this.mem)
    const token = this.liveness.token
    const byOffset = sharedHolds.get(this.mem)
    const slots = byOffset?.get(this.offset)
    while (slots !== undefined && slots.length > 0) {
      const slot = slots.pop() as number
      if (slots.length === 0) byOffset?.delete(this.offset)
      // A slot no longer ours was cleared under us (this handle read as dead, or the rwlock was constructed again).
      if (Atomics.compareExchange(this.mem.i32, this.index + FIRST_SLOT + slot, token, 0) === token) {
        this.bumpReaders()
        return
      }
    }
    throw this.notOwner('unlockShared')
  }

  /** Locks shared and returns a guard that unlocks (shared) when disposed: `using g = rw.sharedGuard()`. */
  sharedGuard(options?: WaitOptions): RwLockSharedGuard {
    return new RwLockSharedGuard(this, this.lockShared(options))
  }

  /** lockSharedAsync, then a guard: `using g = await rw.sharedGuardAsync()`. */
  async sharedGuardAsync(options?: AsyncWaitOptions): Promise<RwLockSharedGuard> {
    return new RwLockSharedGuard(this, await this.lockSharedAsync(options))
  }

  // ---- state -----------------------------------------------------------------

  /** True when this thread holds it exclusively. */
  get heldByMe(): boolean {
    if (this.mem.closed) throw closedError(this.mem)
    return this.isMine(Atomics.load(this.mem.i32, this.index + STATE), this.liveness.token)
  }

  /** Whether a writer holds it now (a snapshot). */
  get locked(): boolean {
    if (this.mem.closed) throw closedError(this.mem)
    const state = Atomics.load(this.mem.i32, this.index + STATE)
    return state !== 0 && (state & PENDING) === 0
  }

  /** How many shared holds there are now (a snapshot: the taken reader slots). */
  get readers(): number {
    if (this.mem.closed) throw closedError(this.mem)
    return countReaders(this.mem, this.index)
  }

  /** False between an owner-died acquisition and markConsistent() (and for good once not recoverable). */
  get consistent(): boolean {
    if (this.mem.closed) throw closedError(this.mem)
    return Atomics.load(this.mem.i32, this.index + CONSISTENCY) === CONSISTENT
  }

  /** A snapshot of the rwlock's state. */
  toJSON(): RwLockSnapshot {
    return snapshot(this.mem, this.offset)
  }

  // ---- drivers ---------------------------------------------------------------

  private runSync(attempt: Attempt): LockStatus {
    try {
      for (;;) {
        const next = attempt.next()
        if (next === undefined) continue
        if (typeof next === 'string') return next
        this.words.wait(next.byteOffset, next.expected, next.timeoutMs)
      }
    } catch (error) {
      attempt.abandon()
      throw error
    }
  }

  private async runAsync(attempt: Attempt, signal: AbortSignal | undefined): Promise<LockStatus> {
    try {
      for (;;) {
        checkWrite(this.mem)
        const next = attempt.next()
        if (next === undefined) continue
        if (typeof next === 'string') return next
        const waitOptions: { timeoutMs: number; signal?: AbortSignal } = { timeoutMs: next.timeoutMs }
        if (signal !== undefined) waitOptions.signal = signal
        await this.words.waitAsync(next.byteOffset, next.expected, waitOptions)
      }
    } catch (error) {
      attempt.abandon()
      throw error
    }
  }

  /**
   * A writer's way in: the writer word (as a mutex: WAITERS, a dead owner
   * taken over), then the readers out (dead ones' slots freed). `holding`:
   * the fast path took the writer word already. `forever` checks (blocking
   * waits with no timeout) refuse waits this very thread could never see end.
   */
  private writer(token: number, parsed: WaitOptions, holding: boolean, spins: number, blocking: boolean): Attempt {
    const deadline = deadlineOf(parsed)
    const forever = blocking && deadline === Infinity
    const stateAt = this.index + STATE
    const seqAt = this.index + READERS_SEQ
    let contended = false
    let refusedReaders = false
    let spinsLeft = spins
    let checkAfter = performance.now() + FIRST_CHECK_MS
    const enterDrain = (): undefined => {
      holding = true
      spinsLeft = spins
      checkAfter = performance.now() + FIRST_CHECK_MS
      return undefined
    }
    return {
      next: () => {
        const i32 = this.mem.i32
        if (!holding) {
          const observed = Atomics.load(i32, stateAt)
          if (observed === 0) {
            // Keep WAITERS once contended: others may sleep on the word.
            if (Atomics.compareExchange(i32, stateAt, 0, token | PENDING | (contended ? WAITERS : 0)) !== 0) return undefined
            return enterDrain()
          }
          if (!contended) {
            contended = true
            this.refuseStateWait(observed, forever)
          }
          if (spinsLeft > 0) {
            spinsLeft--
            return undefined
          }
          const now = performance.now()
          if (now >= checkAfter) {
            checkAfter = now + RECHECK_MS
            if (this.writerTakeOver(observed, token)) return enterDrain()
          }
          if (now >= deadline) throw this.timeout(parsed.timeoutMs, observed)
          if ((observed & WAITERS) === 0 && Atomics.compareExchange(i32, stateAt, observed, observed | WAITERS) !== observed)
            return undefined
          return { byteOffset: this.offset, expected: observed | WAITERS, timeoutMs: Math.max(0, Math.min(deadline, checkAfter) - now) }
        }
        // Holding the writer word: new readers stay out; wait for those in to leave.
        const seq = Atomics.load(i32, seqAt)
        if (this.noReaders()) {
          holding = false
          return this.acquired()
        }
        if (!refusedReaders) {
          refusedReaders = true
          if (forever) this.refuseReadersWait()
        }
        if (spinsLeft > 0) {
          spinsLeft--
          return undefined
        }
        const now = performance.now()
        if (now >= checkAfter) {
          checkAfter = now + RECHECK_MS
          if (this.reclaimDead(token)) return undefined
        }
        if (now >= deadline) throw this.readersTimeout(parsed.timeoutMs)
        if ((seq & SLEEPERS) === 0 && Atomics.compareExchange(i32, seqAt, seq, seq | SLEEPERS) !== seq) return undefined
        return {
          byteOffset: this.offset + 4 * READERS_SEQ,
          expected: seq | SLEEPERS,
          timeoutMs: Math.max(0, Math.min(deadline, checkAfter) - now),
        }
      },
      abandon: () => {
        // A timeout, an abort or a refusal while waiting for readers: the writer word goes back, so readers can enter again.
        if (!holding || this.mem.closed) return
        holding = false
        this.releaseState(false)
      },
    }
  }

  /** A reader's way in: sleep on the writer word while a writer is there, on the readers' sequence while every slot is taken. */
  private reader(token: number, parsed: WaitOptions, spins: number, blocking: boolean): Attempt {
    const deadline = deadlineOf(parsed)
    const stateAt = this.index + STATE
    const seqAt = this.index + READERS_SEQ
    let refused = false
    let spinsLeft = spins
    let checkAfter = performance.now() + FIRST_CHECK_MS
    return {
      next: () => {
        const i32 = this.mem.i32
        // The sequence is read before looking at the slots: a slot freed after this moves it, and the sleep below ends.
        const seq = Atomics.load(i32, seqAt)
        const entered = this.enterShared(token)
        if (typeof entered === 'string') return entered
        if (!refused) {
          refused = true
          this.refuseSharedWait(entered, token, blocking && deadline === Infinity)
        }
        if (spinsLeft > 0) {
          spinsLeft--
          return undefined
        }
        const now = performance.now()
        if (now >= checkAfter) {
          checkAfter = now + RECHECK_MS
          const step = entered === 0 ? this.readerTakeOver(token) : this.reclaimDead(token)
          if (typeof step === 'string') return step
          if (step) return undefined
        }
        if (entered === 0) {
          const observed = Atomics.load(i32, stateAt)
          if (observed === 0) return undefined
          if (now >= deadline) throw this.sharedTimeout(parsed.timeoutMs, observed)
          if ((observed & WAITERS) === 0 && Atomics.compareExchange(i32, stateAt, observed, observed | WAITERS) !== observed)
            return undefined
          return { byteOffset: this.offset, expected: observed | WAITERS, timeoutMs: Math.max(0, Math.min(deadline, checkAfter) - now) }
        }
        if (now >= deadline) throw this.sharedTimeout(parsed.timeoutMs, 0)
        if ((seq & SLEEPERS) === 0 && Atomics.compareExchange(i32, seqAt, seq, seq | SLEEPERS) !== seq) return undefined
        return {
          byteOffset: this.offset + 4 * READERS_SEQ,
          expected: seq | SLEEPERS,
          timeoutMs: Math.max(0, Math.min(deadline, checkAfter) - now),
        }
      },
      abandon: () => {},
    }
  }

  // ---- internals -------------------------------------------------------------

  private isMine(observed: number, token: number): boolean {
    return (
      observed !== 0 &&
      (observed & PENDING) === 0 &&
      (observed & TOKEN_MASK) === token &&
      Atomics.load(this.mem.i32, this.index + HANDLE) === this.handle
    )
  }

  /** Whether this handle holds this rwlock shared (JS-side bookkeeping: see sharedHolds). */
  private holdsShared(): boolean {
    return (sharedHolds.get(this.mem)?.get(this.offset)?.length ?? 0) > 0
  }

  private noReaders(): boolean {
    const i32 = this.mem.i32
    for (let k = 0; k < RWLOCK_READERS; k++) if (Atomics.load(i32, this.index + FIRST_SLOT + k) !== 0) return false
    return true
  }

  /**
   * One try at a shared hold: a status when held; 0 when a writer holds the
   * writer word; 1 when every slot is taken. The slot is taken first and the
   * writer word read after it, a writer does the opposite: of a reader and a
   * writer coming in at once, at least one sees the other (and the reader backs off).
   */
  private enterShared(token: number): LockStatus | 0 | 1 {
    const i32 = this.mem.i32
    // Already a reader: no writer can be past its wait for the readers to leave, so no need to look (nor to wait for one).
    const reentrant = this.holdsShared()
    if (!reentrant && Atomics.load(i32, this.index + STATE) !== 0) return 0
    const slot = this.claimSlot(token)
    if (slot < 0) return 1
    if (!reentrant && Atomics.load(i32, this.index + STATE) !== 0) {
      Atomics.store(i32, this.index + FIRST_SLOT + slot, 0)
      this.bumpReaders()
      return 0
    }
    return this.sharedAcquired(slot)
  }

  /** A free slot made this handle's (its index), or -1 when all are taken. */
  private claimSlot(token: number): number {
    const i32 = this.mem.i32
    const base = this.index + FIRST_SLOT
    const start = this.handle % RWLOCK_READERS
    for (let k = 0; k < RWLOCK_READERS; k++) {
      const slot = (start + k) % RWLOCK_READERS
      if (Atomics.load(i32, base + slot) === 0 && Atomics.compareExchange(i32, base + slot, 0, token) === 0) return slot
    }
    return -1
  }

  private sharedAcquired(slot: number): LockStatus {
    const consistency = Atomics.load(this.mem.i32, this.index + CONSISTENCY)
    if (consistency === NOT_RECOVERABLE) {
      Atomics.store(this.mem.i32, this.index + FIRST_SLOT + slot, 0)
      this.bumpReaders()
      throw this.notRecoverable()
    }
    let byOffset = sharedHolds.get(this.mem)
    if (byOffset === undefined) {
      byOffset = new Map()
      sharedHolds.set(this.mem, byOffset)
    }
    const slots = byOffset.get(this.offset)
    if (slots === undefined) byOffset.set(this.offset, [slot])
    else slots.push(slot)
    return consistency === INCONSISTENT ? 'owner-died' : 'acquired'
  }

  /** Moves the readers' sequence (clearing SLEEPERS) and wakes its sleepers if there may be any. */
  private bumpReaders(): void {
    const i32 = this.mem.i32
    const at = this.index + READERS_SEQ
    for (;;) {
      const seq = Atomics.load(i32, at)
      if (Atomics.compareExchange(i32, at, seq, (seq + 1) & SEQ_MASK) !== seq) continue
      if ((seq & SLEEPERS) !== 0) this.words.wake(this.offset + 4 * READERS_SEQ, ALL)
      return
    }
  }

  /** Frees the slots of dead readers (never of stopped or unknown ones); true when any was freed. */
  private reclaimDead(token: number): boolean {
    const i32 = this.mem.i32
    const base = this.index + FIRST_SLOT
    const states = new Map<number, OwnerState>()
    let freed = 0
    for (let k = 0; k < RWLOCK_READERS; k++) {
      const owner = Atomics.load(i32, base + k)
      if (owner === 0 || owner === token) continue
      let state = states.get(owner)
      if (state === undefined) {
        state = this.liveness.stateOf(owner)
        states.set(owner, state)
      }
      if (state === 'dead' && Atomics.compareExchange(i32, base + k, owner, 0) === owner) freed++
    }
    if (freed > 0) this.bumpReaders()
    return freed > 0
  }

  private markInconsistent(): void {
    // Never over NOT_RECOVERABLE: once unrecoverable, for good.
    Atomics.compareExchange(this.mem.i32, this.index + CONSISTENCY, CONSISTENT, INCONSISTENT)
  }

  /**
   * A writer meets a dead owner of the writer word: takes the word over
   * (true). A writer that died waiting for readers never had the lock:
   * nothing to repair. One that died holding it leaves the data suspect: the
   * word is taken as a full hold first, marked inconsistent, then pending,
   * so a death at any point in between still reads as a writer's death.
   */
  private writerTakeOver(observed: number, token: number): boolean {
    const owner = observed & TOKEN_MASK
    if (owner === token || this.liveness.stateOf(owner) !== 'dead') return false
    const i32 = this.mem.i32
    const at = this.index + STATE
    const waiters = observed & WAITERS
    if ((observed & PENDING) !== 0) return Atomics.compareExchange(i32, at, observed, token | PENDING | waiters) === observed
    if (Atomics.compareExchange(i32, at, observed, token | waiters) !== observed) return false
    this.markInconsistent()
    Atomics.or(i32, at, PENDING)
    return true
  }

  /**
   * A reader meets the writer word held: if its owner is dead, clears it (a
   * writer that died waiting for readers), or takes the lock over as a writer
   * would and turns it into a shared hold (one that died holding it: 'owner-died').
   * A status when it got a shared hold; true when the word changed (look again); false otherwise.
   */
  private readerTakeOver(token: number): LockStatus | boolean {
    const i32 = this.mem.i32
    const at = this.index + STATE
    const observed = Atomics.load(i32, at)
    if (observed === 0) return true
    const owner = observed & TOKEN_MASK
    if (owner === token || this.liveness.stateOf(owner) !== 'dead') return false
    if ((observed & PENDING) !== 0) {
      if (Atomics.compareExchange(i32, at, observed, 0) === observed && (observed & WAITERS) !== 0) this.words.wake(this.offset, ALL)
      return true
    }
    if (Atomics.compareExchange(i32, at, observed, token | (observed & WAITERS)) !== observed) return true
    this.markInconsistent()
    // Holding the writer word, no writer can come in: a slot taken now is a shared hold.
    let slot = this.claimSlot(token)
    if (slot < 0 && this.reclaimDead(token)) slot = this.claimSlot(token)
    this.releaseState(false)
    return slot < 0 ? true : this.sharedAcquired(slot)
  }

  private acquired(): LockStatus {
    const i32 = this.mem.i32
    Atomics.store(i32, this.index + HANDLE, this.handle)
    Atomics.and(i32, this.index + STATE, ~PENDING)
    const consistency = Atomics.load(i32, this.index + CONSISTENCY)
    if (consistency === NOT_RECOVERABLE) {
      this.releaseState(true)
      throw this.notRecoverable()
    }
    return consistency === INCONSISTENT ? 'owner-died' : 'acquired'
  }

  /** Frees the writer word and wakes everyone asleep on it: readers all come in at once. */
  private releaseState(wakeAll: boolean): void {
    const i32 = this.mem.i32
    Atomics.store(i32, this.index + HANDLE, 0)
    const previous = Atomics.exchange(i32, this.index + STATE, 0)
    if ((previous & WAITERS) !== 0 || wakeAll) this.words.wake(this.offset, ALL)
  }

  /** Locking exclusively again from a handle that holds it (either way) would wait for itself. */
  private refuseRelock(token: number): void {
    if (this.holdsShared()) {
      throw new ShmError(
        'EDEADLK',
        `${this.describeSelf()} is held shared by this handle: locking it exclusively would wait forever (unlockShared first)`,
        { target: this.mem.target },
      )
    }
    if (this.isMine(Atomics.load(this.mem.i32, this.index + STATE), token)) {
      throw new ShmError('EDEADLK', `${this.describeSelf()} is already held by this thread: locking it again would wait forever`, {
        target: this.mem.target,
      })
    }
  }

  /** A wait with no timeout on a writer word held by this very thread (another handle, or memory only it can change) would never end. */
  private refuseStateWait(observed: number, forever: boolean): void {
    if (!forever || observed === 0) return
    if (this.liveness.isHeldHere(observed & TOKEN_MASK)) {
      throw new ShmError('EDEADLK', `${this.describeSelf()} is held by another handle of this thread: waiting would never end`, {
        target: this.mem.target,
      })
    }
    if (this.words.kind === 'local') {
      throw new ShmError('EDEADLK', `${this.describeSelf()} is held, and only this thread can use its memory: waiting would never end`, {
        target: this.mem.target,
      })
    }
  }

  /** The same for a writer waiting for readers: one of them is this very thread. */
  private refuseReadersWait(): void {
    const i32 = this.mem.i32
    for (let k = 0; k < RWLOCK_READERS; k++) {
      const owner = Atomics.load(i32, this.index + FIRST_SLOT + k)
      if (owner === 0) continue
      if (this.words.kind === 'local' || this.liveness.isHeldHere(owner)) {
        throw new ShmError(
          'EDEADLK',
          `${this.describeSelf()} is held shared by ${this.words.kind === 'local' ? 'this thread' : 'another handle of this thread'}: waiting for it to leave would never end`,
          { target: this.mem.target },
        )
      }
    }
  }

  /** A reader that cannot enter: EDEADLK if this handle holds it exclusively, or (waiting forever) if only this thread could let it in. */
  private refuseSharedWait(entered: 0 | 1, token: number, forever: boolean): void {
    const i32 = this.mem.i32
    const observed = Atomics.load(i32, this.index + STATE)
    if (this.isMine(observed, token)) {
      throw new ShmError('EDEADLK', `${this.describeSelf()} is held exclusively by this thread: locking it shared would wait forever`, {
        target: this.mem.target,
      })
    }
    if (!forever) return
    if (entered === 0) return this.refuseStateWait(observed, true)
    for (let k = 0; k < RWLOCK_READERS; k++) {
      const owner = Atomics.load(i32, this.index + FIRST_SLOT + k)
      if (owner !== 0 && this.words.kind !== 'local' && !this.liveness.isHeldHere(owner)) return
    }
    throw new ShmError(
      'EDEADLK',
      `all ${RWLOCK_READERS} reader slots of the ${this.describeSelf()} are held by this thread: waiting for one would never end`,
      { target: this.mem.target },
    )
  }

  private timeout(timeoutMs: number | undefined, observed: number): ShmError {
    return timedOut(`the ${this.describeSelf()}, held by owner ${observed & TOKEN_MASK}`, timeoutMs, this.mem.target, {
      owner: observed & TOKEN_MASK,
    })
  }

  private readersTimeout(timeoutMs: number | undefined): ShmError {
    const readers = countReaders(this.mem, this.index)
    return timedOut(`the readers of the ${this.describeSelf()} to leave (${readers} still in)`, timeoutMs, this.mem.target, { readers })
  }

  private sharedTimeout(timeoutMs: number | undefined, observed: number): ShmError {
    if (observed === 0) {
      return timedOut(`a free reader slot of the ${this.describeSelf()} (all ${RWLOCK_READERS} taken)`, timeoutMs, this.mem.target, {
        readers: RWLOCK_READERS,
      })
    }
    return timedOut(`the ${this.describeSelf()}, held by writer ${observed & TOKEN_MASK}`, timeoutMs, this.mem.target, {
      owner: observed & TOKEN_MASK,
    })
  }

  private notOwner(what: string): ShmError {
    const how = what === 'unlockShared' ? 'hold it shared' : 'hold it exclusively'
    return new ShmError('EPERM', `cannot ${what} the ${this.describeSelf()}: this thread does not ${how}`, { target: this.mem.target })
  }

  private notRecoverable(): ShmError {
    return new ShmError(
      'ENOTRECOVERABLE',
      `the ${this.describeSelf()} is not recoverable: a writer died holding it and it was unlocked without markConsistent(); construct a new one`,
      { target: this.mem.target },
    )
  }
}

/**
 * An exclusive hold that unlocks when disposed (`using g = rw.guard()`);
 * says how it was acquired, and repairs with `markConsistent()` after a writer died.
 */
export class RwLockGuard extends HeldLock {
  constructor(
    readonly rwlock: RwLock,
    status: LockStatus,
  ) {
    super(status)
  }
  /** Says the data the dead writer left is repaired (see RwLock.markConsistent). */
  markConsistent(): void {
    this.rwlock.markConsistent()
  }
  protected release(): void {
    this.rwlock.unlock()
  }
}

/**
 * A shared hold that unlocks (shared) when disposed (`using g = rw.sharedGuard()`).
 * `ownerDied`: a dead writer's data is not repaired yet — a reader cannot repair it.
 */
export class RwLockSharedGuard extends HeldLock {
  constructor(
    readonly rwlock: RwLock,
    status: LockStatus,
  ) {
    super(status)
  }
  protected release(): void {
    this.rwlock.unlockShared()
  }
}

/** `t.rwlock`: a robust process-shared reader/writer lock (256 bytes, up to 60 shared holds at once). */
export const rwlockType = new SyncType<RwLock>('rwlock', RWLOCK_BYTES, (mem, offset) => new RwLock(mem, offset), snapshot)
