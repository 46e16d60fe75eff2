import { ShmError, invalidArgument, type ShmErrorIssue } from '@shmkit/errors'
import { checkWrite, closedError, type SegmentMemory } from './memory.js'
import { scalarsByName, typedArrayOf, type ScalarView } from './scalars.js'
import { describeValue, fingerprint, type Path, type Type, type ValueOf, type ViewOf } from './type.js'

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
  abstract validate(value: unknown, path: Path): ShmErrorIssue[]
  abstract store(mem: SegmentMemory, offset: number, value: unknown): void
  abstract read(mem: SegmentMemory, offset: number): I
  abstract view(mem: SegmentMemory, offset: number): V
}

/** Which types a struct field or array element exposes as a plain value (not a nested view). */
function isValueKind(type: Type): boolean {
  return type.kind !== 'struct' && type.kind !== 'array' && type.kind !== 'bytes'
}

function assertValid(type: Type, value: unknown, what: string): void {
  const issues = type.validate(value, [what])
  if (issues.length > 0) {
    throw new ShmError('EINVAL', `invalid ${issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, { issues })
  }
}

// ---- string(maxBytes) --------------------------------------------------------

/** A UTF-8 string of at most `maxBytes` bytes, stored as a 32-bit byte length and the bytes. */
export class StringType extends BaseType<ScalarView<string>, string> {
  constructor(readonly maxBytes: number) {
    super('string', `string(${maxBytes})`, Math.ceil((4 + maxBytes) / 4) * 4, 4)
  }
  validate(value: unknown, path: Path): ShmErrorIssue[] {
    if (typeof value !== 'string') return [{ path, message: `expected a string of at most ${this.maxBytes} UTF-8 bytes, got ${describeValue(value)}` }]
    const bytes = Buffer.byteLength(value)
    return bytes <= this.maxBytes ? [] : [{ path, message: `expected at most ${this.maxBytes} UTF-8 bytes, got ${bytes}` }]
  }
  store(mem: SegmentMemory, offset: number, value: unknown): void {
    const { written } = encoder.encodeInto(value as string, mem.u8.subarray(offset + 4, offset + 4 + this.maxBytes))
    mem.u32[offset >> 2] = written
  }
  read(mem: SegmentMemory, offset: number): string {
    // A corrupt length must not read past this object.
    const length = Math.min(mem.u32[offset >> 2] ?? 0, this.maxBytes)
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

export interface BytesView {
  /** A copy of the bytes. */
  value: Uint8Array
  /** The bytes in place: a zero-copy Uint8Array. */
  readonly typed: Uint8Array
  readonly length: number
  readonly offset: number
  toJSON(): number[]
}

export class BytesType extends BaseType<BytesView, Uint8Array> {
  declare readonly kind: 'bytes'
  constructor(readonly length: number) {
    super('bytes', `bytes(${length})`, length, 1)
  }
  validate(value: unknown, path: Path): ShmErrorIssue[] {
    const n = value instanceof Uint8Array || value instanceof ArrayBuffer ? value.byteLength : Array.isArray(value) ? value.length : -1
    if (n < 0) return [{ path, message: `expected a Uint8Array, ArrayBuffer or number[] of at most ${this.length} bytes, got ${describeValue(value)}` }]
    if (n > this.length) return [{ path, message: `expected at most ${this.length} bytes, got ${n}` }]
    if (Array.isArray(value)) {
      const bad = value.findIndex((b) => typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255)
      if (bad >= 0) return [{ path: [...path, bad], message: `expected a byte (0..255), got ${describeValue(value[bad])}` }]
    }
    return []
  }
  store(mem: SegmentMemory, offset: number, value: unknown): void {
    const bytes = value instanceof Uint8Array ? value : value instanceof ArrayBuffer ? new Uint8Array(value) : Uint8Array.from(value as number[])
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
    return new Uint8Array(this.mem.buffer, this.offset, this.type.length)
  }
  toJSON(): number[] {
    return [...this.value]
  }
}

// ---- ptr(type) ---------------------------------------------------------------

/** An offset pointer: the target's offset in the segment (0 for null), never an address. */
export class PtrType<T extends Type> extends BaseType<ScalarView<number>, number> {
  constructor(readonly target: T) {
    super('ptr', `ptr(${target.name})`, 4, 4)
  }
  validate(value: unknown, path: Path): ShmErrorIssue[] {
    const offset = offsetOf(value)
    return offset === undefined ? [{ path, message: `expected an offset (an integer from 0 to ${2 ** 32 - 1}) or a view, got ${describeValue(value)}` }] : []
  }
  store(mem: SegmentMemory, offset: number, value: unknown): void {
    mem.u32[offset >> 2] = offsetOf(value) ?? 0
  }
  read(mem: SegmentMemory, offset: number): number {
    return mem.u32[offset >> 2] ?? 0
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
export type ElementOf<T extends Type> = T extends { kind: 'struct' } | { kind: 'array' } | { kind: 'bytes' } ? ViewOf<T> : ValueOf<T>

export interface ArrayView<T extends Type> extends Iterable<ElementOf<T>> {
  readonly length: number
  readonly offset: number
  get(index: number): ElementOf<T>
  set(index: number, value: ValueOf<T>): void
  /** A zero-copy TypedArray over the elements (numeric element types only). */
  readonly typed: TypedArrayOf<T>
  toJSON(): unknown[]
}

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

export class ArrayType<T extends Type> extends BaseType<ArrayView<T>, ValueOf<T>[]> {
  declare readonly kind: 'array'
  constructor(
    readonly element: T,
    readonly length: number,
  ) {
    if (!Number.isSafeInteger(length) || length < 0 || length * element.size > 2 ** 32) {
      throw invalidArgument('length', length, `an integer from 0 to ${Math.floor(2 ** 32 / Math.max(1, element.size))}`)
    }
    super('array', `array(${element.name},${length})`, element.size * length, element.align)
  }
  validate(value: unknown, path: Path): ShmErrorIssue[] {
    if (typeof value === 'string' || value === null || typeof value !== 'object' || !(Symbol.iterator in value)) {
      return [{ path, message: `expected an iterable of at most ${this.length} ${this.element.name} values, got ${describeValue(value)}` }]
    }
    const issues: ShmErrorIssue[] = []
    let i = 0
    for (const item of value as Iterable<unknown>) {
      if (i >= this.length) return [{ path, message: `expected at most ${this.length} elements` }]
      if (issues.length < 10) issues.push(...this.element.validate(item, [...path, i]))
      i++
    }
    return issues
  }
  store(mem: SegmentMemory, offset: number, value: unknown): void {
    let i = 0
    const size = this.element.size
    for (const item of value as Iterable<unknown>) this.element.store(mem, offset + size * i++, item)
    mem.u8.fill(0, offset + size * i, offset + this.size)
  }
  read(mem: SegmentMemory, offset: number): ValueOf<T>[] {
    const out: ValueOf<T>[] = []
    for (let i = 0; i < this.length; i++) out.push(this.element.read(mem, offset + i * this.element.size) as ValueOf<T>)
    return out
  }
  view(mem: SegmentMemory, offset: number): ArrayView<T> {
    return new ArrayViewImpl(this, mem, offset)
  }
}

class ArrayViewImpl<T extends Type> implements ArrayView<T> {
  constructor(
    private readonly type: ArrayType<T>,
    readonly mem: SegmentMemory,
    readonly offset: number,
  ) {}
  get length(): number {
    return this.type.length
  }
  private at(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.type.length) {
      throw invalidArgument('index', index, `an integer from 0 to ${this.type.length - 1}`, { target: this.mem.target })
    }
    return this.offset + index * this.type.element.size
  }
  get(index: number): ElementOf<T> {
    if (this.mem.closed) throw closedError(this.mem)
    const element = this.type.element
    const at = this.at(index)
    return (isValueKind(element) ? element.read(this.mem, at) : element.view(this.mem, at)) as ElementOf<T>
  }
  set(index: number, value: ValueOf<T>): void {
    checkWrite(this.mem)
    const at = this.at(index)
    assertValid(this.type.element, value, `[${index}]`)
    this.type.element.store(this.mem, at, value)
  }
  get typed(): TypedArrayOf<T> {
    if (this.mem.closed) throw closedError(this.mem)
    const make = typedArrayOf[this.type.element.name]
    if (make === undefined) throw new ShmError('EINVAL', `.typed needs a numeric element type, not ${this.type.element.name}`)
    return make(this.mem.buffer, this.offset, this.type.length) as TypedArrayOf<T>
  }
  *[Symbol.iterator](): Iterator<ElementOf<T>> {
    for (let i = 0; i < this.type.length; i++) yield this.get(i)
  }
  toJSON(): unknown[] {
    if (this.mem.closed) throw closedError(this.mem)
    return this.type.read(this.mem, this.offset).map((v) => (typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? [...v] : v))
  }
}

// ---- struct({...}) -----------------------------------------------------------

export type Fields = Record<string, Type>
export type StructValue<F extends Fields> = { [K in keyof F]?: ValueOf<F[K]> }
export type StructView<F extends Fields> = {
  -readonly [K in keyof F]: F[K] extends { kind: 'struct' } | { kind: 'array' } | { kind: 'bytes' } ? ViewOf<F[K]> : ValueOf<F[K]>
} & { readonly offset: number; toJSON(): Record<string, unknown> }

const RESERVED = new Set(['offset', 'toJSON', 'mem', 'constructor', '__proto__'])

/** C layout: fields in order, each at its natural alignment; size rounded to the struct's alignment. */
export class StructType<F extends Fields> extends BaseType<StructView<F>, StructValue<F>> {
  declare readonly kind: 'struct'
  readonly fields: { name: string; type: Type; offset: number }[]
  private readonly View: new (mem: SegmentMemory, offset: number) => StructView<F>

  constructor(fields: F) {
    if (fields === null || typeof fields !== 'object') throw invalidArgument('fields', fields, 'an object of field name to type')
    const laid: { name: string; type: Type; offset: number }[] = []
    let size = 0
    let align = 1
    for (const [name, type] of Object.entries(fields)) {
      if (!/^[A-Za-z_$][\w$]*$/.test(name) || RESERVED.has(name)) throw invalidArgument(`fields.${name}`, name, `an identifier other than ${[...RESERVED].join(', ')}`)
      if (type === null || typeof type !== 'object' || typeof (type as Type).view !== 'function') throw invalidArgument(`fields.${name}`, type, 'a shmkit type')
      size = Math.ceil(size / type.align) * type.align
      laid.push({ name, type, offset: size })
      size += type.size
      align = Math.max(align, type.align)
    }
    size = Math.max(Math.ceil(size / align) * align, 0)
    super('struct', `struct{${laid.map((f) => `${f.name}:${f.type.name}`).join(',')}}`, size, align)
    this.fields = laid
    this.View = makeStructView<F>(laid)
  }
  validate(value: unknown, path: Path): ShmErrorIssue[] {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return [{ path, message: `expected an object with fields ${this.fields.map((f) => f.name).join(', ')}, got ${describeValue(value)}` }]
    const issues: ShmErrorIssue[] = []
    const known = new Set(this.fields.map((f) => f.name))
    for (const key of Object.keys(value)) if (!known.has(key)) issues.push({ path: [...path, key], message: 'unknown field' })
    for (const field of this.fields) {
      const v = (value as Record<string, unknown>)[field.name]
      if (v !== undefined) issues.push(...field.type.validate(v, [...path, field.name]))
    }
    return issues
  }
  store(mem: SegmentMemory, offset: number, value: unknown): void {
    mem.u8.fill(0, offset, offset + this.size)
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

/** One class per struct type, accessors on its prototype: creating a view is one allocation. */
function makeStructView<F extends Fields>(fields: { name: string; type: Type; offset: number }[]): new (mem: SegmentMemory, offset: number) => StructView<F> {
  class View {
    constructor(
      readonly mem: SegmentMemory,
      readonly offset: number,
    ) {}
    toJSON(): Record<string, unknown> {
      if (this.mem.closed) throw closedError(this.mem)
      const out: Record<string, unknown> = {}
      for (const f of fields) {
        const v = f.type.read(this.mem, this.offset + f.offset)
        out[f.name] = typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? [...v] : v
      }
      return out
    }
  }
  for (const field of fields) {
    const { type, offset } = field
    const value = isValueKind(type)
    Object.defineProperty(View.prototype, field.name, {
      enumerable: true,
      get(this: View) {
        const mem = this.mem
        if (mem.closed) throw closedError(mem)
        return value ? type.read(mem, this.offset + offset) : type.view(mem, this.offset + offset)
      },
      set(this: View, v: unknown) {
        checkWrite(this.mem)
        assertValid(type, v, field.name)
        type.store(this.mem, this.offset + offset, v)
      },
    })
  }
  return View as unknown as new (mem: SegmentMemory, offset: number) => StructView<F>
}

export { scalarsByName }
