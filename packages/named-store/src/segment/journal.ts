import { ShmError } from '@shmkit/errors'
import { JOURNAL_ENTRY_BYTES, SegmentHeader } from './header.js'

const COUNT = SegmentHeader.JOURNAL_COUNT >> 2
const SEQUENCE = SegmentHeader.JOURNAL_SEQUENCE >> 2
/** Operation numbers are 24 bits: an entry's length word keeps its chunk length (<= 8) in the low byte. */
const SEQUENCE_MASK = 0xffffff
const ENTRIES = SegmentHeader.JOURNAL_ENTRIES
/** The header words an operation may change: the index counters and table. */
const JOURNALED_HEADER_START = SegmentHeader.NUM_NAMED
const JOURNALED_HEADER_END = SegmentHeader.CREATOR_PID
/** An entry's chunk byte for recordAdvance: no bytes saved, the word is moved forward on rollback. */
const ADVANCE = 0x80

/**
 * An undo journal in the segment header. Every metadata write made under the
 * segment lock first records the old bytes here; committing clears the count.
 * A process that takes the lock over from a dead owner rolls the entries back,
 * so an interrupted operation looks as if it never started.
 *
 * Crash model: a killed process's stores to shared memory all land (the pages
 * belong to the kernel, not to the process), in program order on x86-64 and
 * behind the lock's release/acquire elsewhere; an entry is written before the
 * count that publishes it, and before the write it protects.
 *
 * Every operation gets a sequence number (in the header), and every entry
 * carries the number of the operation that wrote it: a count that is stale
 * or corrupt can never roll back entries of an earlier, committed operation.
 */
export class UndoJournal {
  /** True while an operation runs; writes outside one are not journaled. */
  active = false
  /** First byte after the journal: where the allocator's range may begin. */
  readonly end: number
  /** The running operation's number, shifted into place for an entry's length word. */
  private tag = 0

  constructor(
    private readonly u8: Uint8Array,
    private readonly u32: Uint32Array,
    private readonly capacity: number,
    private readonly target: string,
  ) {
    this.end = ENTRIES + capacity * JOURNAL_ENTRY_BYTES
  }

  /** Entries left before the journal is full. */
  get room(): number {
    return this.capacity - (this.u32[COUNT] ?? 0)
  }

  get pending(): number {
    return this.u32[COUNT] ?? 0
  }

  /**
   * Starts an operation (under the lock, after any recovery): whatever count
   * is left over belongs to no operation that can still finish, so it goes.
   */
  begin(): void {
    const u32 = this.u32
    u32[COUNT] = 0
    const sequence = ((u32[SEQUENCE] ?? 0) + 1) & SEQUENCE_MASK || 1
    u32[SEQUENCE] = sequence
    this.tag = sequence * 256
    this.active = true
  }

  /** Journals the word at `offset`, then stores `value` there: the allocator's write path. */
  writeWord(offset: number, value: number): void {
    const u32 = this.u32
    if (this.active) {
      const count = u32[COUNT] ?? 0
      if ((offset & 3) !== 0 || count >= this.capacity) {
        this.recordBytes(offset, 4)
      } else {
        const entry = (ENTRIES >> 2) + count * (JOURNAL_ENTRY_BYTES >> 2)
        u32[entry] = offset
        u32[entry + 1] = this.tag + 4
        u32[entry + 2] = u32[offset >>> 2] ?? 0
        u32[COUNT] = count + 1
      }
    }
    u32[offset >>> 2] = value
  }

  /** Saves the `length` bytes at `offset` before they change. */
  record(offset: number, length: number): void {
    if (!this.active) return
    const u32 = this.u32
    const count = u32[COUNT] ?? 0
    // The allocator and the index write aligned 32-bit words: one entry, two stores.
    if (length === 4 && (offset & 3) === 0 && count < this.capacity) {
      const entry = (ENTRIES >> 2) + count * (JOURNAL_ENTRY_BYTES >> 2)
      u32[entry] = offset
      u32[entry + 1] = this.tag + 4
      u32[entry + 2] = u32[offset >>> 2] ?? 0
      // Publish after the entry is complete: a crash between the two leaves an
      // unpublished entry whose write has not happened yet either.
      u32[COUNT] = count + 1
      return
    }
    this.recordBytes(offset, length)
  }

  /**
   * Journals that a rollback must move the word at `offset` (a container's
   * generation) forward to a fresh even value, never back: a reader that
   * began before the crash can never validate against it again. Rollback
   * makes every such word odd before it restores any byte and even after the
   * last, so no reader validates across the restore either.
   */
  recordAdvance(offset: number): void {
    if (!this.active) return
    const u32 = this.u32
    const count = u32[COUNT] ?? 0
    if ((offset & 3) !== 0 || count >= this.capacity) {
      throw new ShmError('ENOMEM', `operation on ${this.target} needs more than ${this.capacity} journal entries`, {
        target: this.target,
        hint: 'this is a shmkit bug',
      })
    }
    const entry = (ENTRIES >> 2) + count * (JOURNAL_ENTRY_BYTES >> 2)
    u32[entry] = offset
    // The operation's tag like every entry: rollback skips entries of other operations.
    u32[entry + 1] = this.tag + ADVANCE
    u32[entry + 2] = 0
    u32[COUNT] = count + 1
  }

  private recordBytes(offset: number, length: number): void {
    const u32 = this.u32
    let count = u32[COUNT] ?? 0
    for (let done = 0; done < length; done += 8) {
      if (count >= this.capacity) {
        throw new ShmError('ENOMEM', `operation on ${this.target} needs more than ${this.capacity} journal entries`, {
          target: this.target,
          hint: 'this is a shmkit bug: an operation should never write this much metadata',
        })
      }
      const chunk = Math.min(8, length - done)
      const entry = ENTRIES + count * JOURNAL_ENTRY_BYTES
      const at = offset + done
      u32[entry >>> 2] = at
      u32[(entry >>> 2) + 1] = this.tag + chunk
      for (let i = 0; i < chunk; i++) this.u8[entry + 8 + i] = this.u8[at + i] ?? 0
      count++
      u32[COUNT] = count
    }
  }

  commit(): void {
    this.u32[COUNT] = 0
    this.active = false
  }

  /**
   * Restores every location the last operation recorded, newest first;
   * returns how many. Only entries of that operation (its sequence number)
   * count, whatever the count word says.
   */
  rollback(): number {
    const u32 = this.u32
    const count = Math.min(u32[COUNT] ?? 0, this.capacity)
    const sequence = (u32[SEQUENCE] ?? 0) & SEQUENCE_MASK
    // Generations to advance go odd first: readers stop validating before any byte moves back.
    const advance: number[] = []
    for (let i = 0; i < count; i++) {
      const at = this.advanceTarget(i, sequence)
      if (at >= 0) {
        advance.push(at)
        Atomics.store(u32, at >>> 2, (Atomics.load(u32, at >>> 2) | 1) >>> 0)
      }
    }
    let restored = 0
    for (let i = count - 1; i >= 0; i--) {
      const entry = ENTRIES + i * JOURNAL_ENTRY_BYTES
      const at = u32[entry >>> 2] ?? 0
      const lengthWord = u32[(entry >>> 2) + 1] ?? 0
      if (lengthWord >>> 8 !== sequence) continue // an earlier operation's: committed long ago
      const chunk = lengthWord & 0xff
      // A torn or hostile entry must not write outside the segment, over the
      // lock or over the journal itself.
      if (chunk === 0 || chunk > 8 || !this.restorable(at, chunk)) continue
      for (let b = 0; b < chunk; b++) this.u8[at + b] = this.u8[entry + 8 + b] ?? 0
      restored++
    }
    // Then even and new: past every value the cut operation could have published.
    for (const at of advance) Atomics.store(u32, at >>> 2, ((Atomics.load(u32, at >>> 2) | 1) + 1) >>> 0)
    u32[COUNT] = 0
    this.active = false
    return restored + advance.length
  }

  /** Whether the running operation already journaled an advance of the word at `offset`. */
  advances(offset: number): boolean {
    if (!this.active) return false
    const sequence = (this.u32[SEQUENCE] ?? 0) & SEQUENCE_MASK
    const count = Math.min(this.u32[COUNT] ?? 0, this.capacity)
    for (let i = 0; i < count; i++) if (this.advanceTarget(i, sequence) === offset) return true
    return false
  }

  /** Where entry `i` of operation `sequence` is an advance entry inside the data, or -1. */
  private advanceTarget(i: number, sequence: number): number {
    const u32 = this.u32
    const entry = (ENTRIES >> 2) + i * (JOURNAL_ENTRY_BYTES >> 2)
    const lengthWord = u32[entry + 1] ?? 0
    if (lengthWord >>> 8 !== sequence || (lengthWord & 0xff) !== ADVANCE) return -1
    const at = u32[entry] ?? 0
    return (at & 3) === 0 && at >= this.end && at + 4 <= this.u8.byteLength ? at : -1
  }

  /** Whether a rollback may write `chunk` bytes at `at`: the header's counters and size words, or the data. */
  private restorable(at: number, chunk: number): boolean {
    const inHeaderCounters = at >= JOURNALED_HEADER_START && at + chunk <= JOURNALED_HEADER_END
    // The segment's size moves when it grows or shrinks.
    const inHeaderSize = at >= SegmentHeader.SIZE_LO && at + chunk <= SegmentHeader.SIZE_HI + 4
    return inHeaderCounters || inHeaderSize || (at >= this.end && at + chunk <= this.u8.byteLength)
  }
}
