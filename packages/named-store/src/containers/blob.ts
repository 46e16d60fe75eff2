import { describe, invalidArgument, ShmError, type ShmErrorIssue } from '@shmkit/errors'
import { checkWrite, closedError, type SegmentMemory } from '../types/memory.js'
import { fingerprint, invalidValue, NO_ISSUES, NO_PATH, type Path, type Type } from '../types/type.js'
import type { ScalarView } from '../types/scalars.js'
import { heapOf } from './heap.js'
import { beginWrite, endWrite, readContainer } from './seqlock.js'

/** The largest variable-length value: a 256 MiB string is far past anything sane in one shared value. */
export const MAX_BLOB_BYTES = 2 ** 28

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8')

/**
 * The slot of a variable-length value: 8 bytes in the object (a struct
 * field, a vector element, a map value) holding the offset of an out-of-line
 * block `[byteLength u32][bytes]` (0 for empty) and a generation. A write
 * allocates a new block, swaps the offset and frees the old block, all in
 * one journaled operation with the generation odd: replaced as a whole.
 */
const SLOT_PTR = 0
const SLOT_GEN = 4

export interface BlobView<V> extends ScalarView<V> {
  /** Bytes of the current value (UTF-8 for strings, serialized for JSON). */
  readonly byteLength: number
}

abstract class BlobType<V> implements Type<BlobView<V>, V> {
  readonly size = 8
  readonly align = 4
  readonly ownsHeap = true
  readonly fingerprintLo: number
  readonly fingerprintHi: number
  declare readonly __init?: V
  private readonly View: new (
    mem: SegmentMemory,
    offset: number,
  ) => BlobView<V>
  constructor(
    readonly kind: string,
    readonly name: string,
  ) {
    const fp = fingerprint(name)
    this.fingerprintLo = fp.lo
    this.fingerprintHi = fp.hi
    this.View = makeBlobView(this)
  }
  abstract validate(value: unknown, path: Path): ShmErrorIssue[]
  /** The bytes that represent a validated value. */
  abstract encode(value: unknown): Uint8Array
  /** The value the bytes represent (may throw on torn bytes: the caller retries). */
  abstract decode(bytes: Uint8Array): V
  /** What an empty slot (offset 0) reads as. */
  abstract readonly empty: V

  store(mem: SegmentMemory, offset: number, value: unknown): void {
    const heap = heapOf(mem, this.name)
    const bytes = value === undefined ? EMPTY : this.encode(value)
    if (bytes.length > MAX_BLOB_BYTES) throw invalidArgument('value', `${bytes.length} bytes`, `at most ${MAX_BLOB_BYTES} bytes`)
    heap.mutate(() => {
      const block = bytes.length === 0 ? 0 : heap.allocate(4 + bytes.length)
      if (block !== 0) {
        mem.u32[block >> 2] = bytes.length
        mem.u8.set(bytes, block + 4)
      }
      const began = beginWrite(mem, heap, offset + SLOT_GEN)
      const old = mem.u32[(offset + SLOT_PTR) >> 2] ?? 0
      heap.writeWord(offset + SLOT_PTR, block)
      if (old !== 0) heap.free(old)
      endWrite(mem, offset + SLOT_GEN, began)
    })
  }
  zero(mem: SegmentMemory, offset: number): void {
    mem.u32[(offset + SLOT_PTR) >> 2] = 0
    mem.u32[(offset + SLOT_GEN) >> 2] = 0
  }
  release(mem: SegmentMemory, offset: number): void {
    const old = mem.u32[(offset + SLOT_PTR) >> 2] ?? 0
    if (old === 0) return
    const heap = heapOf(mem, this.name)
    heap.mutate(() => {
      const began = beginWrite(mem, heap, offset + SLOT_GEN)
      heap.writeWord(offset + SLOT_PTR, 0)
      heap.free(old)
      endWrite(mem, offset + SLOT_GEN, began)
    })
  }
  heapBytes(mem: SegmentMemory, offset: number): number {
    const block = mem.u32[(offset + SLOT_PTR) >> 2] ?? 0
    return block === 0 ? 0 : heapOf(mem, this.name).blockSize(block)
  }
  /** The stored bytes, bounded by the segment whatever the length word says. */
  storedBytes(mem: SegmentMemory, offset: number): Uint8Array {
    const block = mem.u32[(offset + SLOT_PTR) >> 2] ?? 0
    if (block === 0) return EMPTY
    const length = mem.u32[block >> 2] ?? 0
    if ((block & 3) !== 0 || length > MAX_BLOB_BYTES || block + 4 + length > mem.u8.byteLength) {
      throw new ShmError(
        'ECORRUPT',
        `${mem.target}: ${this.name} at ${offset} points at ${block} with ${length} bytes, outside the segment`,
        { target: mem.target },
      )
    }
    return mem.u8.subarray(block + 4, block + 4 + length)
  }
  readUnchecked(mem: SegmentMemory, offset: number): V {
    const block = mem.u32[(offset + SLOT_PTR) >> 2] ?? 0
    return block === 0 ? this.empty : this.decode(this.storedBytes(mem, offset))
  }
  read(mem: SegmentMemory, offset: number): V {
    return readContainer(mem, offset + SLOT_GEN, () => this.readUnchecked(mem, offset))
  }
  /** Length in bytes of the stored (encoded) value, read in a consistent window. */
  byteLengthAt(mem: SegmentMemory, offset: number): number {
    return readContainer(mem, offset + SLOT_GEN, () => this.storedBytes(mem, offset).length)
  }
  view(mem: SegmentMemory, offset: number): BlobView<V> {
    return new this.View(mem, offset)
  }
}

const EMPTY = new Uint8Array(0)

function makeBlobView<V>(type: BlobType<V>): new (mem: SegmentMemory, offset: number) => BlobView<V> {
  return class View implements BlobView<V> {
    constructor(
      readonly mem: SegmentMemory,
      readonly offset: number,
    ) {}
    get value(): V {
      if (this.mem.closed) throw closedError(this.mem)
      return type.read(this.mem, this.offset)
    }
    set value(v: V) {
      checkWrite(this.mem)
      if (type.validate(v, NO_PATH).length !== 0) throw invalidValue(type, v, 'value')
      type.store(this.mem, this.offset, v)
    }
    get byteLength(): number {
      if (this.mem.closed) throw closedError(this.mem)
      return type.byteLengthAt(this.mem, this.offset)
    }
    toJSON(): unknown {
      const v = this.value
      return v instanceof Uint8Array ? [...v] : v
    }
  }
}

/** `t.str()`: a UTF-8 string of any length (up to 256 MiB), stored out of line. */
export class StrType extends BlobType<string> {
  readonly empty = ''
  constructor() {
    super('str', 'str')
  }
  /** Issues if the value is not a string or passes the maximum UTF-8 length. */
  validate(value: unknown, path: Path): ShmErrorIssue[] {
    if (typeof value !== 'string') return [{ path, message: `expected a string, got ${describe(value)}` }]
    if (value.length * 3 > MAX_BLOB_BYTES && Buffer.byteLength(value) > MAX_BLOB_BYTES)
      return [{ path, message: `expected at most ${MAX_BLOB_BYTES} UTF-8 bytes` }]
    return NO_ISSUES
  }
  encode(value: unknown): Uint8Array {
    return encoder.encode(value as string)
  }
  decode(bytes: Uint8Array): string {
    return decoder.decode(bytes)
  }
}

/** `t.bytes()`: a byte string of any length (up to 256 MiB), stored out of line; reads are copies. */
export class VarBytesType extends BlobType<Uint8Array> {
  get empty(): Uint8Array {
    return new Uint8Array(0)
  }
  constructor() {
    super('varbytes', 'bytes')
  }
  /** Issues if the value is not a Uint8Array, ArrayBuffer or byte array, or is too long. */
  validate(value: unknown, path: Path): ShmErrorIssue[] {
    const n = value instanceof Uint8Array || value instanceof ArrayBuffer ? value.byteLength : Array.isArray(value) ? value.length : -1
    if (n < 0) return [{ path, message: `expected a Uint8Array, ArrayBuffer or number[], got ${describe(value)}` }]
    if (n > MAX_BLOB_BYTES) return [{ path, message: `expected at most ${MAX_BLOB_BYTES} bytes, got ${n}` }]
    if (Array.isArray(value)) {
      const bad = value.findIndex((b) => typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255)
      if (bad >= 0) return [{ path: [...path, bad], message: `expected a byte (0..255), got ${describe(value[bad])}` }]
    }
    return NO_ISSUES
  }
  encode(value: unknown): Uint8Array {
    return value instanceof Uint8Array ? value : value instanceof ArrayBuffer ? new Uint8Array(value) : Uint8Array.from(value as number[])
  }
  decode(bytes: Uint8Array): Uint8Array {
    return bytes.slice()
  }
}

/** Any value JSON.stringify accepts (and that is not undefined): what it turns into is what is stored. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/**
 * `t.json()`: any JSON value, stored as its serialization; a read parses it
 * again (a copy). Values go through JSON.stringify, so `undefined` fields are
 * dropped and NaN becomes null, exactly as JSON does. An empty slot reads null.
 */
export class JsonType extends BlobType<JsonValue> {
  readonly empty = null
  /** The last value validated and its text: store() after validate() serializes once. */
  private lastValue: unknown = undefined
  private lastText = ''
  constructor() {
    super('json', 'json')
  }
  /** Issues if the value does not serialize with JSON.stringify or its text is too long. */
  validate(value: unknown, path: Path): ShmErrorIssue[] {
    let text: string | undefined
    try {
      text = JSON.stringify(value)
    } catch (e) {
      return [{ path, message: `expected a JSON value, got one JSON.stringify refuses (${(e as Error).message})` }]
    }
    if (text === undefined) return [{ path, message: `expected a JSON value, got ${describe(value)}` }]
    if (text.length * 3 > MAX_BLOB_BYTES && Buffer.byteLength(text) > MAX_BLOB_BYTES)
      return [{ path, message: `expected at most ${MAX_BLOB_BYTES} bytes serialized` }]
    this.lastValue = value
    this.lastText = text
    return NO_ISSUES
  }
  encode(value: unknown): Uint8Array {
    const text = value === this.lastValue && typeof value !== 'object' ? this.lastText : JSON.stringify(value)
    return encoder.encode(text)
  }
  decode(bytes: Uint8Array): JsonValue {
    return JSON.parse(decoder.decode(bytes)) as JsonValue
  }
}
