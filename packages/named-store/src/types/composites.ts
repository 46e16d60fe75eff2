import { snapshotInit } from './snapshot.js'
import { describe, ShmError, invalidArgument, type ShmErrorIssue } from '@shmkit/errors'
import { checkWrite, closedError, readOnlyError, type SegmentMemory } from './memory.js'
import { ScalarType, typedArrayOf, type ScalarView } from './scalars.js'
import { heapOf } from '../containers/heap.js'
import { checkCount, fingerprint, invalidValue, NO_ISSUES, NO_PATH, type Path, type Type, type ValueOf, type ViewOf } from './type.js'

/** The largest object a segment can hold: offsets and `t.ptr` are 32-bit. */
export const MAX_TYPE_SIZE = 2 ** 32
/** A string's byte length is stored in 32 bits, but a 16 MiB string is already far past any sane field. */
export const MAX_STRING_BYTES = 2 ** 24

const encoder = new TextEncoder()
const decoder = new TextDecoder()

abstract class BaseType<V, I> implements Type<V, I> {
  readonly fingerprintLo: number
  readonly fingerprintHi: number
  declare readonly __init?: I
  constructor(
    readonly kind: string,
    readonly name: string,
    readonly size: number,
    readonly align: number,
  ) {
    const fp = fingerprint(name)
    this.fingerprintLo = fp.lo
    this.fingerprintHi = fp.hi
  }
  /** Problems with `value` as an init value of this type, located under `path`. */
  abstract validate(value: unknown, path: Path): ShmErrorIssue[]
  /** Writes a validated value at `offset`. */
  abstract store(mem: SegmentMemory, offset: number, value: unknown): void
  /** The plain JS value at `offset` (a copy). */
  abstract read(mem: SegmentMemory, offset: number): I
  /** A live view of the object at `offset`. */
  abstract view(mem: SegmentMemory, offset: number): V
  /** Writes zeros over the object (what `store` of `undefined` does too). */
  zero(mem: SegmentMemory, offset: number): void {
    mem.u8.fill(0, offset, offset + this.size)
  }
}

/** Which types a struct field or array element exposes as a plain value (not a nested view). */
function isValueKind(type: Type): boolean {
  return (
    type.kind !== 'struct' &&
    type.kind !== 'array' &&
    type.kind !== 'bytes' &&
    type.kind !== 'vector' &&
    type.kind !== 'map' &&
    type.kind !== 'sync'
  )
}

/** Frees what the heap-owning parts at `offsets` keep out of line, in one operation (a replacing store). */
function releaseParts(mem: SegmentMemory, parts: readonly { type: Type; offset: number }[], base: number, count = 1, stride = 0): void {
  for (let i = 0; i < count; i++) for (const part of parts) part.type.release?.(mem, base + i * stride + part.offset)
}

/** Setters validate under a shared empty path and build the located error only when the value is bad. */
function assertValid(type: Type, value: unknown, what: string | number): void {
  if (type.validate(value, NO_PATH).length !== 0) throw invalidValue(type, value, typeof what === 'number' ? `[${what}]` : what)
}

// ---- string(maxBytes) --------------------------------------------------------

/** A UTF-8 string of at most `maxBytes` bytes, stored as a 32-bit byte length and the bytes. */
export class StringType extends BaseType<ScalarView<string>, string> {
  constructor(readonly maxBytes: number) {
    checkCount(maxBytes, 'maxBytes', 1, MAX_STRING_BYTES)
    super('string', `string(${maxBytes})`, Math.ceil((4 + maxBytes) / 4) * 4, 4)
  }
  validate(value: unknown, path: Path): ShmErrorIssue[] {
    if (typeof value !== 'string')
      return [{ path, message: `expected a string of at most ${this.maxBytes} UTF-8 bytes, got ${describe(value)}` }]
    // Every UTF-16 unit is at most 3 UTF-8 bytes: short strings skip the count.
    if (value.length * 3 <= this.maxBytes) return NO_ISSUES
    const bytes = Buffer.byteLength(value)
    return bytes <= this.maxBytes ? NO_ISSUES : [{ path, message: `expected at most ${this.maxBytes} UTF-8 bytes, got ${bytes}` }]
  }
  store(mem: SegmentMemory, offset: number, value: unknown): void {
    if (value === undefined) {
      this.zero(mem, offset)
      return
    }
    const { written } = encoder.encodeInto(value as string, mem.u8.subarray(offset + 4, offset + 4 + this.maxBytes))
    mem.u32[offset >>> 2] = written
  }
  read(mem: SegmentMemory, offset: number): string {
    // A corrupt length must not read past this object.
    const length = Math.min(mem.u32[offset >>> 2] ?? 0, this.maxBytes)
    return decoder.decode(mem.u8.subarray(offset + 4, offset + 4 + length))
  }
  view(mem: SegmentMemory, offset: number): ScalarView<string> {
    return new StringView(this, mem, offset)
  }
}

class StringView implements ScalarView<string> {
  constructor(
    private readonly type: StringType,
    readonly mem: SegmentMemory,
    readonly offset: number,
  ) {}
  get value(): string {
    if (this.mem.closed) throw closedError(this.mem)
    return this.type.read(this.mem, this.offset)
  }
  set value(v: string) {
    checkWrite(this.mem)
    assertValid(this.type, v, 'value')
    this.type.store(this.mem, this.offset, v)
  }
  toJSON(): string {
    return this.value
  }
}

// ---- bytes(n) ----------------------------------------------------------------

/** The view of a `t.bytes(n)` object. */
export interface BytesView {
  /** A copy of the bytes. */
  value: Uint8Array
  /** The bytes in place: a zero-copy Uint8Array. */
  readonly typed: Uint8Array
  readonly length: number
  readonly offset: number
  /** The bytes as numbers. */
  toJSON(): number[]
}

/** The type `t.bytes(n)`: `n` raw bytes. */
export class BytesType extends BaseType<BytesView, Uint8Array> {
  declare readonly kind: 'bytes'
  constructor(readonly length: number) {
    checkCount(length, 'n', 1, MAX_TYPE_SIZE)
    super('bytes', `bytes(${length})`, length, 1)
  }
  validate(value: unknown, path: Path): ShmErrorIssue[] {
    const n = value instanceof Uint8Array || value instanceof ArrayBuffer ? value.byteLength : Array.isArray(value) ? value.length : -1
    if (n < 0)
      return [{ path, message: `expected a Uint8Array, ArrayBuffer or number[] of at most ${this.length} bytes, got ${describe(value)}` }]
    if (n > this.length) return [{ path, message: `expected at most ${this.length} bytes, got ${n}` }]
    if (Array.isArray(value)) {
      const bad = value.findIndex((b) => typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255)
      if (bad >= 0) return [{ path: [...path, bad], message: `expected a byte (0..255), got ${describe(value[bad])}` }]
    }
    return NO_ISSUES
  }
  store(mem: SegmentMemory, offset: number, value: unknown): void {
    if (value === undefined) {
      this.zero(mem, offset)
      return
    }
    const bytes =
      value instanceof Uint8Array ? value : value instanceof ArrayBuffer ? new Uint8Array(value) : Uint8Array.from(value as number[])
    mem.u8.set(bytes, offset)
    mem.u8.fill(0, offset + bytes.length, offset + this.length)
  }
  read(mem: SegmentMemory, offset: number): Uint8Array {
    return mem.u8.slice(offset, offset + this.length)
  }
  view(mem: SegmentMemory, offset: number): BytesView {
    return new BytesViewImpl(this, mem, offset)
  }
}

class BytesViewImpl implements BytesView {
  constructor(
    private readonly type: BytesType,
    readonly mem: SegmentMemory,
    readonly offset: number,
  ) {}
  get length(): number {
    return this.type.length
  }
  get value(): Uint8Array {
    if (this.mem.closed) throw closedError(this.mem)
    return this.type.read(this.mem, this.offset)
  }
  set value(v: Uint8Array) {
    checkWrite(this.mem)
    assertValid(this.type, v, 'value')
    this.type.store(this.mem, this.offset, v)
  }
  get typed(): Uint8Array {
    if (this.mem.closed) throw closedError(this.mem)
    const bytes = new Uint8Array(this.mem.buffer, this.offset, this.type.length)
    // Read-only handles get a copy: see ArrayView.typed.
    return this.mem.readOnly ? bytes.slice() : bytes
  }
  toJSON(): number[] {
    return [...this.value]
  }
}

// ---- ptr(type) ---------------------------------------------------------------

/** An offset pointer: the target's offset in the segment (0 for null), never an address. */
export class PtrType<T extends Type> extends BaseType<ScalarView<number>, number> {
  constructor(readonly target: T) {
    if (!isType(target)) throw invalidArgument('target', target, 'a shmkit type (t.int32, t.struct({...}), ...)')
    super('ptr', `ptr(${target.name})`, 4, 4)
  }
  validate(value: unknown, path: Path): ShmErrorIssue[] {
    const offset = offsetOf(value)
    return offset === undefined
      ? [{ path, message: `expected an offset (an integer from 0 to ${2 ** 32 - 1}) or a view, got ${describe(value)}` }]
      : NO_ISSUES
  }
  store(mem: SegmentMemory, offset: number, value: unknown): void {
    mem.u32[offset >>> 2] = offsetOf(value) ?? 0
  }
  read(mem: SegmentMemory, offset: number): number {
    return mem.u32[offset >>> 2] ?? 0
  }
  view(mem: SegmentMemory, offset: number): ScalarView<number> {
    return new PtrView(this, mem, offset)
  }
}

function offsetOf(value: unknown): number | undefined {
  const n = typeof value === 'object' && value !== null && 'offset' in value ? (value as { offset: unknown }).offset : value
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n < 2 ** 32 ? n : undefined
}

class PtrView implements ScalarView<number> {
  constructor(
    private readonly type: PtrType<Type>,
    readonly mem: SegmentMemory,
    readonly offset: number,
  ) {}
  get value(): number {
    if (this.mem.closed) throw closedError(this.mem)
    return this.type.read(this.mem, this.offset)
  }
  set value(v: number) {
    checkWrite(this.mem)
    assertValid(this.type, v, 'value')
    this.type.store(this.mem, this.offset, v)
  }
  toJSON(): number {
    return this.value
  }
}

// ---- array(elem, n) ----------------------------------------------------------

/** What `get(i)` gives: a value for scalars, strings and pointers; a view for structs, arrays and bytes. */
export type ElementOf<T extends Type> = T extends { kind: 'struct' } | { kind: 'array' } | { kind: 'bytes' } | { kind: 'sync' }
  ? ViewOf<T>
  : ValueOf<T>

/** The view of a `t.array(elem, n)` object: `length`, `get`, `set`, iteration, and for numeric elements a zero-copy `typed` array. */
export interface ArrayView<T extends Type> extends Iterable<ElementOf<T>> {
  readonly length: number
  readonly offset: number
  /** Element `index`: a value for scalars, strings and pointers, a live view for structs, arrays and bytes. */
  get(index: number): ElementOf<T>
  /** Writes element `index` (validated like an `init` value). */
  set(index: number, value: ValueOf<T>): void
  /** A zero-copy TypedArray over the elements (numeric element types only). */
  readonly typed: TypedArrayOf<T>
  /** The elements as plain values. */
  toJSON(): unknown[]
}

/** The TypedArray class that views an array of the numeric type `T` in place. */
export type TypedArrayOf<T> = T extends { name: 'int8' }
  ? Int8Array
  : T extends { name: 'uint8' }
    ? Uint8Array
    : T extends { name: 'int16' }
      ? Int16Array
      : T extends { name: 'uint16' }
        ? Uint16Array
        : T extends { name: 'int32' }
          ? Int32Array
          : T extends { name: 'uint32' }
            ? Uint32Array
            : T extends { name: 'int64' }
              ? BigInt64Array
              : T extends { name: 'uint64' }
                ? BigUint64Array
                : T extends { name: 'float32' }
                  ? Float32Array
                  : T extends { name: 'float64' }
                    ? Float64Array
                    : never

/** Any value a shmkit type constructor accepts as a nested type. */
export function isType(value: unknown): value is Type {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as Type).view === 'function' &&
    typeof (value as Type).validate === 'function' &&
    typeof (value as Type).size === 'number' &&
    typeof (value as Type).name === 'string'
  )
}

/** The type `t.array(elem, n)`: `n` elements of one type, laid out back to back. */
export class ArrayType<T extends Type> extends BaseType<ArrayView<T>, ValueOf<T>[]> {
  declare readonly kind: 'array'
  /** Whether `get(i)` returns a value (scalars, strings, pointers) rather than a view. */
  readonly elementIsValue: boolean
  constructor(
    readonly element: T,
    readonly length: number,
  ) {
    if (!isType(element)) throw invalidArgument('element', element, 'a shmkit type (t.int32, t.struct({...}), ...)')
    checkCount(length, 'length', 1, Math.floor(MAX_TYPE_SIZE / element.size))
    super('array', `array(${element.name},${length})`, element.size * length, element.align)
    this.elementIsValue = isValueKind(element)
    this.ownsHeap = element.ownsHeap === true
    this.View = makeArrayView(this)
  }
  private readonly View: new (
    mem: SegmentMemory,
    offset: number,
  ) => ArrayView<T>
  /** True when the elements keep data out of line (`t.str()`...). */
  readonly ownsHeap: boolean
  /** Frees what the elements keep out of line (only when they own heap data). */
  release(mem: SegmentMemory, offset: number): void {
    if (this.ownsHeap) releaseParts(mem, [{ type: this.element, offset: 0 }], offset, this.length, this.element.size)
  }
  /**
   * One value of the element type fills every element (Boost's
   * `construct<T>(name)[n](value)`); otherwise an iterable gives one value per
   * element. A value that is both (a number[] for `array(bytes(4), n)`) fills.
   */
  private fills(value: unknown): boolean {
    return this.element.validate(value, NO_PATH).length === 0
  }
  validate(value: unknown, path: Path): ShmErrorIssue[] {
    if (this.fills(value)) return NO_ISSUES
    if (typeof value === 'string' || value === null || typeof value !== 'object' || !(Symbol.iterator in value)) {
      return [{ path, message: `expected one ${this.element.name} value or an iterable of at most ${this.length}, got ${describe(value)}` }]
    }
    let issues: ShmErrorIssue[] = NO_ISSUES
    let i = 0
    // Bounded by the length: an endless iterable stops here.
    for (const item of value as Iterable<unknown>) {
      if (i >= this.length) return [{ path, message: `expected at most ${this.length} elements` }]
      if (issues.length < MAX_ELEMENT_ISSUES && this.element.validate(item, NO_PATH).length !== 0) {
        if (issues === NO_ISSUES) issues = []
        issues.push(...this.element.validate(item, [...path, i]))
      }
      i++
    }
    return issues
  }
  store(mem: SegmentMemory, offset: number, value: unknown): void {
    // Replacing elements that keep data out of line frees the old data first, all in one operation.
    if (this.ownsHeap) return heapOf(mem, this.name).mutate(() => this.storeReplacing(mem, offset, value))
    this.storeReplacing(mem, offset, value)
  }
  private storeReplacing(mem: SegmentMemory, offset: number, value: unknown): void {
    this.release(mem, offset)
    if (value === undefined) return this.zero(mem, offset)
    const { element, length } = this
    const size = element.size
    if (this.fills(value)) {
      // One element stored, then its bytes doubled in place: a fill of 2^28
      // elements costs a few copies, not 2^28 stores (or a JS array of them).
      element.store(mem, offset, value)
      const end = offset + this.size
      for (let filled = size; offset + filled < end; filled *= 2)
        mem.u8.copyWithin(offset + filled, offset, Math.min(offset + filled, end - filled))
      return
    }
    let i = 0
    for (const item of value as Iterable<unknown>) {
      if (i >= length) break
      element.store(mem, offset + size * i++, item)
    }
    mem.u8.fill(0, offset + size * i, offset + this.size)
  }
  read(mem: SegmentMemory, offset: number): ValueOf<T>[] {
    const out: ValueOf<T>[] = []
    for (let i = 0; i < this.length; i++) out.push(this.element.read(mem, offset + i * this.element.size) as ValueOf<T>)
    return out
  }
  view(mem: SegmentMemory, offset: number): ArrayView<T> {
    return new this.View(mem, offset)
  }
}

/** An init value with a million bad elements reports the first few, not a million. */
const MAX_ELEMENT_ISSUES = 10

/**
 * One view class per array type, like structs: `get`/`set` then see one
 * element type each, so V8 keeps them monomorphic (a shared class would turn
 * megamorphic as soon as a program uses a few element types).
 */
function makeArrayView<T extends Type>(type: ArrayType<T>): new (mem: SegmentMemory, offset: number) => ArrayView<T> {
  const { element, length } = type
  const stride = element.size
  const scalar = element instanceof ScalarType ? (element as ScalarType<unknown, unknown>) : undefined
  const check = scalar?.check
  const storeValue = scalar?.storeValue
  const readValue = scalar?.readValue
  const outOfRange = (index: unknown, mem: SegmentMemory): ShmError =>
    invalidArgument('index', index, `an integer from 0 to ${length - 1}`, { target: mem.target })
  class View implements ArrayView<T> {
    constructor(
      readonly mem: SegmentMemory,
      readonly offset: number,
    ) {}
    get length(): number {
      return length
    }
    get(index: number): ElementOf<T> {
      const mem = this.mem
      if (mem.closed) throw closedError(mem)
      // False for fractions, negatives, NaN and non-numbers alike.
      if (index >>> 0 !== index || index >= length) throw outOfRange(index, mem)
      const at = this.offset + index * stride
      if (readValue !== undefined) return readValue(mem, at) as ElementOf<T>
      return (type.elementIsValue ? element.read(mem, at) : element.view(mem, at)) as ElementOf<T>
    }
    set(index: number, value: ValueOf<T>): void {
      const mem = this.mem
      if (mem.closed) throw closedError(mem)
      if (mem.readOnly) throw readOnlyError(mem)
      if (index >>> 0 !== index || index >= length) throw outOfRange(index, mem)
      const at = this.offset + index * stride
      if (check !== undefined && storeValue !== undefined) {
        if (check(value) !== undefined) throw invalidValue(element, value, `[${index}]`)
        storeValue(mem, at, value)
        return
      }
      const v = snapshotInit(element, value)
      assertValid(element, v, index)
      element.store(mem, at, v)
    }
    get typed(): TypedArrayOf<T> {
      const mem = this.mem
      if (mem.closed) throw closedError(mem)
      const make = typedArrayOf[element.name]
      if (make === undefined)
        throw new ShmError('EINVAL', `.typed needs a numeric element type (int8 ... float64), not ${element.name}`, { target: mem.target })
      const typed = make(mem.buffer, this.offset, length) as TypedArrayOf<T>
      // A read-only handle's mapping is private copy-on-write: a write through
      // a live array would land in a page of its own, and that page would stop
      // following the segment. So read-only handles get a copy.
      return (mem.readOnly ? typed.slice() : typed) as TypedArrayOf<T>
    }
    *[Symbol.iterator](): Iterator<ElementOf<T>> {
      for (let i = 0; i < length; i++) yield this.get(i)
    }
    toJSON(): unknown[] {
      if (this.mem.closed) throw closedError(this.mem)
      return type.read(this.mem, this.offset).map(jsonValue)
    }
  }
  return View
}

/** JSON has no bigint or Uint8Array: decimal strings and byte lists. */
function jsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return String(value)
  if (value instanceof Uint8Array) return [...value]
  if (Array.isArray(value)) return value.map(jsonValue)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = jsonValue(v)
    return out
  }
  return value
}

// ---- struct({...}) -----------------------------------------------------------

/** The fields of a `t.struct({...})`: a name for each field's type. */
export type Fields = Record<string, Type>
/** The `init` of a struct: a plain object, fields left out are zero. */
export type StructValue<F extends Fields> = { [K in keyof F]?: ValueOf<F[K]> }
/** The view of a struct object: one property per field, reading and writing the shared bytes. */
export type StructView<F extends Fields> = {
  -readonly [K in keyof F]: F[K] extends
    | { kind: 'struct' }
    | { kind: 'array' }
    | { kind: 'bytes' }
    | { kind: 'vector' }
    | { kind: 'map' }
    | { kind: 'sync' }
    ? ViewOf<F[K]>
    : ValueOf<F[K]>
} & {
  /** Where the struct starts in its segment. */
  readonly offset: number
  /** The fields as a plain object. */
  toJSON(): Record<string, unknown>
}

/** One field of a struct type, where it lies and what it holds. */
export interface StructField {
  readonly name: string
  readonly type: Type
  /** Byte offset inside the struct. */
  readonly offset: number
}

/** Names a field cannot take: the view's own members, and what would reach Object.prototype. */
const RESERVED = new Set(['offset', 'toJSON', 'mem', 'constructor', '__proto__', 'prototype', 'hasOwnProperty', 'toString', 'valueOf'])
const FIELD_NAME = /^[A-Za-z_$][\w$]{0,127}$/

/** C layout: fields in order, each at its natural alignment; size rounded to the struct's alignment. */
export class StructType<F extends Fields> extends BaseType<StructView<F>, StructValue<F>> {
  declare readonly kind: 'struct'
  readonly fields: readonly StructField[]
  private readonly fieldNames: ReadonlySet<string>
  private readonly View: new (
    mem: SegmentMemory,
    offset: number,
  ) => StructView<F>
  /** Fields that keep data out of line (`t.str()`...): freed when the struct is replaced or destroyed. */
  private readonly heapFields: readonly StructField[]
  readonly ownsHeap: boolean
  /** Frees what the heap-owning fields keep out of line. */
  release(mem: SegmentMemory, offset: number): void {
    releaseParts(mem, this.heapFields, offset)
  }

  constructor(fields: F) {
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields))
      throw invalidArgument('fields', fields, 'an object of field name to type')
    const laid: StructField[] = []
    let size = 0
    let align = 1
    for (const [name, type] of Object.entries(fields)) {
      if (!FIELD_NAME.test(name) || RESERVED.has(name)) {
        throw invalidArgument(`fields.${name}`, name, `an identifier of at most 128 characters other than ${[...RESERVED].join(', ')}`)
      }
      if (!isType(type)) throw invalidArgument(`fields.${name}`, type, 'a shmkit type (t.int32, t.struct({...}), ...)')
      size = Math.ceil(size / type.align) * type.align
      laid.push({ name, type, offset: size })
      size += type.size
      align = Math.max(align, type.align)
    }
    if (laid.length === 0) throw invalidArgument('fields', fields, 'at least one field (C has no empty structs)')
    size = Math.ceil(size / align) * align
    if (size > MAX_TYPE_SIZE) throw invalidArgument('fields', `${size} bytes`, `a struct of at most ${MAX_TYPE_SIZE} bytes`)
    super('struct', `struct{${laid.map((f) => `${f.name}:${f.type.name}`).join(',')}}`, size, align)
    this.fields = laid
    this.heapFields = laid.filter((f) => f.type.ownsHeap === true)
    this.ownsHeap = this.heapFields.length > 0
    this.fieldNames = new Set(laid.map((f) => f.name))
    this.View = makeStructView<F>(laid)
  }
  validate(value: unknown, path: Path): ShmErrorIssue[] {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value)) {
      return [{ path, message: `expected an object with fields ${this.fields.map((f) => f.name).join(', ')}, got ${describe(value)}` }]
    }
    let issues: ShmErrorIssue[] = NO_ISSUES
    for (const key of Object.keys(value)) {
      if (!this.fieldNames.has(key)) {
        if (issues === NO_ISSUES) issues = []
        issues.push({ path: [...path, key], message: `unknown field (the fields are ${[...this.fieldNames].join(', ')})` })
      }
    }
    for (const field of this.fields) {
      // Missing fields are zero, as in a C aggregate initializer.
      const v = (value as Record<string, unknown>)[field.name]
      if (v === undefined || field.type.validate(v, NO_PATH).length === 0) continue
      if (issues === NO_ISSUES) issues = []
      issues.push(...field.type.validate(v, [...path, field.name]))
    }
    return issues
  }
  store(mem: SegmentMemory, offset: number, value: unknown): void {
    if (this.ownsHeap) return heapOf(mem, this.name).mutate(() => this.storeReplacing(mem, offset, value))
    this.storeReplacing(mem, offset, value)
  }
  private storeReplacing(mem: SegmentMemory, offset: number, value: unknown): void {
    this.release(mem, offset)
    mem.u8.fill(0, offset, offset + this.size)
    if (value === undefined) return
    for (const field of this.fields) {
      const v = (value as Record<string, unknown>)[field.name]
      if (v !== undefined) field.type.store(mem, offset + field.offset, v)
    }
  }
  read(mem: SegmentMemory, offset: number): StructValue<F> {
    const out: Record<string, unknown> = {}
    for (const field of this.fields) out[field.name] = field.type.read(mem, offset + field.offset)
    return out as StructValue<F>
  }
  view(mem: SegmentMemory, offset: number): StructView<F> {
    return new this.View(mem, offset)
  }
}

/**
 * One class per struct type, accessors on its prototype: creating a view is
 * one small allocation, and each accessor sees one field type, so V8 keeps it
 * monomorphic.
 */
function makeStructView<F extends Fields>(fields: readonly StructField[]): new (mem: SegmentMemory, offset: number) => StructView<F> {
  class View {
    constructor(
      readonly mem: SegmentMemory,
      readonly offset: number,
    ) {}
    toJSON(): Record<string, unknown> {
      if (this.mem.closed) throw closedError(this.mem)
      const out: Record<string, unknown> = {}
      for (const f of fields) {
        // A container's own toJSON knows its shape (a map of string keys is an object).
        out[f.name] =
          f.type.kind === 'map' || f.type.kind === 'vector'
            ? (f.type.view(this.mem, this.offset + f.offset) as { toJSON(): unknown }).toJSON()
            : jsonValue(f.type.read(this.mem, this.offset + f.offset))
      }
      return out
    }
  }
  for (const field of fields) {
    const { name, type, offset } = field
    if (type instanceof ScalarType) {
      defineScalarField(View.prototype, name, type as ScalarType<unknown, unknown>, offset)
      continue
    }
    const get = isValueKind(type)
      ? function (this: View): unknown {
          const mem = this.mem
          if (mem.closed) throw closedError(mem)
          return type.read(mem, this.offset + offset)
        }
      : function (this: View): unknown {
          const mem = this.mem
          if (mem.closed) throw closedError(mem)
          return type.view(mem, this.offset + offset)
        }
    Object.defineProperty(View.prototype, name, {
      enumerable: true,
      get,
      set(this: View, value: unknown) {
        const mem = this.mem
        checkWrite(mem)
        // A generator is read once: validated and stored from the same copy.
        const v = snapshotInit(type, value)
        assertValid(type, v, name)
        type.store(mem, this.offset + offset, v)
      },
    })
  }
  return View as unknown as new (
    mem: SegmentMemory,
    offset: number,
  ) => StructView<F>
}

/** A number/bigint/boolean field: the type's own read, check and write, called straight from the accessor. */
function defineScalarField(prototype: object, name: string, type: ScalarType<unknown, unknown>, offset: number): void {
  const { check, storeValue, readValue } = type
  Object.defineProperty(prototype, name, {
    enumerable: true,
    get(this: { mem: SegmentMemory; offset: number }) {
      const mem = this.mem
      if (mem.closed) throw closedError(mem)
      return readValue(mem, this.offset + offset)
    },
    set(this: { mem: SegmentMemory; offset: number }, v: unknown) {
      const mem = this.mem
      if (mem.closed) throw closedError(mem)
      if (mem.readOnly) throw readOnlyError(mem)
      if (check(v) !== undefined) throw invalidValue(type, v, name)
      storeValue(mem, this.offset + offset, v)
    },
  })
}
