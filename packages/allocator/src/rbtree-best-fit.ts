import { invalidArgument, ShmError } from '@shmkit/errors'
import {
  ALLOCATED,
  ALLOCATED_CHECK,
  ALLOCATOR_MAGIC,
  MARK_BIT,
  ALLOCATOR_VERSION,
  AllocatorHeader,
  Block,
  HEADER,
  MIN_UNITS,
  PREV_ALLOCATED,
  UNIT,
} from './layout.js'
import {
  checkTree,
  insert,
  largest,
  lowerBound,
  remove,
  replace,
  staysAfterPredecessor,
  staysBeforeSuccessor,
  type TreeHost,
} from './tree.js'

/** Hooks for a caller that must see, or perform, every write to the allocator's metadata (the named store journals them). */
export interface AllocatorOptions {
  /**
   * Called before every write to the allocator's metadata with the location
   * about to change, so a caller can journal the old bytes.
   */
  beforeWrite?: (byteOffset: number, byteLength: number) => void
  /**
   * Replaces the write path itself: must store `value` as the 32-bit word at
   * `byteOffset` (after journaling it, say). Faster than `beforeWrite` when the
   * caller can do both in one call.
   */
  writeWord?: (byteOffset: number, value: number) => void
}

/** Options of {@link RbTreeBestFit.allocate}. */
export interface AllocateOptions {
  /** A power of two from 8 to 4096 (default 16). */
  align?: number
}

/** The answer of {@link RbTreeBestFit.checkSanity}: `ok`, or the problems found. */
export interface SanityReport {
  ok: boolean
  problems: string[]
}

const MAX_ALIGN = 4096
/** Block offsets are 32-bit words: the range must end by 4 GiB into the buffer. */
const MAX_END = 2 ** 32
const MAX_RANGE = MAX_END

type AnyBuffer = ArrayBuffer | SharedArrayBuffer

/**
 * A best-fit allocator over `[start, start + size)` of a buffer, Boost's
 * `rbtree_best_fit`: free blocks in a red-black tree by (size, offset),
 * boundary tags for O(1) coalescing. Its whole state lives in the range, so
 * another process mapping the same bytes can `attach` and continue. Offsets
 * it returns are absolute byte offsets into the buffer.
 *
 * Not thread-safe by itself: callers serialise (the segment lock does).
 */
export class RbTreeBestFit implements TreeHost {
  u32: Uint32Array
  private u8: Uint8Array
  readonly start: number
  readonly rootOffset: number
  readonly write: (byteOffset: number, value: number) => void

  private constructor(buffer: AnyBuffer, start: number, options: AllocatorOptions) {
    this.u32 = new Uint32Array(buffer, 0, Math.floor(buffer.byteLength / 4))
    this.u8 = new Uint8Array(buffer)
    this.start = start
    this.rootOffset = start + AllocatorHeader.ROOT
    const hook = options.beforeWrite
    // Chosen once: the hook-free path pays nothing for the hook.
    this.write =
      options.writeWord !== undefined
        ? options.writeWord
        : hook === undefined
          ? (byteOffset, value) => {
              this.u32[byteOffset >>> 2] = value
            }
          : (byteOffset, value) => {
              hook(byteOffset, 4)
              this.u32[byteOffset >>> 2] = value
            }
  }

  /** Lays out an empty allocator over `[start, start + size)`; `start` is 16-aligned. */
  static format(buffer: AnyBuffer, start: number, size: number, options: AllocatorOptions = {}): RbTreeBestFit {
    checkBuffer(buffer)
    if (!Number.isSafeInteger(start) || start < 0 || start % UNIT !== 0 || start >= buffer.byteLength) {
      throw invalidArgument('start', start, `a multiple of ${UNIT} from 0 to ${buffer.byteLength - 1}`)
    }
    const room = buffer.byteLength - start
    const min = AllocatorHeader.BYTES + MIN_UNITS * UNIT + HEADER
    const max = Math.min(room, MAX_END - start)
    if (!Number.isSafeInteger(size) || size < min || size > max) {
      throw invalidArgument('size', size, `an integer from ${min} to ${max} (what the buffer holds after start, ending by 4 GiB)`)
    }
    const a = new RbTreeBestFit(buffer, start, options)
    const usable = Math.floor(size / UNIT) * UNIT
    const first = start + AllocatorHeader.BYTES
    const end = start + usable - HEADER
    const units = (end - first) / UNIT
    const w = a.write
    w(start + AllocatorHeader.MAGIC, ALLOCATOR_MAGIC)
    w(start + AllocatorHeader.VERSION, ALLOCATOR_VERSION)
    w(start + AllocatorHeader.SIZE_LO, usable % 2 ** 32)
    w(start + AllocatorHeader.SIZE_HI, Math.floor(usable / 2 ** 32))
    w(start + AllocatorHeader.ROOT, 0)
    w(start + AllocatorHeader.FREE_UNITS, 0)
    w(start + AllocatorHeader.FIRST_BLOCK, first)
    w(start + AllocatorHeader.END, end)
    w(start + AllocatorHeader.FREE_BLOCKS, 0)
    // One allocated-looking block spanning everything, then freed: the free path builds the tree.
    w(first + Block.PREV_SIZE, 0)
    w(first + Block.SIZE_FLAGS, (units << 2) | PREV_ALLOCATED | ALLOCATED)
    w(first + Block.CHECK, (ALLOCATED_CHECK ^ first) >>> 0)
    w(end + Block.PREV_SIZE, 0)
    w(end + Block.SIZE_FLAGS, PREV_ALLOCATED | ALLOCATED)
    w(end + Block.CHECK, 0)
    a.deallocate(first + HEADER)
    return a
  }

  /** Continues an allocator another instance (or process) formatted in these bytes. */
  static attach(buffer: AnyBuffer, start: number, options: AllocatorOptions = {}): RbTreeBestFit {
    checkBuffer(buffer)
    if (!Number.isSafeInteger(start) || start < 0 || start % UNIT !== 0 || start + AllocatorHeader.BYTES > buffer.byteLength) {
      throw new ShmError('ECORRUPT', `no allocator can start at ${start} in a buffer of ${buffer.byteLength} bytes`)
    }
    const a = new RbTreeBestFit(buffer, start, options)
    const word = (field: number): number => a.u32[(start + field) >>> 2] ?? 0
    if (word(AllocatorHeader.MAGIC) !== ALLOCATOR_MAGIC)
      throw new ShmError('ECORRUPT', `no allocator at ${start}: bad magic 0x${word(AllocatorHeader.MAGIC).toString(16)}`)
    if (word(AllocatorHeader.VERSION) !== ALLOCATOR_VERSION) {
      throw new ShmError(
        'EVERSION',
        `allocator at ${start} has layout version ${word(AllocatorHeader.VERSION)}; this one reads ${ALLOCATOR_VERSION}`,
      )
    }
    const size = a.size
    const first = word(AllocatorHeader.FIRST_BLOCK)
    const end = word(AllocatorHeader.END)
    // END and SIZE are not required to agree here: a process killed while growing or
    // shrinking the range leaves one moved and not the other until its journal is
    // rolled back under the lock, which needs this attach first. Both must fit the
    // buffer; checkSanity() checks that they agree.
    if (start + size > buffer.byteLength || first !== start + AllocatorHeader.BYTES || end + HEADER > buffer.byteLength || end <= first) {
      throw new ShmError(
        'ECORRUPT',
        `allocator at ${start}: its size (${size}) and block range [${first}, ${end}) do not fit the buffer of ${buffer.byteLength} bytes`,
      )
    }
    return a
  }

  // ---- figures -------------------------------------------------------------

  /** Bytes of the managed range. */
  get size(): number {
    return this.word(AllocatorHeader.SIZE_LO) + this.word(AllocatorHeader.SIZE_HI) * 2 ** 32
  }

  /** Bytes in free blocks (headers included, as Boost counts). */
  get freeMemory(): number {
    return this.word(AllocatorHeader.FREE_UNITS) * UNIT
  }

  get numFreeBlocks(): number {
    return this.word(AllocatorHeader.FREE_BLOCKS)
  }

  /** Size in bytes of the largest free block (headers included). */
  get largestFreeBlock(): number {
    const node = largest(this)
    return node === 0 ? 0 : this.units(node) * UNIT
  }

  /** True when every block is free again (one free block spans the range). */
  allMemoryDeallocated(): boolean {
    const root = this.word(AllocatorHeader.ROOT)
    return (
      this.numFreeBlocks === 1 &&
      root !== 0 &&
      this.units(root) * UNIT === this.word(AllocatorHeader.END) - this.word(AllocatorHeader.FIRST_BLOCK)
    )
  }

  // ---- allocation ----------------------------------------------------------

  /**
   * A block of at least `bytes` usable bytes, 16-aligned (or `align`-aligned);
   * ENOMEM (with requested and free bytes) when none fits. `bytes` 0 gets the
   * smallest block (16 usable bytes), as Boost's allocate(0) does.
   */
  allocate(bytes: number, options?: AllocateOptions): number {
    const offset = this.tryAllocate(bytes, options)
    if (offset < 0) {
      throw new ShmError(
        'ENOMEM',
        `cannot allocate ${bytes} bytes: ${this.freeMemory} bytes free, the largest free block holds ${Math.max(0, this.largestFreeBlock - HEADER)}`,
        {
          details: { requested: bytes, free: this.freeMemory, largestFreeBlock: this.largestFreeBlock },
        },
      )
    }
    return offset
  }

  /** Like allocate, but -1 when nothing fits (for callers that probe). */
  tryAllocate(bytes: number, options?: AllocateOptions): number {
    if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0 || bytes > MAX_RANGE) {
      throw invalidArgument('bytes', bytes, `an integer from 0 to ${MAX_RANGE}`)
    }
    const align = options?.align ?? UNIT
    if (typeof align !== 'number' || !Number.isInteger(align) || align < 8 || align > MAX_ALIGN || (align & (align - 1)) !== 0) {
      throw invalidArgument('align', align, `a power of two from 8 to ${MAX_ALIGN}`)
    }
    const units = unitsFor(bytes)
    if (align <= UNIT) {
      const block = lowerBound(this, units)
      if (block === 0) return -1
      this.take(block, units)
      return block + HEADER
    }
    return this.allocateAligned(units, align)
  }

  /** Frees a block allocate returned; EINVAL for anything else, a second free included. */
  deallocate(offset: number): void {
    const block = this.liveBlock(offset, 'offset')
    this.release(block)
  }

  /**
   * Sets or clears the one bit a live block carries for its owner, kept in
   * the allocator's own block header (never in the block's bytes), so a
   * caller can tell its kinds of blocks apart without trusting user data:
   * the named store marks the blocks that hold constructed objects. A fresh
   * block is unmarked; freeing drops the mark. EINVAL for anything but a live block.
   */
  mark(offset: number, marked: boolean): void {
    const block = this.liveBlock(offset, 'offset')
    const check = (ALLOCATED_CHECK ^ block) >>> 0
    this.write(block + Block.CHECK, marked ? (check ^ MARK_BIT) >>> 0 : check)
  }

  /** Whether a live block is marked (see mark); EINVAL for anything but a live block. */
  isMarked(offset: number): boolean {
    const block = this.liveBlock(offset, 'offset')
    return this.u32[(block + Block.CHECK) >>> 2] !== (ALLOCATED_CHECK ^ block) >>> 0
  }

  /** Usable bytes of a live block. */
  sizeOf(offset: number): number {
    return this.units(this.liveBlock(offset, 'offset')) * UNIT - HEADER
  }

  /**
   * Grows a live block in place into a free successor: to `preferredBytes` if
   * there is room, at least `minBytes`. Returns the new usable size, or -1 if
   * it cannot grow that far (the block is unchanged).
   */
  expand(offset: number, minBytes: number, preferredBytes = minBytes): number {
    const block = this.liveBlock(offset, 'offset')
    const need = unitsFor(checkBytes(minBytes, 'minBytes'))
    const want = Math.max(need, unitsFor(checkBytes(preferredBytes, 'preferredBytes')))
    const have = this.units(block)
    if (have >= need) return have * UNIT - HEADER
    const next = block + have * UNIT
    if (next === this.word(AllocatorHeader.END) || this.isAllocated(next)) return -1
    const total = have + this.units(next)
    if (total < need) return -1
    remove(this, next)
    this.addFree(-this.units(next), -1)
    const keep = total - want >= MIN_UNITS ? want : total
    this.write(block + Block.SIZE_FLAGS, (keep << 2) | (this.flags(block) & 3))
    this.splitTail(block, keep, total)
    return keep * UNIT - HEADER
  }

  /** Gives back the tail of a live block beyond `bytes`; returns the new usable size. */
  shrink(offset: number, bytes: number): number {
    const block = this.liveBlock(offset, 'offset')
    const keep = unitsFor(checkBytes(bytes, 'bytes'))
    const have = this.units(block)
    if (have - keep < MIN_UNITS) return have * UNIT - HEADER
    this.write(block + Block.SIZE_FLAGS, (keep << 2) | (this.flags(block) & 3))
    this.splitTail(block, keep, have)
    return keep * UNIT - HEADER
  }

  /**
   * Extends the range by `extraBytes` (the buffer must already hold them; pass
   * the new buffer if the memory was remapped).
   */
  grow(extraBytes: number, newBuffer?: AnyBuffer): void {
    if (newBuffer !== undefined) {
      checkBuffer(newBuffer)
      this.u32 = new Uint32Array(newBuffer, 0, Math.floor(newBuffer.byteLength / 4))
      this.u8 = new Uint8Array(newBuffer)
    }
    const extra = Math.floor(checkBytes(extraBytes, 'extraBytes') / UNIT)
    const end = this.word(AllocatorHeader.END)
    const newEnd = end + extra * UNIT
    if (extra < MIN_UNITS || newEnd + HEADER > this.u8.byteLength || this.start + this.size + extra * UNIT > MAX_END) {
      throw invalidArgument(
        'extraBytes',
        extraBytes,
        `at least ${MIN_UNITS * UNIT}, and no more than the buffer holds past the range (${this.u8.byteLength - end - HEADER})`,
      )
    }
    // The old sentinel becomes a live block over the new bytes, then is freed (coalescing).
    this.write(end + Block.SIZE_FLAGS, (extra << 2) | (this.flags(end) & PREV_ALLOCATED) | ALLOCATED)
    this.write(end + Block.CHECK, (ALLOCATED_CHECK ^ end) >>> 0)
    this.write(newEnd + Block.PREV_SIZE, 0)
    this.write(newEnd + Block.SIZE_FLAGS, PREV_ALLOCATED | ALLOCATED)
    this.write(newEnd + Block.CHECK, 0)
    this.write(this.start + AllocatorHeader.END, newEnd)
    const size = this.size + extra * UNIT
    this.write(this.start + AllocatorHeader.SIZE_LO, size % 2 ** 32)
    this.write(this.start + AllocatorHeader.SIZE_HI, Math.floor(size / 2 ** 32))
    this.release(end)
  }

  /** Drops a free block at the end of the range; returns the range's new size in bytes. */
  shrinkToFit(): number {
    const end = this.word(AllocatorHeader.END)
    if ((this.flags(end) & PREV_ALLOCATED) !== 0) return this.size
    const last = end - this.at(end + Block.PREV_SIZE) * UNIT
    if (last < this.word(AllocatorHeader.FIRST_BLOCK) || this.isAllocated(last))
      throw this.corrupt(`boundary tag before the end points at ${last}`)
    const units = this.units(last)
    remove(this, last)
    this.addFree(-units, -1)
    this.write(last + Block.SIZE_FLAGS, (this.flags(last) & PREV_ALLOCATED) | ALLOCATED)
    this.write(last + Block.CHECK, 0)
    this.write(this.start + AllocatorHeader.END, last)
    const size = this.size - units * UNIT
    this.write(this.start + AllocatorHeader.SIZE_LO, size % 2 ** 32)
    this.write(this.start + AllocatorHeader.SIZE_HI, Math.floor(size / 2 ** 32))
    return size
  }

  /** Zeroes the bytes of every free block (their headers and tree links excepted). */
  zeroFreeMemory(): void {
    for (const { offset, size } of this.freeBlocks()) this.u8.fill(0, offset + 32, offset + size)
  }

  /** Every free block in address order: `offset` of its header and `size` in bytes. */
  *freeBlocks(): Generator<{ offset: number; size: number }> {
    const end = this.word(AllocatorHeader.END)
    let block = this.word(AllocatorHeader.FIRST_BLOCK)
    const limit = Math.ceil(this.size / (MIN_UNITS * UNIT)) + 1
    for (let n = 0; block < end && n < limit; n++) {
      const units = this.units(block)
      if (units < MIN_UNITS || block + units * UNIT > end) throw this.corrupt(`block ${block} has size ${units * UNIT}`)
      if (!this.isAllocated(block)) yield { offset: block, size: units * UNIT }
      block += units * UNIT
    }
  }

  /**
   * Walks every block and the whole tree: sizes, boundary tags, coalescing,
   * red-black invariants and the free-byte count. Bounded: corrupt bytes give
   * a failed report, never a hang.
   */
  checkSanity(): SanityReport {
    const problems: string[] = []
    const first = this.word(AllocatorHeader.FIRST_BLOCK)
    const end = this.word(AllocatorHeader.END)
    if (this.word(AllocatorHeader.MAGIC) !== ALLOCATOR_MAGIC) problems.push('header: bad magic')
    if (
      first !== this.start + AllocatorHeader.BYTES ||
      end <= first ||
      end + HEADER > this.u8.byteLength ||
      end !== this.start + this.size - HEADER
    ) {
      problems.push(`header: block range [${first}, ${end}) does not fit`)
      return { ok: false, problems }
    }
    const limit = Math.ceil((end - first) / (MIN_UNITS * UNIT)) + 1
    const free = new Set<number>()
    let freeUnits = 0
    let block = first
    let prevAllocated = true
    let prevUnits = 0
    let n = 0
    for (; block < end && n < limit; n++) {
      const flags = this.flags(block)
      const units = flags >>> 2
      if (units < MIN_UNITS || block + units * UNIT > end) {
        problems.push(`block ${block}: size ${units * UNIT} out of range`)
        break
      }
      if (((flags & PREV_ALLOCATED) !== 0) !== prevAllocated)
        problems.push(`block ${block}: previous-allocated bit disagrees with the previous block`)
      if (!prevAllocated && this.at(block + Block.PREV_SIZE) !== prevUnits)
        problems.push(`block ${block}: boundary tag ${this.at(block + Block.PREV_SIZE)} != previous size ${prevUnits}`)
      const allocated = (flags & ALLOCATED) !== 0
      if (allocated && (this.at(block + Block.CHECK) | MARK_BIT) >>> 0 !== ((ALLOCATED_CHECK ^ block) | MARK_BIT) >>> 0)
        problems.push(`block ${block}: live block without its check word`)
      if (!allocated) {
        if (!prevAllocated) problems.push(`block ${block}: two free blocks side by side (not coalesced)`)
        free.add(block)
        freeUnits += units
      }
      prevAllocated = allocated
      prevUnits = units
      block += units * UNIT
    }
    if (block !== end && problems.length === 0) problems.push(`blocks end at ${block}, not at the sentinel ${end}`)
    const endFlags = this.flags(end)
    if ((endFlags & ALLOCATED) === 0 || endFlags >>> 2 !== 0) problems.push('sentinel: not a zero-size allocated header')
    if (((endFlags & PREV_ALLOCATED) !== 0) !== prevAllocated)
      problems.push('sentinel: previous-allocated bit disagrees with the last block')
    if (freeUnits !== this.word(AllocatorHeader.FREE_UNITS))
      problems.push(`free bytes: blocks hold ${freeUnits * UNIT}, header says ${this.freeMemory}`)
    if (free.size !== this.numFreeBlocks) problems.push(`free blocks: ${free.size} found, header says ${this.numFreeBlocks}`)
    const nodes = checkTree(this, free.size, problems, (node) => free.has(node))
    if (problems.length === 0 && nodes.length !== free.size) problems.push(`tree holds ${nodes.length} blocks, ${free.size} are free`)
    return { ok: problems.length === 0, problems }
  }

  // ---- internals -----------------------------------------------------------

  private word(field: number): number {
    return this.u32[(this.start + field) >>> 2] ?? 0
  }

  /** The word at an absolute byte offset. */
  private at(byteOffset: number): number {
    return this.u32[byteOffset >>> 2] ?? 0
  }

  private flags(block: number): number {
    return this.u32[(block + Block.SIZE_FLAGS) >>> 2] ?? 0
  }

  private units(block: number): number {
    return (this.u32[(block + Block.SIZE_FLAGS) >>> 2] ?? 0) >>> 2
  }

  private isAllocated(block: number): boolean {
    return (this.flags(block) & ALLOCATED) !== 0
  }

  private addFree(units: number, blocks: number): void {
    this.write(this.start + AllocatorHeader.FREE_UNITS, this.word(AllocatorHeader.FREE_UNITS) + units)
    if (blocks !== 0) this.write(this.start + AllocatorHeader.FREE_BLOCKS, this.word(AllocatorHeader.FREE_BLOCKS) + blocks)
  }

  private corrupt(what: string): ShmError {
    return new ShmError('ECORRUPT', `allocator at ${this.start} is corrupt: ${what}`)
  }

  /** The header offset of the live block whose user bytes start at `offset`, or EINVAL. */
  private liveBlock(offset: number, argument: string): number {
    const first = this.word(AllocatorHeader.FIRST_BLOCK)
    const end = this.word(AllocatorHeader.END)
    const block = offset - HEADER
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || block < first || block >= end || (block - first) % UNIT !== 0) {
      throw invalidArgument(argument, offset, `an offset allocate returned (from ${first + HEADER} to ${end}, 16-aligned)`)
    }
    const flags = this.flags(block)
    const units = flags >>> 2
    const next = block + units * UNIT
    if (
      (flags & ALLOCATED) === 0 ||
      ((this.u32[(block + Block.CHECK) >>> 2] ?? 0) | MARK_BIT) >>> 0 !== ((ALLOCATED_CHECK ^ block) | MARK_BIT) >>> 0 ||
      units < MIN_UNITS ||
      next > end ||
      (this.flags(next) & PREV_ALLOCATED) === 0
    ) {
      throw invalidArgument(
        argument,
        offset,
        'an offset allocate returned and not yet freed (this one is free, or not the start of a block)',
      )
    }
    return block
  }

  /** Takes `units` from free `block` (already the best fit), splitting off the rest. */
  private take(block: number, units: number): void {
    const total = this.units(block)
    const rest = total - units
    if (rest >= MIN_UNITS) {
      const tail = block + units * UNIT
      if (staysAfterPredecessor(this, block, rest, tail)) {
        // The usual case: the rest keeps the block's place in the tree.
        this.write(tail + Block.SIZE_FLAGS, (rest << 2) | PREV_ALLOCATED)
        replace(this, block, tail)
        this.write(tail + rest * UNIT + Block.PREV_SIZE, rest)
        this.write(block + Block.SIZE_FLAGS, (units << 2) | (this.flags(block) & PREV_ALLOCATED) | ALLOCATED)
        this.write(block + Block.CHECK, (ALLOCATED_CHECK ^ block) >>> 0)
        this.write(this.start + AllocatorHeader.FREE_UNITS, this.word(AllocatorHeader.FREE_UNITS) - units)
        return
      }
    }
    remove(this, block)
    this.addFree(-total, -1)
    const keep = rest >= MIN_UNITS ? units : total
    this.write(block + Block.SIZE_FLAGS, (keep << 2) | (this.flags(block) & PREV_ALLOCATED) | ALLOCATED)
    this.write(block + Block.CHECK, (ALLOCATED_CHECK ^ block) >>> 0)
    this.splitTail(block, keep, total)
  }

  /**
   * `block` (live, now `keep` units) used to span `total` units: the rest
   * becomes a free block, coalesced with a free successor; with no rest, the
   * successor learns its predecessor is live.
   */
  private splitTail(block: number, keep: number, total: number): void {
    const next = block + total * UNIT
    if (keep === total) {
      this.write(next + Block.SIZE_FLAGS, this.flags(next) | PREV_ALLOCATED)
      return
    }
    const tail = block + keep * UNIT
    this.write(tail + Block.SIZE_FLAGS, ((total - keep) << 2) | PREV_ALLOCATED | ALLOCATED)
    this.write(tail + Block.CHECK, (ALLOCATED_CHECK ^ tail) >>> 0)
    this.write(next + Block.SIZE_FLAGS, this.flags(next) | PREV_ALLOCATED)
    this.release(tail)
  }

  /** Frees a live block: coalesces with free neighbours and puts the result in the tree. */
  private release(block: number): void {
    const own = this.units(block)
    let units = own
    // Its header may end up inside a merged block: without the check word it can never pass for live again.
    this.write(block + Block.CHECK, 0)
    if (this.releaseInPlace(block, own)) return
    let start = block
    let merged = 0
    const end = this.word(AllocatorHeader.END)
    const next = block + units * UNIT
    if (next !== end && !this.isAllocated(next)) {
      const nextUnits = this.units(next)
      if (nextUnits < MIN_UNITS || next + nextUnits * UNIT > end) throw this.corrupt(`free block ${next} has size ${nextUnits * UNIT}`)
      remove(this, next)
      units += nextUnits
      merged++
    }
    const flags = this.flags(block)
    let prevFlag = flags & PREV_ALLOCATED
    if (prevFlag === 0) {
      const prevUnits = this.u32[(block + Block.PREV_SIZE) >>> 2] ?? 0
      const prev = block - prevUnits * UNIT
      if (
        prevUnits < MIN_UNITS ||
        prev < this.word(AllocatorHeader.FIRST_BLOCK) ||
        this.isAllocated(prev) ||
        this.units(prev) !== prevUnits
      ) {
        throw this.corrupt(`boundary tag of ${block} points at ${prev}, which is not its free predecessor`)
      }
      units += prevUnits
      start = prev
      prevFlag = this.flags(prev) & PREV_ALLOCATED
      merged++
      if (staysBeforeSuccessor(this, prev, units, prev)) {
        // Only the predecessor's size grows: it keeps its node, no insert.
        this.write(prev + Block.SIZE_FLAGS, (units << 2) | prevFlag)
        const after = prev + units * UNIT
        this.write(after + Block.PREV_SIZE, units)
        this.write(after + Block.SIZE_FLAGS, this.flags(after) & ~PREV_ALLOCATED)
        this.addFree(own, 1 - merged)
        return
      }
      remove(this, prev)
    }
    this.write(start + Block.SIZE_FLAGS, (units << 2) | prevFlag)
    this.write(start + Block.CHECK, 0)
    const after = start + units * UNIT
    this.write(after + Block.PREV_SIZE, units)
    this.write(after + Block.SIZE_FLAGS, this.flags(after) & ~PREV_ALLOCATED)
    insert(this, start)
    // The block's own units become free; the merged neighbours' already were.
    this.addFree(own, 1 - merged)
  }

  /**
   * The usual free: a live block whose predecessor is live and whose successor
   * is free merges into that successor, and the merged block takes the
   * successor's place in the tree when the order allows. False when it does not apply.
   */
  private releaseInPlace(block: number, own: number): boolean {
    const flags = this.flags(block)
    const next = block + own * UNIT
    const end = this.word(AllocatorHeader.END)
    const nextFree = next !== end && !this.isAllocated(next)
    if ((flags & PREV_ALLOCATED) === 0) {
      if (nextFree) return false
      // Merging back into a free predecessor: same offset, larger size. If the
      // order allows, only its size changes; no tree links move.
      const prevUnits = this.u32[(block + Block.PREV_SIZE) >>> 2] ?? 0
      const prev = block - prevUnits * UNIT
      if (
        prevUnits < MIN_UNITS ||
        prev < this.word(AllocatorHeader.FIRST_BLOCK) ||
        this.isAllocated(prev) ||
        this.units(prev) !== prevUnits
      ) {
        throw this.corrupt(`boundary tag of ${block} points at ${prev}, which is not its free predecessor`)
      }
      const merged = prevUnits + own
      if (!staysBeforeSuccessor(this, prev, merged, prev)) return false
      this.write(prev + Block.SIZE_FLAGS, (merged << 2) | (this.flags(prev) & PREV_ALLOCATED))
      this.write(next + Block.PREV_SIZE, merged)
      this.write(next + Block.SIZE_FLAGS, this.flags(next) & ~PREV_ALLOCATED)
      this.write(this.start + AllocatorHeader.FREE_UNITS, this.word(AllocatorHeader.FREE_UNITS) + own)
      return true
    }
    if (!nextFree) return false
    const nextUnits = this.units(next)
    if (nextUnits < MIN_UNITS || next + nextUnits * UNIT > end) throw this.corrupt(`free block ${next} has size ${nextUnits * UNIT}`)
    const merged = own + nextUnits
    if (!staysBeforeSuccessor(this, next, merged, block)) return false
    this.write(block + Block.SIZE_FLAGS, (merged << 2) | PREV_ALLOCATED)
    replace(this, next, block)
    this.write(block + merged * UNIT + Block.PREV_SIZE, merged)
    this.write(this.start + AllocatorHeader.FREE_UNITS, this.word(AllocatorHeader.FREE_UNITS) + own)
    return true
  }

  private allocateAligned(units: number, align: number): number {
    // Room for the worst gap before an aligned start, and for a free block in that gap.
    const search = units + (align + MIN_UNITS * UNIT) / UNIT
    const block = lowerBound(this, search)
    if (block === 0) return -1
    let user = Math.ceil((block + HEADER) / align) * align
    if (user - HEADER !== block && user - HEADER - block < MIN_UNITS * UNIT) user += align
    const aligned = user - HEADER
    const total = this.units(block)
    const gap = (aligned - block) / UNIT
    if (gap + units > total) return -1
    remove(this, block)
    this.addFree(-total, -1)
    if (gap === 0) {
      this.write(block + Block.SIZE_FLAGS, (total << 2) | (this.flags(block) & PREV_ALLOCATED) | ALLOCATED)
      this.write(block + Block.CHECK, (ALLOCATED_CHECK ^ block) >>> 0)
      this.shrinkLive(block, units, total)
      return user
    }
    // The gap before the aligned block goes back as a free block of its own.
    this.write(block + Block.SIZE_FLAGS, (gap << 2) | (this.flags(block) & PREV_ALLOCATED) | ALLOCATED)
    this.write(block + Block.CHECK, (ALLOCATED_CHECK ^ block) >>> 0)
    this.write(aligned + Block.SIZE_FLAGS, ((total - gap) << 2) | PREV_ALLOCATED | ALLOCATED)
    this.write(aligned + Block.CHECK, (ALLOCATED_CHECK ^ aligned) >>> 0)
    this.shrinkLive(aligned, units, total - gap)
    this.release(block)
    return user
  }

  private shrinkLive(block: number, keep: number, total: number): void {
    if (total - keep >= MIN_UNITS) {
      this.write(block + Block.SIZE_FLAGS, (keep << 2) | (this.flags(block) & 3))
      this.splitTail(block, keep, total)
    } else {
      const next = block + total * UNIT
      this.write(next + Block.SIZE_FLAGS, this.flags(next) | PREV_ALLOCATED)
    }
  }
}

function unitsFor(bytes: number): number {
  return Math.max(MIN_UNITS, Math.ceil((bytes + HEADER) / UNIT))
}

function checkBytes(bytes: number, argument: string): number {
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0 || bytes > MAX_RANGE)
    throw invalidArgument(argument, bytes, `an integer from 0 to ${MAX_RANGE}`)
  return bytes
}

function checkBuffer(buffer: unknown): asserts buffer is AnyBuffer {
  if (!(buffer instanceof ArrayBuffer) && !(typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer)) {
    throw invalidArgument('buffer', buffer, 'an ArrayBuffer or SharedArrayBuffer')
  }
}
