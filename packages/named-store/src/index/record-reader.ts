import { ShmError } from '@shmkit/errors'
import type { SegmentMemory } from '../types/index.js'
import { isContainerBytes, ownsHeapBytes } from '../containers/release.js'
import type { RecordKind } from './name-hash.js'
import { FLAG_ARRAY, isRecordTag, MAX_NAME_BYTES, objectOffsetOf, Record, RECORD_MAGIC } from './record.js'

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

const decoder = new TextDecoder()

/**
 * Decodes object records (index/record.ts) out of segment memory. Every read
 * stays inside the segment whatever the bytes say, so a reader racing a
 * writer (its result then discarded by the read protocol) or a corrupt
 * segment can read nonsense but never fault.
 */
export class RecordReader {
  constructor(
    private readonly mem: SegmentMemory,
    private readonly dataStart: number,
    /** The segment's size now: it grows while the segment is open (segment-manager's `size`). */
    private readonly sizeNow: () => number,
    private readonly target: string,
    /** Usable bytes of the live allocator block at `record`, or -1 where none starts (a record is never trusted past its block). */
    private readonly blockBytes: (record: number) => number = () => Number.MAX_SAFE_INTEGER,
  ) {}

  private get size(): number {
    return this.sizeNow()
  }

  /** Why `record` is not a sound record, or undefined. */
  problem(record: number): string | undefined {
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
    // Record and object share one allocator block: lengths raised together must not reach the neighbours.
    const needed = offset - record + byteLength
    if (this.blockBytes(record) < needed) return `record ${record}: not inside a live allocator block of ${needed} bytes`
    return undefined
  }

  /** `problem` as an ECORRUPT error, or undefined. */
  corruption(record: number, name?: string): ShmError | undefined {
    const why = this.problem(record)
    if (why === undefined) return undefined
    return new ShmError('ECORRUPT', `${this.target}: ${name === undefined ? '' : `"${name}": `}${why}`, { target: this.target })
  }

  objectOffset(record: number): number {
    const lengths = this.mem.u32[(record + Record.NAME_LENGTHS) >>> 2] ?? 0
    return objectOffsetOf(record, lengths & 0xffff, lengths >>> 16)
  }

  kind(record: number): number {
    return (this.mem.u32[(record + Record.TAG) >>> 2] ?? 0) - RECORD_MAGIC
  }

  count(record: number): number {
    return this.mem.u32[(record + Record.COUNT) >>> 2] ?? 0
  }

  byteLength(record: number): number {
    return this.mem.u32[(record + Record.BYTE_LENGTH) >>> 2] ?? 0
  }

  isArray(record: number): boolean {
    return ((this.mem.u32[(record + Record.FLAGS) >>> 2] ?? 0) & FLAG_ARRAY) !== 0
  }

  /** Whether the record's type (or, for `element`, its element type) has this fingerprint. */
  hasFingerprint(record: number, lo: number, hi: number, element: boolean): boolean {
    const u32 = this.mem.u32
    const at = record + (element ? Record.ELEMENT_FP_LO : Record.TYPE_FP_LO)
    return u32[at >>> 2] === lo && u32[(at + 4) >>> 2] === hi
  }

  name(record: number): string {
    const nameBytes = (this.mem.u32[(record + Record.NAME_LENGTHS) >>> 2] ?? 0) & 0xffff
    const start = Math.min(record + Record.NAME, this.size)
    return decoder.decode(this.mem.u8.subarray(start, Math.min(start + nameBytes, this.size)))
  }

  typeName(record: number): string {
    const lengths = this.mem.u32[(record + Record.NAME_LENGTHS) >>> 2] ?? 0
    const start = Math.min(record + Record.NAME + (lengths & 0xffff), this.size)
    return decoder.decode(this.mem.u8.subarray(start, Math.min(start + (lengths >>> 16), this.size)))
  }

  /** Whether the record's type keeps data out of line (ownsHeapBytes on its stored name: nothing decoded). */
  typeOwnsHeap(record: number): boolean {
    const start = this.typeNameStart(record)
    return ownsHeapBytes(this.mem.u8, start, this.typeNameEnd(record, start))
  }

  /** Whether the record's type is a top-level container (vector, map). */
  typeIsContainer(record: number): boolean {
    const start = this.typeNameStart(record)
    return isContainerBytes(this.mem.u8, start, this.typeNameEnd(record, start))
  }

  /** Where the record's type name starts, clamped to the segment. */
  private typeNameStart(record: number): number {
    const nameBytes = (this.mem.u32[(record + Record.NAME_LENGTHS) >>> 2] ?? 0) & 0xffff
    return Math.min(record + Record.NAME + nameBytes, this.size)
  }

  private typeNameEnd(record: number, start: number): number {
    const typeBytes = (this.mem.u32[(record + Record.NAME_LENGTHS) >>> 2] ?? 0) >>> 16
    return Math.min(start + typeBytes, this.size)
  }

  /** The records of one kind among `records`, described; ECORRUPT for an unsound one. */
  list(records: number[], kind: RecordKind): ObjectInfo[] {
    const out: ObjectInfo[] = []
    for (const record of records) {
      const error = this.corruption(record)
      if (error !== undefined) throw error
      if (this.kind(record) !== kind) continue
      out.push({
        name: this.name(record),
        type: this.typeName(record),
        count: this.count(record),
        offset: this.objectOffset(record),
        byteLength: this.byteLength(record),
      })
    }
    return out
  }
}
