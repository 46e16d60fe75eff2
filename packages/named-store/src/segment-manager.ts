import { RbTreeBestFit } from '@shmkit/allocator'
import { ShmError, invalidArgument } from '@shmkit/errors'
import {
  checkIndexHeader,
  HEADER_BYTES,
  JOURNAL_ENTRIES,
  MAX_SEGMENT_BYTES,
  SegmentHeader,
  readSegmentSize,
  writeHeader,
  validateHeader,
} from './segment/header.js'
import { UndoJournal } from './segment/journal.js'
import { checkGrowth, MIN_GROWTH_BYTES, regrowthAfterShrink } from './segment/growth.js'
import { SegmentLock, type LockOptions, type LockWaiter } from './segment/lock.js'
import { bufferWords, type WordWaiter } from './sync/word-waiter.js'
import { currentPid } from '@shmkit/ffi-shm'
import { claimOwner } from './segment/owner-claim.js'
import type { OwnerClaim } from './segment/owner.js'
import { claimForFormat, publishFormatted } from './segment/open-protocol.js'
import { enterWrite, INDEX_GENERATION, leaveWrite, ReadScope, settleAfterRecovery } from './segment/generations.js'
import { ReadProtocol, type ReadProtocolOptions } from './read/read-protocol.js'
import { FAILED, NOT_FOUND, ObjectLocator } from './read/object-locator.js'
import { cacheHash, hashName, RecordKind, type HashKey } from './index/name-hash.js'
import { NameTable, type TableHost } from './index/name-table.js'
import { publishRecord, recordBytesFor, typeNameBytes, writeRecord } from './index/record-writer.js'
import { arrayOf, checkLookupName, checkName, checkType, snapshotValid } from './segment/input-checks.js'
import { MAX_NAME_BYTES, Record } from './index/record.js'
import { RecordReader, type ObjectInfo } from './index/record-reader.js'
import { CACHE_SLOTS, FindCache } from './index/find-cache.js'
import { readSanity, readStats, type InspectionSource, type SegmentStats } from './inspection.js'
import { SegmentHeapImpl } from './containers/heap.js'
import { drainOutOfLine, releaseOutOfLine } from './containers/release.js'
import { assertFits, createSegmentMemory, type t, type SegmentMemory, type Type, type ViewOf } from './types/index.js'

export type { ObjectInfo } from './index/record-reader.js'
export type { SegmentStats } from './inspection.js'

const NUM_NAMED = SegmentHeader.NUM_NAMED >>> 2
const NUM_UNIQUE = SegmentHeader.NUM_UNIQUE >>> 2
const RECOVERIES = SegmentHeader.LOCK_RECOVERIES >>> 2
/** How many operations may pass between two checks of the mapped object's size. */
const SIZE_CHECK_EVERY = 1024

/** What a managed segment's mapping hands to the segment manager. */
export interface SegmentBacking {
  buffer: ArrayBuffer | SharedArrayBuffer
  readOnly: boolean
  /** How the segment is named in messages: `shared memory "x"`, `file "/p"`. */
  target: string
  /** How lockers block; ignored for read-only handles. */
  waiter: LockWaiter
  /** How the sync primitives in the segment block (by the buffer's kind when absent). */
  words?: WordWaiter
  /** Unmaps and closes whatever the backing holds. */
  release(): void
  /**
   * A descriptor of the segment's file, open as long as the backing: owners
   * are told apart by the kernel's byte-range locks on it (segment/owner.ts).
   */
  ownerFd?: number
  /**
   * True when no other thread or process can reach this memory (a heap
   * segment, a plain ArrayBuffer): every owner is then a handle of this
   * thread. Never set it for a mapping: others map the same pages.
   */
  threadLocal?: boolean
  /**
   * The size of the object behind the mapping now (fstat). Someone may truncate
   * a segment file underneath us, and touching pages past its end is SIGBUS.
   */
  currentSize?: () => number
  /** Reserves storage for a byte range of the object (posix_fallocate), so growth is ENOSPC rather than SIGBUS later. */
  reserve?: (offset: number, length: number) => void
}

/** Options every managed segment passes to its manager: the lock's behaviour and how often the size is checked. */
export interface SegmentManagerOptions {
  lock?: LockOptions
  /**
   * How often to compare the mapped object's size with the segment's (fstat,
   * ~1 µs): 'periodic' (default) every 1,024 operations and on every slow path;
   * 'every-operation' before each one (cached finds and getters included), so
   * an operation that starts after someone else truncated the file answers
   * ECORRUPT instead of touching a page past its end (SIGBUS). A truncation
   * that lands while an operation runs can still fault it: see README.
   */
  sizeCheck?: 'periodic' | 'every-operation'
  /**
   * Grow the segment by this many bytes (or what the allocation needs, if
   * more) when an allocation would fail, up to what this handle maps (the
   * `maxSize` given at create). Off by default: a full segment is ENOMEM.
   */
  growBy?: number
  /** How lock-free readers wait out writers (see ReadProtocol). */
  read?: ReadProtocolOptions
}

/**
 * The segment manager: one per open segment, whatever maps it. It owns the
 * header, the allocator over the rest of the segment, the name table and the
 * process-shared lock, and implements every managed-segment operation.
 *
 * Every mutation runs under the lock with the undo journal active, so it is
 * atomic across processes and against a crash, and moves the generations
 * (segment/generations.ts) that every lock-free reader validates against
 * (read/read-protocol.ts): `find`, `names` and the figures take no lock and
 * never return a value assembled from two states.
 */
export class SegmentManager {
  protected readonly mem: SegmentMemory
  readonly readOnly: boolean
  private readonly allocator: RbTreeBestFit
  private readonly journal: UndoJournal
  private readonly lock: SegmentLock | undefined
  /** This handle's owner token, given back on close. */
  private readonly owner: OwnerClaim
  private readonly table: NameTable
  private readonly records: RecordReader
  private readonly reader: ReadProtocol
  private readonly cache = new FindCache()
  /** What stats() and sanityReport() read. */
  private readonly inspection: InspectionSource
  /** The segment's name-hash key (header seed words, fixed at format). */
  private readonly hashKey: HashKey
  /** The lookup of one object's record, shared by every find (read/object-locator.ts). */
  private readonly locator: ObjectLocator
  private readonly backing: SegmentBacking
  private readonly dataStart: number
  /** The size last read from the header (kept for messages after close). */
  private segmentSize: number
  private readonly growBy: number | undefined
  private closed = false
  /** Set when the segment was found truncated: every later operation throws it. */
  private broken: ShmError | undefined
  /** Operations since the mapped object's size was last checked. */
  private sinceSizeCheck = 0
  private readonly sizeCheckEvery: number

  /** Formats a zero-filled buffer as an empty segment of `size` bytes. */
  static format(buffer: ArrayBuffer | SharedArrayBuffer, size: number, target: string): void {
    const i32 = new Int32Array(buffer, 0, HEADER_BYTES >>> 2)
    const u32 = new Uint32Array(buffer, 0, HEADER_BYTES >>> 2)
    if (!claimForFormat(i32)) {
      throw new ShmError('EEXIST', `${target} is already formatted (or being formatted by another process)`, { target })
    }
    writeHeader(u32, size, HEADER_BYTES, currentPid())
    RbTreeBestFit.format(buffer as ArrayBuffer, HEADER_BYTES, size - HEADER_BYTES)
    publishFormatted(i32)
  }

  constructor(backing: SegmentBacking, options: SegmentManagerOptions = {}) {
    this.backing = backing
    this.readOnly = backing.readOnly
    this.mem = createSegmentMemory(backing.buffer as ArrayBuffer, { readOnly: backing.readOnly, target: backing.target })
    this.mem.words = backing.words ?? bufferWords(backing.buffer)
    const u32 = this.mem.u32
    validateHeader(u32, backing.buffer.byteLength, backing.target)
    this.dataStart = u32[SegmentHeader.ALLOCATOR_OFFSET >>> 2] ?? HEADER_BYTES
    this.segmentSize = Math.min(readSegmentSize(u32), backing.buffer.byteLength)
    this.sizeCheckEvery = options.sizeCheck === 'every-operation' ? 1 : SIZE_CHECK_EVERY
    this.growBy = options.growBy
    this.journal = new UndoJournal(this.mem.u8, u32, JOURNAL_ENTRIES, backing.target)
    this.allocator = RbTreeBestFit.attach(backing.buffer as ArrayBuffer, this.dataStart, {
      writeWord: this.journal.writeWord.bind(this.journal),
    })
    const { claim, startTag } = claimOwner(
      {
        buffer: backing.buffer,
        readOnly: backing.readOnly,
        target: backing.target,
        threadLocal: backing.threadLocal === true,
        ...(backing.ownerFd === undefined ? {} : { fd: backing.ownerFd }),
      },
      this.mem.i32,
    )
    this.owner = claim
    this.mem.liveness = claim
    this.lock = backing.readOnly
      ? undefined
      : new SegmentLock(this.mem.i32, backing.waiter, claim, startTag, () => this.recoverFromDeadOwner(), backing.target, options.lock)
    const host: TableHost = {
      u8: this.mem.u8,
      u32,
      target: backing.target,
      writeWord: (offset, value) => this.writeWord(offset, value),
      allocateFresh: (bytes) => this.allocateFresh(bytes),
      deallocate: (offset) => this.allocator.deallocate(offset),
      get entryCount() {
        return (u32[NUM_NAMED] ?? 0) + (u32[NUM_UNIQUE] ?? 0)
      },
    }
    this.table = new NameTable(host)
    this.records = new RecordReader(
      this.mem,
      this.dataStart,
      () => this.liveSize(),
      backing.target,
      (record) => this.blockBytesAt(record),
    )
    this.locator = new ObjectLocator(this.mem, this.table, this.records, backing.target)
    this.reader = new ReadProtocol(this.mem, backing.target, this.lock, options.read)
    const manager = this
    this.inspection = {
      mem: this.mem,
      get size() {
        return manager.liveSize()
      },
      dataStart: this.dataStart,
      target: backing.target,
      allocator: this.allocator,
      journal: this.journal,
      table: this.table,
      records: this.records,
    }
    this.hashKey = { k0: u32[SegmentHeader.HASH_SEED_LO >>> 2] ?? 0, k1: u32[SegmentHeader.HASH_SEED_HI >>> 2] ?? 0 }
    this.mem.heap = new SegmentHeapImpl(this.lock, this.journal, this.allocator, backing.target, () => this.countOperation(), this.mem.i32)
  }

  // ---- named objects -------------------------------------------------------

  /** Constructs a named object; EEXIST if the name is taken. */
  construct<T extends Type>(name: string, type: T, init?: unknown): ViewOf<T> {
    this.assertWritable()
    const nameBytes = checkName(name)
    checkType(type)
    const value = snapshotValid(type, init)
    return this.mutateIndex(() => this.constructLocked(RecordKind.NAMED, name, nameBytes, type, value, 1, undefined)) as ViewOf<T>
  }

  /**
   * Constructs a named array of `count` elements. `init` is either one value
   * copied into every element, or an iterable with one value per element.
   */
  constructArray<T extends Type>(name: string, type: T, count: number, init?: unknown): ViewOf<ReturnType<typeof t.array<T>>> {
    this.assertWritable()
    const nameBytes = checkName(name)
    checkType(type)
    if (!Number.isSafeInteger(count) || count < 1 || count * type.size > 2 ** 32) {
      throw invalidArgument('count', count, `an integer from 1 to ${Math.floor(2 ** 32 / Math.max(type.size, 1))}`, {
        target: this.backing.target,
      })
    }
    const arrayType = arrayOf(type, count)
    // One value fills every element in place (never a JS array of `count` copies); an iterable is drained once.
    const value = snapshotValid(arrayType, init)
    return this.mutateIndex(() => this.constructLocked(RecordKind.NAMED, name, nameBytes, arrayType, value, count, type)) as ViewOf<
      ReturnType<typeof t.array<T>>
    >
  }

  /** The named object, or undefined; ETYPE if it was constructed with another type. */
  find<T extends Type>(name: string, type: T): ViewOf<T> | undefined {
    if (this.closed || this.broken !== undefined) throw this.closedError()
    checkLookupName(name)
    if (++this.sinceSizeCheck >= this.sizeCheckEvery) this.checkSize()
    const slot = cacheHash(name) & (CACHE_SLOTS - 1)
    const cached = this.cache.get(slot, name, type, Atomics.load(this.mem.i32, INDEX_GENERATION), this.mem)
    if (cached !== undefined) return cached as ViewOf<T>
    checkType(type)
    return this.findObject(name, RecordKind.NAMED, type, slot) as ViewOf<T> | undefined
  }

  /** The named array whatever its length, or undefined; ETYPE if its elements are another type. */
  findArray<T extends Type>(name: string, elementType: T): ViewOf<ReturnType<typeof t.array<T>>> | undefined {
    this.assertOpen()
    checkLookupName(name)
    checkType(elementType)
    this.countOperation()
    const hash = hashName(name, RecordKind.NAMED, this.hashKey)
    const offset = this.reader.read(ReadScope.INDEX, () => this.locator.locate(name, RecordKind.NAMED, hash, elementType, true))
    if (offset === NOT_FOUND) return undefined
    if (offset === FAILED) throw this.locator.error
    return arrayOf(elementType, this.locator.count).view(this.mem, offset) as ViewOf<ReturnType<typeof t.array<T>>>
  }

  /** The named object if it exists (of this type), else a new one: atomic across processes. */
  findOrConstruct<T extends Type>(name: string, type: T, init?: unknown): ViewOf<T> {
    const existing = this.find(name, type)
    if (existing !== undefined) return existing
    this.assertWritable()
    const nameBytes = checkName(name)
    const value = snapshotValid(type, init)
    return this.mutateIndex(() => {
      const offset = this.locator.locate(name, RecordKind.NAMED, hashName(name, RecordKind.NAMED, this.hashKey), type, false)
      if (offset === FAILED) throw this.locator.error
      if (offset !== NOT_FOUND) return type.view(this.mem, offset)
      return this.constructLocked(RecordKind.NAMED, name, nameBytes, type, value, 1, undefined)
    }) as ViewOf<T>
  }

  /** Destroys the named object and frees its memory; false if there was none. */
  destroy(name: string): boolean {
    this.assertWritable()
    checkLookupName(name)
    const hash = hashName(name, RecordKind.NAMED, this.hashKey)
    const destroyed = this.mutateIndex(() => {
      const slot = this.table.findSlot(name, RecordKind.NAMED, hash)
      if (slot < 0) return false
      const record = this.table.recordAt(slot)
      if (this.records.typeIsContainer(record)) return DRAIN_FIRST
      this.destroyAt(slot, record, RecordKind.NAMED)
      return true
    })
    if (destroyed !== DRAIN_FIRST) return destroyed
    // A container is emptied in bounded steps first, so the step that destroys it journals little however big it was.
    this.drainContainer(name, hash)
    return this.mutateIndex(() => this.destroyLocked(name, RecordKind.NAMED))
  }

  // ---- unique and anonymous objects ----------------------------------------

  /** Constructs the one instance of `type` (named by the type itself); EEXIST if it exists. */
  unique<T extends Type>(type: T, init?: unknown): ViewOf<T> {
    this.assertWritable()
    checkType(type)
    const value = snapshotValid(type, init)
    const nameBytes = this.uniqueName(type)
    return this.mutateIndex(() => this.constructLocked(RecordKind.UNIQUE, type.name, nameBytes, type, value, 1, undefined)) as ViewOf<T>
  }

  /** The unique instance of `type`, or undefined. */
  findUnique<T extends Type>(type: T): ViewOf<T> | undefined {
    this.assertOpen()
    checkType(type)
    this.countOperation()
    return this.findObject(type.name, RecordKind.UNIQUE, type, -1) as ViewOf<T> | undefined
  }

  /** Destroys the unique instance of `type`; false if there was none. */
  destroyUnique(type: Type): boolean {
    this.assertWritable()
    checkType(type)
    return this.mutateIndex(() => this.destroyLocked(type.name, RecordKind.UNIQUE))
  }

  /** Constructs an object with no name; reach it by its `offset`, free it with `destroyPtr`. */
  anonymous<T extends Type>(type: T, init?: unknown): ViewOf<T> {
    this.assertWritable()
    checkType(type)
    const value = snapshotValid(type, init)
    return this.mutate(() => this.constructLocked(RecordKind.ANONYMOUS, '', 0, type, value, 1, undefined)) as ViewOf<T>
  }

  /** Destroys an object (named, unique or anonymous) given its view or offset. */
  destroyPtr(target: number | { offset: number }): void {
    this.assertWritable()
    const offset = typeof target === 'number' ? target : target?.offset
    this.mutateIndex(() => {
      const record = this.recordOfObject(offset)
      const kind = this.records.kind(record)
      if (kind === RecordKind.ANONYMOUS) {
        if (this.records.typeOwnsHeap(record)) releaseOutOfLine(this.mem, this.records.typeName(record), offset as number)
        this.writeWord(record + Record.TAG, 0)
        this.allocator.deallocate(record)
        return
      }
      const name = this.records.name(record)
      if (!this.destroyLocked(name, kind as RecordKind)) {
        throw new ShmError('ECORRUPT', `${this.backing.target}: object at ${offset} names "${name}" but the index does not list it`, {
          target: this.backing.target,
        })
      }
    })
  }

  /** A view of `type` at `offset` (an offset another process handed over, or a `t.ptr` field's value). */
  at<T extends Type>(offset: number, type: T): ViewOf<T> {
    this.assertOpen()
    checkType(type)
    this.countOperation()
    const size = this.liveSize()
    if (!Number.isSafeInteger(offset) || offset < this.dataStart || offset + type.size > size) {
      throw invalidArgument('offset', offset, `an integer from ${this.dataStart} to ${size - type.size} (inside the segment's heap)`, {
        target: this.backing.target,
      })
    }
    assertFits(this.mem, offset, type)
    return type.view(this.mem, offset) as ViewOf<T>
  }

  // ---- raw memory ----------------------------------------------------------

  /** Allocates `bytes` of raw memory (aligned to `options.align`, default 16) and returns its offset; ENOMEM with the figures when it does not fit. */
  allocate(bytes: number, options?: { align?: number }): number {
    this.assertWritable()
    // The hottest mutation: spelled out rather than through mutate(), with no closure per call.
    this.countOperation()
    if (this.inOperation) throw this.nestedError()
    const lock = this.lock as SegmentLock
    lock.acquire()
    const journal = this.journal
    const i32 = this.mem.i32
    journal.begin()
    enterWrite(i32, false)
    try {
      let offset = this.allocator.tryAllocate(bytes, options)
      if (offset < 0 && this.growFor(bytes + (options?.align ?? 0))) offset = this.allocator.tryAllocate(bytes, options)
      if (offset < 0) this.allocator.allocate(bytes, options) // throws ENOMEM with the figures
      journal.commit()
      return offset
    } catch (e) {
      journal.rollback()
      throw this.withTargetError(e)
    } finally {
      leaveWrite(i32, false)
      lock.release()
    }
  }

  /**
   * Frees a block `allocate` returned. A block that holds a constructed object
   * is refused (EINVAL): the allocator marks those blocks in its own header,
   * so what the block's bytes say plays no part.
   */
  deallocate(offset: number): void {
    this.assertWritable()
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset)) {
      throw invalidArgument('offset', offset, 'the offset (a number) that allocate returned', { target: this.backing.target })
    }
    this.countOperation()
    if (this.inOperation) throw this.nestedError()
    const lock = this.lock as SegmentLock
    lock.acquire()
    const journal = this.journal
    const i32 = this.mem.i32
    journal.begin()
    enterWrite(i32, false)
    try {
      if (this.allocator.isMarked(offset)) {
        throw new ShmError('EINVAL', `invalid offset: ${offset} holds a constructed object; destroy it by name or with destroyPtr`, {
          target: this.backing.target,
        })
      }
      this.allocator.deallocate(offset)
      journal.commit()
    } catch (e) {
      journal.rollback()
      throw e
    } finally {
      leaveWrite(i32, false)
      lock.release()
    }
  }

  // ---- figures and checks --------------------------------------------------

  /**
   * The segment's size, read from the header (any process may have grown it)
   * and never more than this handle maps, whatever the header's word says.
   */
  get size(): number {
    if (this.closed) return this.segmentSize
    if (this.broken !== undefined) throw this.broken
    // A user's read counts as an operation: after a truncation the header page itself may be gone (SIGBUS).
    this.countOperation()
    return this.liveSize()
  }

  /** The size in the header now (it grows online), for checks inside operations that already counted themselves. */
  private liveSize(): number {
    if (this.closed) return this.segmentSize
    this.segmentSize = Math.min(readSegmentSize(this.mem.u32), this.backing.buffer.byteLength)
    return this.segmentSize
  }

  /**
   * Grows the segment by `extraBytes` (rounded down to 16) while other
   * processes keep working: the new bytes are reserved first (ENOSPC, with
   * nothing changed, when they do not fit), then the allocator's range and the
   * header's size move under the lock, journaled, so a crash mid-way leaves
   * the old size. Nothing is remapped: views stay valid, and every handle
   * sees the new size at its next operation. A handle can grow the segment up
   * to what it maps: the `maxSize` given at create (else grow it offline).
   * Returns the new size.
   */
  grow(extraBytes: number): number {
    this.assertWritable()
    this.countOperation() // before the header's size is read: a truncated file is ECORRUPT, not SIGBUS
    const limit = this.backing.buffer.byteLength
    const before = this.liveSize()
    // Reserved before taking the lock: tmpfs zeroes every new page, and the others must not wait for that.
    this.backing.reserve?.(before, checkGrowth(extraBytes, before, limit, this.backing.target))
    return this.mutate(() => {
      const size = readSegmentSize(this.mem.u32)
      const extra = checkGrowth(extraBytes, size, limit, this.backing.target)
      if (size !== before) this.backing.reserve?.(size, extra) // another handle grew it meanwhile
      this.growLocked(size, extra)
      return this.liveSize()
    })
  }

  /**
   * Drops the free tail of the segment (never below the smallest segment
   * size) and returns the new size. For the offline shrinkToFit, which then
   * truncates the object: with other processes still mapping it, those
   * pages would be gone under them.
   */
  protected shrinkRange(): number {
    this.assertWritable()
    return this.mutate(() => {
      this.allocator.shrinkToFit()
      const regrow = regrowthAfterShrink(this.dataStart + this.allocator.size)
      if (regrow > 0) this.allocator.grow(regrow)
      this.writeSize(this.dataStart + this.allocator.size)
      return this.liveSize()
    })
  }

  get freeMemory(): number {
    this.assertOpen()
    this.countOperation()
    return this.reader.read(ReadScope.ALLOCATOR, () => this.allocator.freeMemory)
  }

  get numNamedObjects(): number {
    this.assertOpen()
    this.countOperation()
    return this.reader.read(ReadScope.INDEX, () => this.mem.u32[NUM_NAMED] ?? 0)
  }

  get numUniqueObjects(): number {
    this.assertOpen()
    this.countOperation()
    return this.reader.read(ReadScope.INDEX, () => this.mem.u32[NUM_UNIQUE] ?? 0)
  }

  /** How often a dead lock owner's work was rolled back in this segment, by anyone. */
  get lockRecoveries(): number {
    this.assertOpen()
    this.countOperation()
    return this.mem.u32[RECOVERIES] ?? 0
  }

  /** Figures for tools: fill, fragmentation, lock state. Read without taking the lock, as one consistent snapshot. */
  stats(): SegmentStats {
    this.assertOpen()
    this.checkSize()
    const figures = this.reader.read(ReadScope.BOTH, () => readStats(this.inspection))
    return { ...figures, lock: SegmentLock.describe(this.mem.i32, this.owner), ownerMethod: this.owner.method }
  }

  /** A snapshot of the named objects. */
  names(): ObjectInfo[] {
    this.assertOpen()
    this.checkSize()
    return this.reader.read(ReadScope.INDEX, () => this.records.list(this.table.records(), RecordKind.NAMED))
  }

  /** True when no named, unique, anonymous object or raw allocation is left. */
  allMemoryDeallocated(): boolean {
    this.assertOpen()
    this.checkSize()
    return this.reader.read(ReadScope.ALLOCATOR, () => this.allocator.allMemoryDeallocated())
  }

  /** True when the header, the allocator and the index are all consistent. */
  checkSanity(): boolean {
    return this.sanityReport().ok
  }

  /** What checkSanity found wrong, for tools and messages. */
  sanityReport(): { ok: boolean; problems: string[] } {
    this.assertOpen()
    this.checkSize()
    return this.reader.read(ReadScope.BOTH, () => readSanity(this.inspection))
  }

  /**
   * Runs `fn` holding the segment lock: other processes' operations wait.
   * Operations on this handle inside `fn` nest; on another handle of the same
   * segment opened in this thread they fail with EDEADLK (they would wait
   * for this very thread).
   */
  withLock<R>(fn: (segment: this) => R): R {
    this.assertWritable()
    this.countOperation()
    if (this.inOperation) throw this.nestedError()
    const lock = this.lock as SegmentLock
    lock.acquire()
    try {
      return fn(this)
    } finally {
      // close() inside fn already let the lock go.
      if (!this.closed) lock.release()
    }
  }

  /**
   * Unmaps the segment and gives up this handle's owner token. Inside
   * `withLock` it releases the lock first (between two operations nothing is
   * half done), so no live process is left holding it; from inside an
   * operation (a callback into the segment) it is EBUSY.
   */
  close(): void {
    if (this.closed) return
    if (this.inOperation) throw this.nestedError()
    this.lock?.releaseAll()
    this.closed = true
    this.mem.closed = true
    this.cache.clear()
    this.owner.release()
    this.backing.release()
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close()
  }

  // ---- internals -----------------------------------------------------------

  /**
   * Runs `fn` as one operation: under the lock, journaled, rolled back if it
   * throws, with the allocator generation (and for a change to the name
   * table, `index`, the index generation) odd while it runs, so lock-free
   * readers retry instead of reading it half-made.
   */
  private mutate<R>(fn: () => R, index = false): R {
    this.countOperation()
    // A nested operation would share (and its commit would wipe) this one's journal.
    if (this.inOperation) throw this.nestedError()
    const lock = this.lock as SegmentLock
    lock.acquire()
    const i32 = this.mem.i32
    const journal = this.journal
    journal.begin()
    enterWrite(i32, index)
    try {
      // Read under the lock, before anything is written through them.
      if (index) this.checkIndexWords()
      const result = fn()
      journal.commit()
      return result
    } catch (e) {
      journal.rollback()
      throw e
    } finally {
      leaveWrite(i32, index)
      lock.release()
    }
  }

  /**
   * The header's name-table words, before an index operation writes through
   * them: in range (checkIndexHeader), and the table inside the live
   * allocator block that holds it — a table word pointing elsewhere would
   * have the operation write slots over other objects.
   */
  private checkIndexWords(): void {
    const u32 = this.mem.u32
    checkIndexHeader(u32, this.dataStart, this.liveSize(), this.backing.target)
    const table = u32[SegmentHeader.TABLE_OFFSET >> 2] ?? 0
    if (table === 0) return
    const bytes = (u32[SegmentHeader.TABLE_CAPACITY >> 2] ?? 0) * 8
    if (this.blockBytesAt(table) < bytes) {
      throw new ShmError(
        'ECORRUPT',
        `${this.backing.target} has a corrupt header: the name table at ${table} (${bytes} bytes) is not inside a live allocator block`,
        {
          target: this.backing.target,
        },
      )
    }
  }

  /**
   * Whether an operation of this handle is under way — the manager's own or a
   * container's (as while map.update's fn runs): its journal is open from
   * begin() to commit/rollback. A nested operation would share, and its
   * commit wipe, that journal.
   */
  private get inOperation(): boolean {
    return this.journal.active
  }

  private nestedError(): ShmError {
    return new ShmError(
      'EBUSY',
      `${this.backing.target}: an operation was called from inside another operation on the same handle (a callback into the segment); it was refused and nothing of it was applied`,
      {
        target: this.backing.target,
        hint: 'read everything the operation needs before calling it; use withLock to group operations',
      },
    )
  }

  private mutateIndex<R>(fn: () => R): R {
    return this.mutate(fn, true)
  }

  /**
   * Empties the container `name` (vector, map) in bounded atomic steps (each
   * its own journaled operation), under the lock throughout so nobody
   * destroys it between the lookup and the steps.
   */
  private drainContainer(name: string, hash: number): void {
    const lock = this.lock as SegmentLock
    lock.acquire()
    try {
      const slot = this.table.findSlot(name, RecordKind.NAMED, hash)
      if (slot < 0) return
      const record = this.table.recordAt(slot)
      const corruption = this.records.corruption(record, name)
      if (corruption !== undefined) throw corruption
      drainOutOfLine(this.mem, this.records.typeName(record), this.records.objectOffset(record))
    } finally {
      lock.release()
    }
  }

  /** Runs under the lock after a dead owner's lock was taken over. */
  private recoverFromDeadOwner(): void {
    this.journal.rollback()
    settleAfterRecovery(this.mem.i32)
    Atomics.add(this.mem.i32, RECOVERIES, 1)
    this.cache.clear()
  }

  private writeWord(offset: number, value: number): void {
    this.journal.writeWord(offset, value)
  }

  /**
   * Allocates a block the caller fills without journaling each write. The
   * allocator kept its free-tree node in the block's first bytes; a rollback
   * relinks that node, so those bytes are saved before the caller overwrites them.
   */
  private allocateFresh(bytes: number): number {
    let block = this.allocator.tryAllocate(bytes)
    if (block < 0 && this.growFor(bytes)) block = this.allocator.tryAllocate(bytes)
    if (block < 0) this.withTarget(() => this.allocator.allocate(bytes)) // throws ENOMEM with the figures
    const journal = this.journal
    for (let at = 0; at < FRESH_BLOCK_GUARD_BYTES; at += 4) journal.record(block + at, 4)
    return block
  }

  private withTarget<R>(fn: () => R): R {
    try {
      return fn()
    } catch (e) {
      throw this.withTargetError(e)
    }
  }

  /** Under the lock: the allocator's range and the header's size move by `extra` bytes, already reserved. */
  private growLocked(size: number, extra: number): void {
    this.allocator.grow(extra)
    this.writeSize(size + extra)
  }

  private writeSize(size: number): void {
    this.writeWord(SegmentHeader.SIZE_LO, size % 2 ** 32)
    this.writeWord(SegmentHeader.SIZE_HI, Math.floor(size / 2 ** 32))
  }

  /**
   * Under the lock, when an allocation of `bytes` failed: grows the segment
   * by `growBy` (or `bytes` and some, if more) within what this handle maps.
   * False when growth is off or there is no room; ENOSPC when the object's
   * file system is full (the operation rolls back).
   */
  private growFor(bytes: number): boolean {
    if (this.growBy === undefined) return false
    const size = readSegmentSize(this.mem.u32)
    const room = Math.min(this.backing.buffer.byteLength, MAX_SEGMENT_BYTES) - size
    let extra = Math.min(Math.max(this.growBy, bytes + 256), room)
    extra -= extra % 16
    if (extra < MIN_GROWTH_BYTES) return false
    this.backing.reserve?.(size, extra)
    this.growLocked(size, extra)
    return true
  }

  /** The allocator's ENOMEM, told which segment is full. */
  private withTargetError(e: unknown): unknown {
    if (e instanceof ShmError && e.code === 'ENOMEM' && e.target === undefined) {
      return new ShmError('ENOMEM', `${this.backing.target} is full: ${e.message}`, {
        target: this.backing.target,
        details: e.details,
        cause: e,
      })
    }
    return e
  }

  private constructLocked(
    kind: RecordKind,
    name: string,
    nameBytes: number,
    type: Type,
    init: unknown,
    count: number,
    elementType: Type | undefined,
  ): unknown {
    const hash = kind === RecordKind.ANONYMOUS ? 0 : hashName(name, kind, this.hashKey)
    if (kind !== RecordKind.ANONYMOUS && this.table.findSlot(name, kind, hash) >= 0) {
      throw new ShmError(
        'EEXIST',
        kind === RecordKind.UNIQUE
          ? `${this.backing.target} already holds the unique ${type.name}`
          : `${this.backing.target} already holds an object named "${name}"`,
        {
          target: this.backing.target,
        },
      )
    }
    const record = this.allocateFresh(recordBytesFor(nameBytes, type))
    // The allocator's own header says "an object lives here": deallocate and destroyPtr trust only that.
    this.allocator.mark(record, true)
    const offset = writeRecord(this.mem, record, hash, name, nameBytes, type, count, elementType)
    if (init !== undefined) type.store(this.mem, offset, init)
    publishRecord(this.mem, record, kind)
    if (kind !== RecordKind.ANONYMOUS) {
      this.table.insert(hash, record)
      const counter = kind === RecordKind.UNIQUE ? SegmentHeader.NUM_UNIQUE : SegmentHeader.NUM_NAMED
      this.writeWord(counter, (this.mem.u32[counter >>> 2] ?? 0) + 1)
    }
    return type.view(this.mem, offset)
  }

  private destroyLocked(name: string, kind: RecordKind): boolean {
    const slot = this.table.findSlot(name, kind, hashName(name, kind, this.hashKey))
    if (slot < 0) return false
    this.destroyAt(slot, this.table.recordAt(slot), kind)
    return true
  }

  /** Destroys the object whose record `record` sits in table slot `slot`. */
  private destroyAt(slot: number, record: number, kind: RecordKind): void {
    // Only a type that keeps data out of line has its name decoded (and parsed) to free it.
    if (this.records.typeOwnsHeap(record)) releaseOutOfLine(this.mem, this.records.typeName(record), this.records.objectOffset(record))
    this.table.removeAt(slot)
    const counter = kind === RecordKind.UNIQUE ? SegmentHeader.NUM_UNIQUE : SegmentHeader.NUM_NAMED
    this.writeWord(counter, (this.mem.u32[counter >>> 2] ?? 1) - 1)
    // Clear the tag so a stale view's record no longer passes for one.
    this.writeWord(record + Record.TAG, 0)
    this.allocator.deallocate(record)
  }

  /**
   * A validated lookup of one object (`cacheSlot` >= 0: cache it there). The
   * first attempt runs inline (no closure: the cache-miss path of find); a
   * torn or busy first attempt goes through the read protocol.
   */
  private findObject(name: string, kind: RecordKind, type: Type, cacheSlot: number): unknown {
    const hash = hashName(name, kind, this.hashKey)
    const i32 = this.mem.i32
    let generation = Atomics.load(i32, INDEX_GENERATION)
    let offset = NOT_FOUND
    let settled = false
    if ((generation & 1) === 0 && this.lock?.held !== true) {
      try {
        offset = this.locator.locate(name, kind, hash, type, false)
        settled = Atomics.load(i32, INDEX_GENERATION) === generation
      } catch (e) {
        if (Atomics.load(i32, INDEX_GENERATION) === generation) throw e
      }
    }
    if (!settled) {
      offset = this.reader.read(ReadScope.INDEX, () => this.locator.locate(name, kind, hash, type, false))
      generation = 1 // not cached: which generation the read saw is not known here
    }
    if (offset === NOT_FOUND) return undefined
    if (offset === FAILED) throw this.locator.error
    if (cacheSlot >= 0 && (generation & 1) === 0) this.cache.put(cacheSlot, name, type, generation, offset)
    return type.view(this.mem, offset)
  }

  /**
   * Compares the mapped object's size with the segment's (fstat): a segment
   * truncated underneath is refused with ECORRUPT (and its views closed)
   * instead of touching pages past the end of the file, which is SIGBUS.
   * Called before every operation with sizeCheck 'every-operation', else every
   * SIZE_CHECK_EVERY operations (countOperation) and on every slow path.
   */
  private checkSize(): void {
    this.sinceSizeCheck = 0
    const currentSize = this.backing.currentSize
    if (currentSize === undefined) return
    const now = currentSize()
    if (now >= this.segmentSize) return
    this.mem.closed = true
    this.broken = new ShmError(
      'ECORRUPT',
      `${this.backing.target} was truncated underneath this handle: ${now} bytes, the segment needs ${this.segmentSize}`,
      {
        target: this.backing.target,
        details: { size: now, needed: this.segmentSize },
        hint: 'something outside shmkit shrank the file or object; close this handle',
      },
    )
    throw this.broken
  }

  /** Counts an operation toward the periodic size check. */
  private countOperation(): void {
    if (++this.sinceSizeCheck >= this.sizeCheckEvery) this.checkSize()
  }

  /** The record of the object at `offset`: EINVAL unless a live object block starts it. */
  private recordOfObject(offset: unknown): number {
    const size = this.liveSize()
    if (
      typeof offset !== 'number' ||
      !Number.isSafeInteger(offset) ||
      offset < this.dataStart + Record.NAME ||
      offset >= size ||
      (offset & 15) !== 0
    ) {
      throw invalidArgument('offset', offset, `the offset of a constructed object (16-aligned, from ${this.dataStart} to ${size})`, {
        target: this.backing.target,
      })
    }
    const record = this.mem.u32[(offset - 4) >>> 2] ?? 0
    if (this.records.problem(record) !== undefined || this.records.objectOffset(record) !== offset || !this.isObjectBlock(record)) {
      throw invalidArgument('offset', offset, 'the offset of a constructed object (none starts there)', { target: this.backing.target })
    }
    return record
  }

  /** Usable bytes of the live allocator block at `offset`, or -1 where none starts. */
  private blockBytesAt(offset: number): number {
    try {
      return this.allocator.sizeOf(offset)
    } catch {
      return -1
    }
  }

  /** Whether the allocator's header marks `record`'s block as holding an object. */
  private isObjectBlock(record: number): boolean {
    try {
      return this.allocator.isMarked(record)
    } catch {
      return false
    }
  }

  private uniqueName(type: Type): number {
    const bytes = typeNameBytes(type).length
    if (bytes > MAX_NAME_BYTES)
      throw invalidArgument('type', type.name, `a type whose name is at most ${MAX_NAME_BYTES} bytes to be unique`)
    return bytes
  }

  private assertOpen(): void {
    if (this.closed || this.broken !== undefined) throw this.closedError()
  }

  private assertWritable(): void {
    this.assertOpen()
    if (this.readOnly) {
      throw new ShmError('EREADONLY', `${this.backing.target} was opened read-only`, {
        target: this.backing.target,
        hint: 'open it without { readOnly: true } to change it',
      })
    }
  }

  private closedError(): ShmError {
    if (this.broken !== undefined && !this.closed) return this.broken
    return new ShmError('ECLOSED', `${this.backing.target} is closed`, { target: this.backing.target })
  }
}

/** Bytes of a fresh block where the allocator kept its free-tree links (parent, left, right, colour). */
const FRESH_BLOCK_GUARD_BYTES = 16
/** destroy's first step found a container: nothing was changed, it is drained before it is destroyed. */
const DRAIN_FIRST = 2
