import { ShmError } from '@shmkit/errors'
import { ALLOCATOR_GENERATION, INDEX_GENERATION, ReadScope } from '../segment/generations.js'
import { SegmentHeader } from '../segment/header.js'
import { sleepMs } from '../segment/open-protocol.js'

/** The part of the segment lock a reader may fall back on (writable handles only). */
export interface ReaderLock {
  readonly held: boolean
  acquire(timeoutMs?: number): void
  release(): void
}

export interface ReadProtocolOptions {
  /**
   * ETIMEDOUT once the generation has not moved for this long while a writer
   * keeps it odd: that writer is stopped (SIGSTOP, a debugger) or died
   * mid-operation. A live writer's operations take microseconds. Default 2,000 ms.
   */
  stallMs?: number
  /**
   * ETIMEDOUT after this long without one consistent read, however busy the
   * writers are: the bound on any reader's wait. Default 30,000 ms.
   */
  maxWaitMs?: number
}

/** Optimistic attempts before a writable handle takes the lock instead. */
const ATTEMPTS_BEFORE_LOCK = 32
/** Attempts retried at once: a writer's operation usually ends within them. */
const SPIN_ATTEMPTS = 4
const LOCK_WORD = SegmentHeader.LOCK_WORD >> 2
/**
 * A generation odd while nobody holds the lock cannot come from a writer
 * (they make it odd only under the lock): seen unchanged this long, it is
 * corruption, answered ECORRUPT rather than waited on.
 */
const ORPHAN_ODD_MS = 20

/**
 * The one read protocol of every reader that takes no lock (find, findArray,
 * findUnique, names, stats, sanityReport, allMemoryDeallocated, the CLI): a
 * seqlock over the segment's generation words (segment/generations.ts).
 *
 * `read(scope, fn)` runs `fn` between two loads of the generations in
 * `scope`; it returns `fn`'s result only when they were even and unchanged
 * around it — a result that was true at one instant — and otherwise runs it
 * again, so everything `fn` returns must be read inside `fn`. An error `fn`
 * throws is believed only under the same condition (bytes read while a
 * writer moved them can look corrupt, or make a valid name look mistyped).
 *
 * While a writer keeps a generation odd, the reader waits for it (writers are
 * brief: spin, then sleep 50 µs doubling to 1 ms). A writable handle that
 * still fails after a few dozen attempts takes the lock (bounded by
 * `stallMs`), which always gets it through. A read-only handle cannot lock;
 * it answers ETIMEDOUT when the generation stops moving for `stallMs` (the
 * writer is stopped or dead, and only a writable handle can recover it) or
 * after `maxWaitMs` in all: never an unbounded wait, never a torn value.
 */
export class ReadProtocol {
  private readonly stallMs: number
  private readonly maxWaitMs: number

  constructor(
    private readonly memory: { readonly i32: Int32Array },
    private readonly target: string,
    private readonly lock: ReaderLock | undefined,
    options: ReadProtocolOptions = {},
  ) {
    this.stallMs = options.stallMs ?? 2000
    this.maxWaitMs = options.maxWaitMs ?? 30_000
  }

  read<R>(scope: ReadScope, fn: () => R): R {
    const lock = this.lock
    // Our own lock is held (inside withLock): no writer can be busy.
    if (lock?.held) return fn()
    const i32 = this.memory.i32
    const index = (scope & ReadScope.INDEX) !== 0
    const allocator = (scope & ReadScope.ALLOCATOR) !== 0
    let started = 0
    let lastIndex = 0
    let lastAllocator = 0
    let lastMove = 0
    let orphanSince = 0
    for (let attempt = 0; ; attempt++) {
      const beforeIndex = index ? Atomics.load(i32, INDEX_GENERATION) : 0
      const beforeAllocator = allocator ? Atomics.load(i32, ALLOCATOR_GENERATION) : 0
      if (((beforeIndex | beforeAllocator) & 1) === 0) {
        try {
          const result = fn()
          if (unchanged(i32, index, beforeIndex, allocator, beforeAllocator)) return result
        } catch (e) {
          if (unchanged(i32, index, beforeIndex, allocator, beforeAllocator)) throw e
        }
      }
      if (attempt < SPIN_ATTEMPTS) continue
      const now = performance.now()
      if (started === 0 || beforeIndex !== lastIndex || beforeAllocator !== lastAllocator) {
        if (started === 0) started = now
        lastIndex = beforeIndex
        lastAllocator = beforeAllocator
        lastMove = now
      }
      if (
        ((beforeIndex | beforeAllocator) & 1) !== 0 &&
        Atomics.load(i32, LOCK_WORD) === 0 &&
        unchanged(i32, index, beforeIndex, allocator, beforeAllocator)
      ) {
        if (orphanSince === 0) orphanSince = now
        else if (now - orphanSince > ORPHAN_ODD_MS) throw this.orphaned()
      } else orphanSince = 0
      if (lock !== undefined && attempt >= ATTEMPTS_BEFORE_LOCK) return this.readLocked(lock, fn)
      if (now - lastMove > this.stallMs) throw this.stalled(now - lastMove)
      if (now - started > this.maxWaitMs) throw this.starved(now - started, attempt)
      sleepMs(Math.min(0.05 * 2 ** Math.min(attempt - SPIN_ATTEMPTS, 5), 1))
    }
  }

  /** Under the lock nothing moves; the wait for it is bounded like an optimistic read. */
  private readLocked<R>(lock: ReaderLock, fn: () => R): R {
    try {
      lock.acquire(this.stallMs)
    } catch (e) {
      if (e instanceof ShmError && e.code === 'ETIMEDOUT') throw this.stalled(this.stallMs, e)
      throw e
    }
    try {
      return fn()
    } finally {
      lock.release()
    }
  }

  private stalled(ms: number, cause?: unknown): ShmError {
    return new ShmError(
      'ETIMEDOUT',
      `${this.target}: a writer has been stuck mid-operation for ${Math.round(ms)} ms (stopped, or died holding the lock); no consistent read was possible`,
      {
        target: this.target,
        details: { stalledMs: Math.round(ms) },
        hint:
          this.lock === undefined
            ? 'resume or end the stuck writer; a dead one is recovered by the next writable handle that locks'
            : 'resume or end the stuck writer',
        ...(cause === undefined ? {} : { cause }),
      },
    )
  }

  private orphaned(): ShmError {
    return new ShmError('ECORRUPT', `${this.target}: a generation word is odd (a write in progress) but nobody holds the lock`, {
      target: this.target,
      hint: 'the header is corrupt; the next write through a writable handle makes the generation even again',
    })
  }

  private starved(ms: number, attempts: number): ShmError {
    return new ShmError(
      'ETIMEDOUT',
      `${this.target}: writers changed the segment during every one of ${attempts} reads in ${Math.round(ms)} ms; no consistent read was possible`,
      {
        target: this.target,
        details: { waitedMs: Math.round(ms), attempts },
        hint: 'read from a writable handle (it falls back on the lock), or pause the writers',
      },
    )
  }
}

function unchanged(i32: Int32Array, index: boolean, beforeIndex: number, allocator: boolean, beforeAllocator: number): boolean {
  return (
    (!index || Atomics.load(i32, INDEX_GENERATION) === beforeIndex) &&
    (!allocator || Atomics.load(i32, ALLOCATOR_GENERATION) === beforeAllocator)
  )
}
