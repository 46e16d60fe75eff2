import { ShmError } from '@shmkit/errors'
import type { RbTreeBestFit } from '@shmkit/allocator'
import type { UndoJournal } from '../segment/journal.js'
import type { SegmentLock } from '../segment/lock.js'
import { enterWrite, leaveWrite } from '../segment/generations.js'
import type { SegmentMemory } from '../types/memory.js'

/**
 * What a container needs from its segment: atomic, journaled operations under
 * the segment lock, and the allocator. Every container mutation runs inside
 * `mutate`, so it is atomic across processes and against a SIGKILL exactly
 * as construct/destroy are: the next locker rolls a dead writer's journal back.
 */
export interface SegmentHeap {
  readonly target: string
  /** False for read-only handles: they never lock, and read through the seqlock alone. */
  readonly canLock: boolean
  /** True while this handle holds the lock (inside an operation or `withLock`). */
  readonly holdsLock: boolean
  /** Journal entries still free in the running operation: loops that free many blocks stop early and continue in a new step. */
  readonly journalRoom: number
  /** Runs `fn` as one journaled operation under the lock; a nested call joins the running one. */
  mutate<R>(fn: () => R): R
  /** Runs `fn` holding the lock, not journaled (a reader that gave up on the lock-free path). */
  locked<R>(fn: () => R): R
  /** A fresh block of at least `bytes` (16-aligned) whose contents the caller writes unjournaled. ENOMEM with the figures. */
  allocate(bytes: number): number
  /** Frees a block (journaled). */
  free(offset: number): void
  /** Usable bytes of a live block. */
  blockSize(offset: number): number
  /** Stores a metadata word, journaling its old value first. */
  writeWord(offset: number, value: number): void
  /** Journals `length` bytes at `offset` before the caller overwrites them. */
  record(offset: number, length: number): void
  /** Journals that a rollback moves the word at `offset` forward to a fresh even value (a container's generation). */
  recordAdvance(offset: number): void
  /** Whether the running operation already journaled an advance of `offset` (recordAdvance). */
  advances(offset: number): boolean
}

/** Bytes of a fresh block where the allocator kept its free-tree links: a rollback relinks them. */
const FRESH_BLOCK_GUARD_BYTES = 16

/** The heap of one open segment; built by the segment manager. */
export class SegmentHeapImpl implements SegmentHeap {
  readonly canLock: boolean
  constructor(
    private readonly lock: SegmentLock | undefined,
    private readonly journal: UndoJournal,
    private readonly allocator: RbTreeBestFit,
    readonly target: string,
    /** The manager's size check (a file truncated underneath is ECORRUPT, not SIGBUS). */
    private readonly beforeOperation: () => void,
    /** The segment's header words: every allocator change moves the allocator generation (segment/generations.ts). */
    private readonly header: Int32Array,
  ) {
    this.canLock = lock !== undefined
  }

  get journalRoom(): number {
    return this.journal.room
  }

  get holdsLock(): boolean {
    return this.lock?.held === true
  }

  mutate<R>(fn: () => R): R {
    const lock = this.lock
    if (lock === undefined)
      throw new ShmError('EREADONLY', `${this.target} was opened read-only: its objects cannot be written`, { target: this.target })
    const journal = this.journal
    if (lock.held && journal.active) return fn()
    this.beforeOperation()
    lock.acquire()
    journal.begin()
    enterWrite(this.header, false)
    try {
      const result = fn()
      journal.commit()
      return result
    } catch (e) {
      journal.rollback()
      throw e
    } finally {
      leaveWrite(this.header, false)
      lock.release()
    }
  }

  locked<R>(fn: () => R): R {
    const lock = this.lock
    if (lock === undefined) throw new ShmError('EREADONLY', `${this.target} was opened read-only: it cannot lock`, { target: this.target })
    lock.acquire()
    try {
      return fn()
    } finally {
      lock.release()
    }
  }

  allocate(bytes: number): number {
    const block = this.allocator.tryAllocate(bytes)
    if (block < 0) {
      try {
        this.allocator.allocate(bytes)
      } catch (e) {
        if (e instanceof ShmError && e.code === 'ENOMEM') {
          throw new ShmError('ENOMEM', `${this.target} is full: ${e.message}`, { target: this.target, details: e.details, cause: e })
        }
        throw e
      }
    }
    for (let at = 0; at < FRESH_BLOCK_GUARD_BYTES; at += 4) this.journal.record(block + at, 4)
    return block
  }

  free(offset: number): void {
    this.allocator.deallocate(offset)
  }

  blockSize(offset: number): number {
    return this.allocator.sizeOf(offset)
  }

  writeWord(offset: number, value: number): void {
    this.journal.writeWord(offset, value)
  }

  record(offset: number, length: number): void {
    this.journal.record(offset, length)
  }

  advances(offset: number): boolean {
    return this.journal.advances(offset)
  }

  recordAdvance(offset: number): void {
    this.journal.recordAdvance(offset)
  }
}

/** The heap behind `mem`; EINVAL over bare memory (no allocator to put the data in). */
export function heapOf(mem: SegmentMemory, typeName: string): SegmentHeap {
  const heap = mem.heap
  if (heap === undefined) {
    throw new ShmError(
      'EINVAL',
      `${typeName} keeps its data out of line: it lives only in a managed segment (construct it there), not over bare memory`,
      { target: mem.target },
    )
  }
  return heap
}
