import { RbTreeBestFit } from '@shmkit/allocator'
import { ShmError, invalidArgument } from '@shmkit/errors'
import { HEADER_BYTES, JOURNAL_ENTRIES, MAX_SEGMENT_BYTES, SegmentHeader, readSegmentSize, writeHeader, validateHeader } from './segment/header.js'
import { UndoJournal } from './segment/journal.js'
import { checkGrowth, MIN_GROWTH_BYTES, regrowthAfterShrink } from './segment/growth.js'
import { SegmentLock, type LockOptions, type LockWaiter } from './segment/lock.js'
import { processIdentity } from './segment/identity.js'
import { claimForFormat, publishFormatted, sleepMs } from './segment/open-protocol.js'
import { hashName, RecordKind } from './index/name-hash.js'
import { encodeName, NameTable, type TableHost } from './index/name-table.js'
import { FLAG_ARRAY, isRecordTag, MAX_NAME_BYTES, MAX_TYPE_NAME_BYTES, objectOffsetOf, Record, RECORD_MAGIC, recordBlockBytes } from './index/record.js'
import { SegmentHeapImpl } from './containers/heap.js'
import { drainOutOfLine, ownsHeapByName, releaseOutOfLine } from './containers/release.js'
import { assertFits, createSegmentMemory, t, validateInit, type SegmentMemory, type Type, type ViewOf } from './types/index.js'

const GEN = SegmentHeader.GENERATION >> 2
const NUM_NAMED = SegmentHeader.NUM_NAMED >> 2
const NUM_UNIQUE = SegmentHeader.NUM_UNIQUE >> 2
const RECOVERIES = SegmentHeader.LOCK_RECOVERIES >> 2
/** Lock-free lookups retry this often before taking the lock. */
const SEQLOCK_ATTEMPTS = 16
const CACHE_SLOTS = 256
/** How many operations may pass between two checks of the mapped object's size. */
const SIZE_CHECK_EVERY = 1024

/** One object of the segment, as `names()` lists it. */
export interface ObjectInfo {
  name: string
  /** The canonical name of the stored type, e.g. `struct{x:float64,y:float64}`. */
  type: string
  /** Element count: 1 for a single object, n for `constructArray`. */
  count: number
  /** Offset of the object in the segment (what `at` takes). */
  offset: number
  byteLength: number
}

/** What `stats()` reports. */
export interface SegmentStats {
  size: number
  used: number
  free: number
  numNamedObjects: number
  numUniqueObjects: number
  largestFreeBlock: number
  freeBlockCount: number
  /** Free blocks by size class: `count` blocks of at most `upTo` bytes (and more than the previous class). */
  freeBlockHistogram: { upTo: number; count: number }[]
  lock: { held: false } | { held: true; pid: number; alive: boolean }
  version: number
  recoveries: number
}

/** What a managed segment's mapping hands to the segment manager. */
export interface SegmentBacking {
  buffer: ArrayBuffer | SharedArrayBuffer
  readOnly: boolean
  /** How the segment is named in messages: `shared memory "x"`, `file "/p"`. */
  target: string
  /** How lockers block; ignored for read-only handles. */
  waiter: LockWaiter
  /** Unmaps and closes whatever the backing holds. */
  release(): void
  /**
   * The size of the object behind the mapping now (fstat). Someone may truncate
   * a segment file underneath us, and touching pages past its end is SIGBUS.
   */
  currentSize?: () => number
  /** Reserves storage for a byte range of the object (posix_fallocate), so growth is ENOSPC rather than SIGBUS later. */
  reserve?: (offset: number, length: number) => void
}

export interface SegmentManagerOptions {
  lock?: LockOptions
  /**
   * How often to compare the mapped object's size with the segment's (fstat,
   * ~1 µs): 'periodic' (default) every 1,024 operations and on every slow path;
   * 'every-operation' before each one, so a file truncated by someone else can
   * never turn an operation into SIGBUS.
   */
  sizeCheck?: 'periodic' | 'every-operation'
  /**
   * Grow the segment by this many bytes (or what the allocation needs, if
   * more) when an allocation would fail, up to what this handle maps (the
   * `maxSize` given at create). Off by default: a full segment is ENOMEM.
   */
  growBy?: number
}

/**
 * The segment manager: one per open segment, whatever maps it. It owns the
 * header, the allocator over the rest of the segment, the name table and the
 * process-shared lock, and implements every managed-segment operation.
 *
 * Every mutation runs under the lock with the undo journal active, so it is
 * atomic across processes and against a crash; the name table is also guarded
 * by a seqlock (the header's generation) so `find` needs no lock at all.
 */
export class SegmentManager {
  protected readonly mem: SegmentMemory
  readonly readOnly: boolean
  private readonly allocator: RbTreeBestFit
  private readonly journal: UndoJournal
  private readonly lock: SegmentLock | undefined
  private readonly table: NameTable
  /**
   * A small direct-mapped cache of recent finds, valid while the index's
   * generation is unchanged: a repeated `find` costs a hash and two compares.
   * A lookup caches the object's offset; the view is cached only when the same
   * name is found again. Caching every view made a sweep over many names pay
   * for promoting each one out of the young generation (measured: +150 ns a find).
   */
  private readonly cacheNames: (string | undefined)[] = new Array<string | undefined>(CACHE_SLOTS).fill(undefined)
  private readonly cacheTypes: (Type | undefined)[] = new Array<Type | undefined>(CACHE_SLOTS).fill(undefined)
  /** Generation the entry was read at; odd (never a settled generation) when empty. */
  private readonly cacheGenerations = new Int32Array(CACHE_SLOTS).fill(1)
  private readonly cacheOffsets = new Uint32Array(CACHE_SLOTS)
  private readonly cacheViews: unknown[] = new Array<unknown>(CACHE_SLOTS).fill(undefined)
  private readonly backing: SegmentBacking
  private readonly dataStart: number
  /** The size last read from the header (kept for messages after close). */
  private segmentSize: number
  private readonly growBy: number | undefined
  private closed = false
  /** Operations since the mapped object's size was last checked. */
  private sinceSizeCheck = 0
  private readonly sizeCheckEvery: number

  /** Formats a zero-filled buffer as an empty segment of `size` bytes. */
  static format(buffer: ArrayBuffer | SharedArrayBuffer, size: number, target: string): void {
    const i32 = new Int32Array(buffer, 0, HEADER_BYTES >> 2)
    const u32 = new Uint32Array(buffer, 0, HEADER_BYTES >> 2)
    if (!claimForFormat(i32)) {
      throw new ShmError('EEXIST', `${target} is already formatted (or being formatted by another process)`, { target })
    }
    writeHeader(u32, size, HEADER_BYTES, processIdentity().pid)
    RbTreeBestFit.format(buffer as ArrayBuffer, HEADER_BYTES, size - HEADER_BYTES)
    publishFormatted(i32)
  }

  constructor(backing: SegmentBacking, options: SegmentManagerOptions = {}) {
    this.backing = backing
    this.readOnly = backing.readOnly
    this.mem = createSegmentMemory(backing.buffer as ArrayBuffer, { readOnly: backing.readOnly, target: backing.target })
    const u32 = this.mem.u32
    validateHeader(u32, backing.buffer.byteLength, backing.target)
    this.dataStart = u32[SegmentHeader.ALLOCATOR_OFFSET >> 2] ?? HEADER_BYTES
    this.segmentSize = Math.min(readSegmentSize(u32), backing.buffer.byteLength)
    this.sizeCheckEvery = options.sizeCheck === 'every-operation' ? 1 : SIZE_CHECK_EVERY
    this.growBy = options.growBy
    this.journal = new UndoJournal(this.mem.u8, u32, JOURNAL_ENTRIES, backing.target)
    this.allocator = RbTreeBestFit.attach(backing.buffer as ArrayBuffer, this.dataStart, {
      writeWord: this.journal.writeWord.bind(this.journal),
    })
    this.lock = backing.readOnly
      ? undefined
      : new SegmentLock(this.mem.i32, backing.waiter, processIdentity(), () => this.recoverFromDeadOwner(), backing.target, options.lock)
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
    this.mem.heap = new SegmentHeapImpl(this.lock, this.journal, this.allocator, backing.target, () => this.checkNotTruncated())
  }

  // ---- named objects -------------------------------------------------------

  /** Constructs a named object; EEXIST if the name is taken. */
  construct<T extends Type>(name: string, type: T, init?: unknown): ViewOf<T> {
    this.assertWritable()
    const nameBytes = checkName(name)
    checkType(type)
    if (init !== undefined) validateInit(type, init, 'init')
    return this.mutateIndex(() => this.constructLocked(RecordKind.NAMED, name, nameBytes, type, init, 1, undefined)) as ViewOf<T>
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
      throw invalidArgument('count', count, `an integer from 1 to ${Math.floor(2 ** 32 / Math.max(type.size, 1))}`, { target: this.backing.target })
    }
    const arrayType = arrayOf(type, count)
    const value = init === undefined ? undefined : arrayInit(type, count, init)
    if (value !== undefined) validateInit(arrayType, value, 'init')
    return this.mutateIndex(() => this.constructLocked(RecordKind.NAMED, name, nameBytes, arrayType, value, count, type)) as ViewOf<ReturnType<typeof t.array<T>>>
  }

  /** The named object, or undefined; ETYPE if it was constructed with another type. */
  find<T extends Type>(name: string, type: T): ViewOf<T> | undefined {
    if (this.closed) throw this.closedError()
    checkLookupName(name)
    const hash = hashName(name, RecordKind.NAMED)
    const slot = hash & (CACHE_SLOTS - 1)
    if (this.cacheNames[slot] === name && this.cacheTypes[slot] === type && this.cacheGenerations[slot] === Atomics.load(this.mem.i32, GEN)) {
      let view = this.cacheViews[slot]
      if (view === undefined) this.cacheViews[slot] = view = type.view(this.mem, this.cacheOffsets[slot] ?? 0)
      return view as ViewOf<T>
    }
    checkType(type)
    return this.findRecord(name, RecordKind.NAMED, type, hash) as ViewOf<T> | undefined
  }

  /** The named array whatever its length, or undefined; ETYPE if its elements are another type. */
  findArray<T extends Type>(name: string, elementType: T): ViewOf<ReturnType<typeof t.array<T>>> | undefined {
    this.assertOpen()
    checkLookupName(name)
    checkType(elementType)
    const r = this.lookup(name, RecordKind.NAMED, hashName(name, RecordKind.NAMED))
    if (r === 0) return undefined
    const u32 = this.mem.u32
    const isArray = ((u32[(r + Record.FLAGS) >>> 2] ?? 0) & FLAG_ARRAY) !== 0
    if (!isArray || u32[(r + Record.ELEMENT_FP_LO) >>> 2] !== elementType.fingerprintLo || u32[(r + Record.ELEMENT_FP_HI) >>> 2] !== elementType.fingerprintHi) {
      throw this.typeMismatch(name, r, `array(${elementType.name},*)`)
    }
    const count = u32[(r + Record.COUNT) >>> 2] ?? 0
    const arrayType = arrayOf(elementType, count)
    const offset = this.objectOffset(r)
    assertFits(this.mem, offset, arrayType)
    return arrayType.view(this.mem, offset) as ViewOf<ReturnType<typeof t.array<T>>>
  }

  /** The named object if it exists (of this type), else a new one: atomic across processes. */
  findOrConstruct<T extends Type>(name: string, type: T, init?: unknown): ViewOf<T> {
    const existing = this.find(name, type)
    if (existing !== undefined) return existing
    this.assertWritable()
    const nameBytes = checkName(name)
    if (init !== undefined) validateInit(type, init, 'init')
    return this.mutateIndex(() => {
      const slot = this.table.findSlot(name, RecordKind.NAMED, hashName(name, RecordKind.NAMED))
      if (slot >= 0) return this.viewOfRecord(name, this.table.recordAt(slot), type)
      return this.constructLocked(RecordKind.NAMED, name, nameBytes, type, init, 1, undefined)
    }) as ViewOf<T>
  }

  /** Destroys the named object and frees its memory; false if there was none. */
  destroy(name: string): boolean {
    this.assertWritable()
    checkLookupName(name)
    this.drainBeforeDestroy(name)
    return this.mutateIndex(() => this.destroyLocked(name, RecordKind.NAMED))
  }

  // ---- unique and anonymous objects ----------------------------------------

  /** Constructs the one instance of `type` (named by the type itself); EEXIST if it exists. */
  unique<T extends Type>(type: T, init?: unknown): ViewOf<T> {
    this.assertWritable()
    checkType(type)
    if (init !== undefined) validateInit(type, init, 'init')
    const nameBytes = this.uniqueName(type)
    return this.mutateIndex(() => this.constructLocked(RecordKind.UNIQUE, type.name, nameBytes, type, init, 1, undefined)) as ViewOf<T>
  }

  findUnique<T extends Type>(type: T): ViewOf<T> | undefined {
    this.assertOpen()
    checkType(type)
    return this.findRecord(type.name, RecordKind.UNIQUE, type, -1) as ViewOf<T> | undefined
  }

  destroyUnique(type: Type): boolean {
    this.assertWritable()
    checkType(type)
    return this.mutateIndex(() => this.destroyLocked(type.name, RecordKind.UNIQUE))
  }

  /** Constructs an object with no name; reach it by its `offset`, free it with `destroyPtr`. */
  anonymous<T extends Type>(type: T, init?: unknown): ViewOf<T> {
    this.assertWritable()
    checkType(type)
    if (init !== undefined) validateInit(type, init, 'init')
    return this.mutate(() => this.constructLocked(RecordKind.ANONYMOUS, '', 0, type, init, 1, undefined)) as ViewOf<T>
  }

  /** Destroys an object (named, unique or anonymous) given its view or offset. */
  destroyPtr(target: number | { offset: number }): void {
    this.assertWritable()
    const offset = typeof target === 'number' ? target : target?.offset
    this.mutateIndex(() => {
      const record = this.recordOfObject(offset)
      const u32 = this.mem.u32
      const kind = (u32[(record + Record.TAG) >>> 2] ?? 0) - RECORD_MAGIC
      if (kind === RecordKind.ANONYMOUS) {
        releaseOutOfLine(this.mem, this.recordTypeName(record), offset as number)
        this.allocator.deallocate(record)
        return
      }
      const name = this.recordName(record)
      if (!this.destroyLocked(name, kind as RecordKind)) {
        throw new ShmError('ECORRUPT', `${this.backing.target}: object at ${offset} names "${name}" but the index does not list it`, { target: this.backing.target })
      }
    })
  }

  /** A view of `type` at `offset` (an offset another process handed over, or a `t.ptr` field's value). */
  at<T extends Type>(offset: number, type: T): ViewOf<T> {
    this.assertOpen()
    checkType(type)
    const size = this.size
    if (!Number.isSafeInteger(offset) || offset < this.dataStart || offset + type.size > size) {
      throw invalidArgument('offset', offset, `an integer from ${this.dataStart} to ${size - type.size} (inside the segment's heap)`, { target: this.backing.target })
    }
    assertFits(this.mem, offset, type)
    return type.view(this.mem, offset) as ViewOf<T>
  }

  // ---- raw memory ----------------------------------------------------------

  allocate(bytes: number, options?: { align?: number }): number {
    this.assertWritable()
    // The hottest mutation: spelled out rather than through mutate(), with no closure per call.
    this.checkNotTruncated()
    const lock = this.lock as SegmentLock
    lock.acquire()
    const journal = this.journal
    journal.begin()
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
      lock.release()
    }
  }

  deallocate(offset: number): void {
    this.assertWritable()
    const u32 = this.mem.u32
    if (Number.isSafeInteger(offset) && offset >= this.dataStart && offset + 4 <= u32.length * 4 && (offset & 3) === 0 && isRecordTag(u32[offset >>> 2] ?? 0)) {
      throw new ShmError('EINVAL', `invalid offset: ${offset} holds a constructed object; destroy it by name or with destroyPtr`, { target: this.backing.target })
    }
    this.checkNotTruncated()
    const lock = this.lock as SegmentLock
    lock.acquire()
    const journal = this.journal
    journal.begin()
    try {
      this.allocator.deallocate(offset)
      journal.commit()
    } catch (e) {
      journal.rollback()
      throw e
    } finally {
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
    return (this.segmentSize = Math.min(readSegmentSize(this.mem.u32), this.backing.buffer.byteLength))
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
    const limit = this.backing.buffer.byteLength
    const before = this.size
    // Reserved before taking the lock: tmpfs zeroes every new page, and the others must not wait for that.
    this.backing.reserve?.(before, checkGrowth(extraBytes, before, limit, this.backing.target))
    return this.mutate(() => {
      const size = readSegmentSize(this.mem.u32)
      const extra = checkGrowth(extraBytes, size, limit, this.backing.target)
      if (size !== before) this.backing.reserve?.(size, extra) // another handle grew it meanwhile
      this.growLocked(size, extra)
      return this.size
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
      return this.size
    })
  }

  get freeMemory(): number {
    this.assertOpen()
    return this.allocator.freeMemory
  }

  get numNamedObjects(): number {
    this.assertOpen()
    return this.mem.u32[NUM_NAMED] ?? 0
  }

  get numUniqueObjects(): number {
    this.assertOpen()
    return this.mem.u32[NUM_UNIQUE] ?? 0
  }

  /** How often a dead lock owner's work was rolled back in this segment, by anyone. */
  get lockRecoveries(): number {
    return this.mem.u32[RECOVERIES] ?? 0
  }

  /** Figures for tools: fill, fragmentation, lock state. Read without taking the lock. */
  stats(): SegmentStats {
    this.assertOpen()
    const u32 = this.mem.u32
    const histogram = new Map<number, number>()
    let largestFreeBlock = 0
    let freeBlockCount = 0
    for (const block of this.allocator.freeBlocks()) {
      freeBlockCount++
      largestFreeBlock = Math.max(largestFreeBlock, block.size)
      const upTo = 2 ** Math.ceil(Math.log2(Math.max(block.size, 16)))
      histogram.set(upTo, (histogram.get(upTo) ?? 0) + 1)
    }
    const lock = SegmentLock.describe(this.mem.i32)
    const free = this.allocator.freeMemory
    return {
      size: this.size,
      used: this.size - free,
      free,
      numNamedObjects: u32[NUM_NAMED] ?? 0,
      numUniqueObjects: u32[NUM_UNIQUE] ?? 0,
      largestFreeBlock,
      freeBlockCount,
      freeBlockHistogram: [...histogram].sort((a, b) => a[0] - b[0]).map(([upTo, count]) => ({ upTo, count })),
      lock: lock.held ? { held: true, pid: lock.pid, alive: lock.pid === processIdentity().pid || processIdentity().isAlive(lock.pid) } : { held: false },
      version: u32[SegmentHeader.VERSION >> 2] ?? 0,
      recoveries: u32[RECOVERIES] ?? 0,
    }
  }

  /** A snapshot of the named objects. */
  names(): ObjectInfo[] {
    this.assertOpen()
    return this.readConsistently(() => this.listRecords(RecordKind.NAMED))
  }

  allMemoryDeallocated(): boolean {
    this.assertOpen()
    return this.readConsistently(() => this.allocator.allMemoryDeallocated())
  }

  /** True when the header, the allocator and the index are all consistent. */
  checkSanity(): boolean {
    return this.sanityReport().ok
  }

  /** What checkSanity found wrong, for tools and messages. */
  sanityReport(): { ok: boolean; problems: string[] } {
    this.assertOpen()
    return this.readConsistently(() => {
      const problems: string[] = []
      try {
        validateHeader(this.mem.u32, this.mem.u8.byteLength, this.backing.target)
      } catch (e) {
        problems.push((e as Error).message)
        return { ok: false, problems }
      }
      if (this.journal.pending !== 0) problems.push(`journal holds ${this.journal.pending} entries of an unfinished operation`)
      const allocatorEnd = this.dataStart + this.allocator.size
      if (allocatorEnd > this.size || this.size - allocatorEnd >= 16) problems.push(`allocator: its range ends at ${allocatorEnd}, the header's size is ${this.size}`)
      const allocatorReport = this.allocator.checkSanity()
      if (!allocatorReport.ok) problems.push(...allocatorReport.problems.map((p: string) => `allocator: ${p}`))
      const used = this.table.check(problems, (record) => this.recordProblem(record))
      const counted = (this.mem.u32[NUM_NAMED] ?? 0) + (this.mem.u32[NUM_UNIQUE] ?? 0)
      if (used !== counted) problems.push(`index: header counts ${counted} objects, table holds ${used}`)
      return { ok: problems.length === 0, problems }
    })
  }

  /** Runs `fn` holding the segment lock: other processes' operations wait. */
  withLock<R>(fn: (segment: this) => R): R {
    this.assertWritable()
    const lock = this.lock as SegmentLock
    lock.acquire()
    try {
      return fn(this)
    } finally {
      lock.release()
    }
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.mem.closed = true
    this.clearCache()
    this.backing.release()
  }

  [Symbol.dispose](): void {
    this.close()
  }

  // ---- internals -----------------------------------------------------------

  /**
   * Runs `fn` as one operation: under the lock, journaled, rolled back if it
   * throws. A change to the name table (`index`) also keeps the generation odd
   * while it runs, so lock-free readers retry instead of reading it half-made.
   */
  private mutate<R>(fn: () => R, index = false): R {
    this.checkNotTruncated()
    const lock = this.lock as SegmentLock
    lock.acquire()
    const i32 = this.mem.i32
    const journal = this.journal
    journal.begin()
    if (index) Atomics.add(i32, GEN, 1)
    try {
      const result = fn()
      journal.commit()
      return result
    } catch (e) {
      journal.rollback()
      throw e
    } finally {
      if (index) Atomics.add(i32, GEN, 1)
      lock.release()
    }
  }

  private mutateIndex<R>(fn: () => R): R {
    return this.mutate(fn, true)
  }

  /**
   * Empties a container (vector, map) in bounded atomic steps before the one
   * step that destroys it, so that step's journal stays small however big it was.
   */
  private drainBeforeDestroy(name: string): void {
    // A lock-free look first: most objects are not containers, and their destroy pays nothing more.
    const seen = this.lookup(name, RecordKind.NAMED, hashName(name, RecordKind.NAMED))
    if (seen === 0 || !ownsHeapByName(this.recordTypeName(seen))) return
    // Then under the lock throughout (each step is its own journaled operation), so nobody destroys it between lookup and steps.
    const lock = this.lock as SegmentLock
    lock.acquire()
    try {
      const record = this.lookupLocked(name, RecordKind.NAMED, hashName(name, RecordKind.NAMED))
      if (record !== 0) drainOutOfLine(this.mem, this.recordTypeName(record), this.objectOffset(record))
    } finally {
      lock.release()
    }
  }

  /** Runs under the lock after a dead owner's lock was taken over. */
  private recoverFromDeadOwner(): void {
    this.journal.rollback()
    const i32 = this.mem.i32
    // Strictly forward, and even: a reader that began before the crash must
    // never see the same generation again.
    const generation = Atomics.load(i32, GEN)
    Atomics.store(i32, GEN, (generation | 1) + 1)
    Atomics.add(i32, RECOVERIES, 1)
    this.clearCache()
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

  /** The allocator's ENOMEM, told which segment is full. */
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

  private withTargetError(e: unknown): unknown {
    if (e instanceof ShmError && e.code === 'ENOMEM' && e.target === undefined) {
      return new ShmError('ENOMEM', `${this.backing.target} is full: ${e.message}`, { target: this.backing.target, details: e.details, cause: e })
    }
    return e
  }

  private constructLocked(kind: RecordKind, name: string, nameBytes: number, type: Type, init: unknown, count: number, elementType: Type | undefined): unknown {
    const hash = kind === RecordKind.ANONYMOUS ? 0 : hashName(name, kind)
    if (kind !== RecordKind.ANONYMOUS && this.table.findSlot(name, kind, hash) >= 0) {
      throw new ShmError('EEXIST', kind === RecordKind.UNIQUE ? `${this.backing.target} already holds the unique ${type.name}` : `${this.backing.target} already holds an object named "${name}"`, {
        target: this.backing.target,
      })
    }
    const typeName = typeNameBytes(type)
    const record = this.allocateFresh(recordBlockBytes(nameBytes, typeName.length, type.size))
    const u32 = this.mem.u32
    const r = record >>> 2
    u32[r + (Record.HASH >> 2)] = hash
    u32[r + (Record.TYPE_FP_LO >> 2)] = type.fingerprintLo
    u32[r + (Record.TYPE_FP_HI >> 2)] = type.fingerprintHi
    u32[r + (Record.ELEMENT_FP_LO >> 2)] = elementType?.fingerprintLo ?? 0
    u32[r + (Record.ELEMENT_FP_HI >> 2)] = elementType?.fingerprintHi ?? 0
    u32[r + (Record.COUNT >> 2)] = count
    u32[r + (Record.BYTE_LENGTH >> 2)] = type.size
    u32[r + (Record.NAME_LENGTHS >> 2)] = nameBytes | (typeName.length << 16)
    u32[r + (Record.FLAGS >> 2)] = elementType === undefined ? 0 : FLAG_ARRAY
    writeName(this.mem.u8, record + Record.NAME, name, nameBytes)
    this.mem.u8.set(typeName, record + Record.NAME + nameBytes)
    const offset = objectOffsetOf(record, nameBytes, typeName.length)
    u32[(offset - 4) >>> 2] = record
    // Zeroed first even with an init: a type that keeps data out of line (t.str()) reads its old slot as "nothing to free".
    this.mem.u8.fill(0, offset, offset + type.size)
    if (init !== undefined) type.store(this.mem, offset, init)
    // The tag last: until the record is complete, nothing recognises it as one.
    u32[r + (Record.TAG >> 2)] = RECORD_MAGIC + kind
    if (kind !== RecordKind.ANONYMOUS) {
      this.table.insert(hash, record)
      const counter = kind === RecordKind.UNIQUE ? SegmentHeader.NUM_UNIQUE : SegmentHeader.NUM_NAMED
      this.writeWord(counter, (u32[counter >>> 2] ?? 0) + 1)
    }
    return type.view(this.mem, offset)
  }

  private destroyLocked(name: string, kind: RecordKind): boolean {
    const slot = this.table.findSlot(name, kind, hashName(name, kind))
    if (slot < 0) return false
    const record = this.table.recordAt(slot)
    releaseOutOfLine(this.mem, this.recordTypeName(record), this.objectOffset(record))
    this.table.removeAt(slot)
    const counter = kind === RecordKind.UNIQUE ? SegmentHeader.NUM_UNIQUE : SegmentHeader.NUM_NAMED
    this.writeWord(counter, (this.mem.u32[counter >>> 2] ?? 1) - 1)
    // Clear the tag so a stale offset (destroyPtr, deallocate) no longer passes for a record.
    this.writeWord(record + Record.TAG, 0)
    this.allocator.deallocate(record)
    return true
  }

  /** `cacheHash`: the name's hash to cache the find under, or -1 not to cache. */
  private findRecord(name: string, kind: RecordKind, type: Type, cacheHash: number): unknown {
    this.checkNotTruncated()
    const generation = Atomics.load(this.mem.i32, GEN)
    const record = this.lookup(name, kind, cacheHash >= 0 ? cacheHash : hashName(name, kind))
    if (record === 0) return undefined
    const offset = this.checkedObjectOffset(name, record, type)
    if (cacheHash >= 0 && (generation & 1) === 0 && Atomics.load(this.mem.i32, GEN) === generation) {
      const slot = cacheHash & (CACHE_SLOTS - 1)
      this.cacheNames[slot] = name
      this.cacheTypes[slot] = type
      this.cacheGenerations[slot] = generation
      this.cacheOffsets[slot] = offset
      this.cacheViews[slot] = undefined
    }
    return type.view(this.mem, offset)
  }

  private clearCache(): void {
    this.cacheNames.fill(undefined)
    this.cacheTypes.fill(undefined)
    this.cacheGenerations.fill(1)
    this.cacheViews.fill(undefined)
  }

  private viewOfRecord(name: string, record: number, type: Type): unknown {
    return type.view(this.mem, this.checkedObjectOffset(name, record, type))
  }

  /** The object's offset, once its record's type is `type` and the object fits the segment. */
  private checkedObjectOffset(name: string, record: number, type: Type): number {
    const u32 = this.mem.u32
    if (u32[(record + Record.TYPE_FP_LO) >>> 2] !== type.fingerprintLo || u32[(record + Record.TYPE_FP_HI) >>> 2] !== type.fingerprintHi) {
      throw this.typeMismatch(name, record, type.name)
    }
    const offset = this.objectOffset(record)
    assertFits(this.mem, offset, type)
    return offset
  }

  /**
   * Looks a name up without the lock: the generation read before and after
   * must match and be even, or a writer was busy and the lookup is repeated.
   * A handle that can lock falls back to locking after a few tries.
   */
  private lookup(name: string, kind: RecordKind, hash: number): number {
    const i32 = this.mem.i32
    if (this.lock?.held) return this.lookupLocked(name, kind, hash)
    for (let attempt = 0; attempt < SEQLOCK_ATTEMPTS; attempt++) {
      const before = Atomics.load(i32, GEN)
      if ((before & 1) === 0) {
        let found = 0
        let torn = false
        try {
          found = this.lookupLocked(name, kind, hash)
        } catch (e) {
          // Bytes read while a writer moved them can look corrupt: retry before believing it.
          if (!(e instanceof ShmError)) throw e
          if (Atomics.load(i32, GEN) === before) throw e
          torn = true
        }
        if (!torn && Atomics.load(i32, GEN) === before) return found
      }
      if (attempt > 4) sleepMs(0.05 * attempt)
    }
    if (this.lock !== undefined) {
      const lock = this.lock
      lock.acquire()
      try {
        return this.lookupLocked(name, kind, hash)
      } finally {
        lock.release()
      }
    }
    return this.readConsistently(() => this.lookupLocked(name, kind, hash))
  }

  /** The record of `name`, or 0. */
  private lookupLocked(name: string, kind: RecordKind, hash: number): number {
    const slot = this.table.findSlot(name, kind, hash)
    if (slot < 0) return 0
    const record = this.table.recordAt(slot)
    const why = this.recordProblem(record)
    if (why !== undefined) throw new ShmError('ECORRUPT', `${this.backing.target}: "${name}": ${why}`, { target: this.backing.target })
    return record
  }

  /**
   * Runs a read under the lock when this handle can lock, else between two
   * equal even generations (read-only handles), waiting out a busy writer.
   */
  /**
   * Compares the mapped object's size with the segment's (fstat), every
   * SIZE_CHECK_EVERY operations and on every slow path: a segment truncated
   * underneath is refused with ECORRUPT (and its views closed) instead of
   * touching pages past the end of the file, which is SIGBUS. Between two
   * checks, a truncation by another process is not seen: see README.
   */
  private checkNotTruncated(force = false): void {
    const currentSize = this.backing.currentSize
    if (currentSize === undefined || (!force && ++this.sinceSizeCheck < this.sizeCheckEvery)) return
    this.sinceSizeCheck = 0
    const now = currentSize()
    if (now >= this.segmentSize) return
    this.mem.closed = true
    throw new ShmError('ECORRUPT', `${this.backing.target} was truncated underneath this handle: ${now} bytes, the segment needs ${this.segmentSize}`, {
      target: this.backing.target,
      details: { size: now, needed: this.segmentSize },
      hint: 'something outside shmkit shrank the file or object; close this handle',
    })
  }

  private readConsistently<R>(fn: () => R): R {
    this.checkNotTruncated(true)
    if (this.lock !== undefined) {
      this.lock.acquire()
      try {
        return fn()
      } finally {
        this.lock.release()
      }
    }
    const i32 = this.mem.i32
    const deadline = performance.now() + 2000
    for (;;) {
      const before = Atomics.load(i32, GEN)
      if ((before & 1) === 0) {
        try {
          const result = fn()
          if (Atomics.load(i32, GEN) === before) return result
        } catch (e) {
          if (!(e instanceof ShmError) || Atomics.load(i32, GEN) === before) throw e
        }
      }
      if (performance.now() > deadline) {
        throw new ShmError('ETIMEDOUT', `${this.backing.target}: a writer kept the index busy for 2 s; a read-only handle cannot wait it out or recover it`, {
          target: this.backing.target,
          hint: 'open the segment writable once: the next locker recovers from a dead writer',
        })
      }
      sleepMs(0.2)
    }
  }

  private objectOffset(record: number): number {
    const lengths = this.mem.u32[(record + Record.NAME_LENGTHS) >>> 2] ?? 0
    return objectOffsetOf(record, lengths & 0xffff, lengths >>> 16)
  }

  /** Why `record` is not a sound record, or undefined. Reads only inside the segment. */
  private recordProblem(record: number): string | undefined {
    const u32 = this.mem.u32
    const size = this.size
    if ((record & 15) !== 0 || record < this.dataStart || record + Record.NAME > size) return `record offset ${record} out of range`
    if (!isRecordTag(u32[(record + Record.TAG) >>> 2] ?? 0)) return `no record at ${record}`
    const lengths = u32[(record + Record.NAME_LENGTHS) >>> 2] ?? 0
    const nameBytes = lengths & 0xffff
    if (nameBytes > MAX_NAME_BYTES) return `record ${record}: name of ${nameBytes} bytes`
    const offset = objectOffsetOf(record, nameBytes, lengths >>> 16)
    const byteLength = u32[(record + Record.BYTE_LENGTH) >>> 2] ?? 0
    if (offset + byteLength > size) return `record ${record}: object of ${byteLength} bytes runs past the segment`
    if (u32[(offset - 4) >>> 2] !== record) return `record ${record}: object back pointer broken`
    return undefined
  }

  private recordOfObject(offset: unknown): number {
    const size = this.size
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < this.dataStart + Record.NAME || offset >= size || (offset & 15) !== 0) {
      throw invalidArgument('offset', offset, `the offset of a constructed object (16-aligned, from ${this.dataStart} to ${size})`, { target: this.backing.target })
    }
    const record = this.mem.u32[(offset - 4) >>> 2] ?? 0
    if (this.recordProblem(record) !== undefined || this.objectOffset(record) !== offset) {
      throw invalidArgument('offset', offset, 'the offset of a constructed object (none starts there)', { target: this.backing.target })
    }
    return record
  }

  private recordName(record: number): string {
    const nameBytes = (this.mem.u32[(record + Record.NAME_LENGTHS) >>> 2] ?? 0) & 0xffff
    return decoder.decode(this.mem.u8.subarray(record + Record.NAME, record + Record.NAME + nameBytes))
  }

  private recordTypeName(record: number): string {
    const lengths = this.mem.u32[(record + Record.NAME_LENGTHS) >>> 2] ?? 0
    const start = record + Record.NAME + (lengths & 0xffff)
    return decoder.decode(this.mem.u8.subarray(start, start + (lengths >>> 16)))
  }

  private listRecords(kind: RecordKind): ObjectInfo[] {
    const out: ObjectInfo[] = []
    const u32 = this.mem.u32
    for (const record of this.table.records()) {
      const why = this.recordProblem(record)
      if (why !== undefined) throw new ShmError('ECORRUPT', `${this.backing.target}: ${why}`, { target: this.backing.target })
      if ((u32[(record + Record.TAG) >>> 2] ?? 0) !== RECORD_MAGIC + kind) continue
      out.push({
        name: this.recordName(record),
        type: this.recordTypeName(record),
        count: u32[(record + Record.COUNT) >>> 2] ?? 0,
        offset: this.objectOffset(record),
        byteLength: u32[(record + Record.BYTE_LENGTH) >>> 2] ?? 0,
      })
    }
    return out
  }

  private typeMismatch(name: string, record: number, asked: string): ShmError {
    const stored = this.recordTypeName(record)
    return new ShmError('ETYPE', `"${name}" in ${this.backing.target} is ${stored}, not ${asked}`, {
      target: this.backing.target,
      details: { name, stored, asked },
    })
  }

  private uniqueName(type: Type): number {
    const bytes = typeNameBytes(type).length
    if (bytes > MAX_NAME_BYTES) throw invalidArgument('type', type.name, `a type whose name is at most ${MAX_NAME_BYTES} bytes to be unique`)
    return bytes
  }

  private assertOpen(): void {
    if (this.closed) throw this.closedError()
  }

  private assertWritable(): void {
    if (this.closed) throw this.closedError()
    if (this.readOnly) {
      throw new ShmError('EREADONLY', `${this.backing.target} was opened read-only`, { target: this.backing.target, hint: 'open it without { readOnly: true } to change it' })
    }
  }

  private closedError(): ShmError {
    return new ShmError('ECLOSED', `${this.backing.target} is closed`, { target: this.backing.target })
  }
}

/** Bytes of a fresh block where the allocator kept its free-tree links (parent, left, right, colour). */
const FRESH_BLOCK_GUARD_BYTES = 16
const decoder = new TextDecoder()
const encoder = new TextEncoder()
const typeNames = new WeakMap<Type, Uint8Array>()
const arrayTypes = new WeakMap<Type, Map<number, Type>>()

function typeNameBytes(type: Type): Uint8Array {
  let bytes = typeNames.get(type)
  if (bytes === undefined) {
    bytes = encodeName(type.name)
    if (bytes.length > MAX_TYPE_NAME_BYTES) throw invalidArgument('type', type.name, `a type whose canonical name is at most ${MAX_TYPE_NAME_BYTES} bytes`)
    typeNames.set(type, bytes)
  }
  return bytes
}

function arrayOf<T extends Type>(element: T, count: number): ReturnType<typeof t.array<T>> {
  let byCount = arrayTypes.get(element)
  if (byCount === undefined) arrayTypes.set(element, (byCount = new Map()))
  let type = byCount.get(count)
  if (type === undefined) {
    if (byCount.size > 64) byCount.clear()
    type = t.array(element, count)
    byCount.set(count, type)
  }
  return type as ReturnType<typeof t.array<T>>
}

/** One value for every element, or an iterable of one value per element. */
function arrayInit(element: Type, count: number, init: unknown): unknown[] {
  if (element.validate(init, []).length === 0) return new Array<unknown>(count).fill(init)
  if (init !== null && typeof init === 'object' && Symbol.iterator in init) {
    const values: unknown[] = []
    for (const value of init as Iterable<unknown>) {
      values.push(value)
      if (values.length > count) {
        throw invalidArgument('init', init, `one value of the element type, or an iterable of at most ${count} values`)
      }
    }
    return values
  }
  return [init]
}

/** For lookups: a name too long to be stored is simply not found, so no encoding is needed. */
function checkLookupName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) throw invalidArgument('name', name, `a non-empty string of at most ${MAX_NAME_BYTES} UTF-8 bytes`)
}

/** Validates a name to store; returns its UTF-8 byte length. */
function checkName(name: unknown): number {
  if (typeof name !== 'string' || name.length === 0) throw invalidArgument('name', name, `a non-empty string of at most ${MAX_NAME_BYTES} UTF-8 bytes`)
  const bytes = utf8Length(name)
  if (bytes > MAX_NAME_BYTES) throw invalidArgument('name', name, `a non-empty string of at most ${MAX_NAME_BYTES} UTF-8 bytes (it has ${bytes})`)
  return bytes
}

/** UTF-8 length without encoding: ASCII names (the usual kind) in one pass. */
function utf8Length(name: string): number {
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) >= 0x80) return Buffer.byteLength(name)
  return name.length
}

/** Writes `name` as UTF-8 at `at` (its length was measured by utf8Length). */
function writeName(u8: Uint8Array, at: number, name: string, bytes: number): void {
  if (bytes === name.length) {
    for (let i = 0; i < bytes; i++) u8[at + i] = name.charCodeAt(i)
    return
  }
  encoder.encodeInto(name, u8.subarray(at, at + bytes))
}

function checkType(type: unknown): asserts type is Type {
  if (type === null || typeof type !== 'object' || typeof (type as Type).view !== 'function' || typeof (type as Type).fingerprintLo !== 'number') {
    throw invalidArgument('type', type, 'a shmkit type such as t.int32 or t.struct({...})')
  }
}
