import { describe, ShmError, type ShmErrorIssue } from '@shmkit/errors'
import { checkWrite, closedError, type SegmentMemory } from './memory.js'
import { fingerprint, NO_ISSUES, type Path, type Type } from './type.js'

/** The view of a scalar object: read and write `value`; integer views add atomic `add` and `compareExchange`. */
export interface ScalarView<T> {
  value: T
  readonly offset: number
  /** The value (64-bit integers as decimal strings: JSON has no bigint). */
  toJSON(): unknown
}

/** What 64-bit operations accept besides bigint: safe-integer numbers, for convenience. */
export type IntegerOperand<T extends number | bigint> = T extends bigint ? bigint | number : number

/** Integer views also update atomically across processes. */
export interface IntegerView<T extends number | bigint> extends ScalarView<T> {
  /** Adds `n` atomically (wrapping as the C type does); returns the previous value. */
  add(n: IntegerOperand<T>): T
  /** Stores `replacement` if the value is `expected`, atomically; returns the previous value. */
  compareExchange(expected: IntegerOperand<T>, replacement: IntegerOperand<T>): T
}

type NumberArrayKey = 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32'
type BigArrayKey = 'i64' | 'u64'

/** A fixed-size value type: its bytes hold one number, bigint or boolean. */
export class ScalarType<V, I, N extends string = string> implements Type<V, I> {
  readonly fingerprintLo: number
  readonly fingerprintHi: number
  declare readonly __init?: I
  constructor(
    readonly kind: string,
    readonly name: N,
    readonly size: number,
    /** The problem with `value` (what was expected), or undefined: no allocation when fine. */
    readonly check: (value: unknown) => string | undefined,
    /** Writes a checked, defined value; accessors call it directly so each call site sees one type. */
    readonly storeValue: (mem: SegmentMemory, offset: number, value: unknown) => void,
    /** Reads the value at `offset`. */
    readonly readValue: (mem: SegmentMemory, offset: number) => I,
    private readonly View: new (mem: SegmentMemory, offset: number) => V,
  ) {
    this.align = size
    const fp = fingerprint(name)
    this.fingerprintLo = fp.lo
    this.fingerprintHi = fp.hi
  }
  readonly align: number
  validate(value: unknown, path: Path): ShmErrorIssue[] {
    const problem = this.check(value)
    return problem === undefined ? NO_ISSUES : [{ path, message: `expected ${problem}, got ${describe(value)}` }]
  }
  store(mem: SegmentMemory, offset: number, value: unknown): void {
    if (value === undefined) this.zero(mem, offset)
    else this.storeValue(mem, offset, value)
  }
  zero(mem: SegmentMemory, offset: number): void {
    mem.u8.fill(0, offset, offset + this.size)
  }
  read(mem: SegmentMemory, offset: number): I {
    return this.readValue(mem, offset)
  }
  view(mem: SegmentMemory, offset: number): V {
    return new this.View(mem, offset)
  }
}

function intType<N extends string>(
  name: N,
  key: NumberArrayKey,
  size: number,
  min: number,
  max: number,
): ScalarType<IntegerView<number>, number, N> {
  const shift = Math.log2(size)
  const expected = `an integer from ${min} to ${max}`
  const check = (v: unknown): string | undefined =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? undefined : expected
  const fail = (v: unknown, what: string): never => {
    throw new ShmError('EINVAL', `invalid ${what}: expected ${expected}, got ${describe(v)}`, {
      issues: [{ path: [what], message: expected }],
    })
  }
  const failAdd = (v: unknown): never => {
    throw new ShmError('EINVAL', `invalid n: expected a safe integer (added modulo 2^${size * 8}), got ${describe(v)}`, {
      issues: [{ path: ['n'], message: 'expected a safe integer' }],
    })
  }
  class IntView implements IntegerView<number> {
    constructor(
      readonly mem: SegmentMemory,
      readonly offset: number,
    ) {}
    get value(): number {
      const mem = this.mem
      if (mem.closed) throw closedError(mem)
      return (mem[key] as Int32Array)[this.offset >>> shift] as number
    }
    set value(v: number) {
      checkWrite(this.mem)
      if (check(v) !== undefined) fail(v, 'value')
      ;(this.mem[key] as Int32Array)[this.offset >>> shift] = v
    }
    add(n: number): number {
      checkWrite(this.mem)
      // Atomics wraps modulo 2^bits; a non-safe integer has already lost its low bits.
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) failAdd(n)
      return Atomics.add(this.mem[key] as Int32Array, this.offset >>> shift, n)
    }
    compareExchange(expected: number, replacement: number): number {
      checkWrite(this.mem)
      if (check(expected) !== undefined) fail(expected, 'expected')
      if (check(replacement) !== undefined) fail(replacement, 'replacement')
      return Atomics.compareExchange(this.mem[key] as Int32Array, this.offset >>> shift, expected, replacement)
    }
    toJSON(): number {
      return this.value
    }
  }
  return new ScalarType<IntegerView<number>, number, N>(
    'int',
    name,
    size,
    check,
    (mem, offset, value) => {
      ;(mem[key] as Int32Array)[offset >>> shift] = value as number
    },
    (mem, offset) => (mem[key] as Int32Array)[offset >>> shift] as number,
    IntView,
  )
}

function bigIntType<N extends string>(name: N, key: BigArrayKey, min: bigint, max: bigint): ScalarType<IntegerView<bigint>, bigint, N> {
  const expected = `a bigint (or safe integer) from ${min} to ${max}`
  const check = (v: unknown): string | undefined => {
    if (typeof v === 'bigint') return v >= min && v <= max ? undefined : expected
    if (typeof v === 'number' && Number.isSafeInteger(v) && BigInt(v) >= min && BigInt(v) <= max) return undefined
    return expected
  }
  const fail = (v: unknown, what: string): never => {
    throw new ShmError('EINVAL', `invalid ${what}: expected ${expected}, got ${describe(v)}`, {
      issues: [{ path: [what], message: expected }],
    })
  }
  const big = (v: unknown): bigint => (typeof v === 'bigint' ? v : BigInt(v as number))
  class BigView implements IntegerView<bigint> {
    constructor(
      readonly mem: SegmentMemory,
      readonly offset: number,
    ) {}
    get value(): bigint {
      const mem = this.mem
      if (mem.closed) throw closedError(mem)
      return (mem[key] as BigInt64Array)[this.offset >>> 3] as bigint
    }
    set value(v: bigint) {
      checkWrite(this.mem)
      if (check(v) !== undefined) fail(v, 'value')
      ;(this.mem[key] as BigInt64Array)[this.offset >>> 3] = big(v)
    }
    add(n: bigint | number): bigint {
      checkWrite(this.mem)
      if (typeof n !== 'bigint' && !(typeof n === 'number' && Number.isSafeInteger(n))) {
        throw new ShmError('EINVAL', `invalid n: expected a bigint or safe integer (added modulo 2^64), got ${describe(n)}`, {
          issues: [{ path: ['n'], message: 'expected a bigint or safe integer' }],
        })
      }
      return Atomics.add(this.mem[key] as BigInt64Array, this.offset >>> 3, big(n))
    }
    compareExchange(expected: bigint | number, replacement: bigint | number): bigint {
      checkWrite(this.mem)
      if (check(expected) !== undefined) fail(expected, 'expected')
      if (check(replacement) !== undefined) fail(replacement, 'replacement')
      return Atomics.compareExchange(this.mem[key] as BigInt64Array, this.offset >>> 3, big(expected), big(replacement))
    }
    toJSON(): string {
      return String(this.value)
    }
  }
  return new ScalarType<IntegerView<bigint>, bigint, N>(
    'bigint',
    name,
    8,
    check,
    (mem, offset, value) => {
      ;(mem[key] as BigInt64Array)[offset >>> 3] = big(value)
    },
    (mem, offset) => (mem[key] as BigInt64Array)[offset >>> 3] as bigint,
    BigView as unknown as new (
      mem: SegmentMemory,
      offset: number,
    ) => IntegerView<bigint>,
  )
}

function floatType<N extends string>(name: N, key: 'f32' | 'f64', size: number): ScalarType<ScalarView<number>, number, N> {
  const shift = Math.log2(size)
  const expected = 'a number'
  const check = (v: unknown): string | undefined => (typeof v === 'number' ? undefined : expected)
  class FloatView implements ScalarView<number> {
    constructor(
      readonly mem: SegmentMemory,
      readonly offset: number,
    ) {}
    get value(): number {
      const mem = this.mem
      if (mem.closed) throw closedError(mem)
      return (mem[key] as Float64Array)[this.offset >>> shift] as number
    }
    set value(v: number) {
      checkWrite(this.mem)
      if (typeof v !== 'number')
        throw new ShmError('EINVAL', `invalid value: expected a number, got ${describe(v)}`, {
          issues: [{ path: ['value'], message: expected }],
        })
      ;(this.mem[key] as Float64Array)[this.offset >>> shift] = v
    }
    toJSON(): number {
      return this.value
    }
  }
  return new ScalarType<ScalarView<number>, number, N>(
    'float',
    name,
    size,
    check,
    (mem, offset, value) => {
      ;(mem[key] as Float64Array)[offset >>> shift] = value as number
    },
    (mem, offset) => (mem[key] as Float64Array)[offset >>> shift] as number,
    FloatView,
  )
}

function boolType(): ScalarType<ScalarView<boolean>, boolean, 'bool'> {
  const expected = 'a boolean'
  const check = (v: unknown): string | undefined => (typeof v === 'boolean' ? undefined : expected)
  class BoolView implements ScalarView<boolean> {
    constructor(
      readonly mem: SegmentMemory,
      readonly offset: number,
    ) {}
    get value(): boolean {
      const mem = this.mem
      if (mem.closed) throw closedError(mem)
      return mem.u8[this.offset] !== 0
    }
    set value(v: boolean) {
      checkWrite(this.mem)
      if (typeof v !== 'boolean')
        throw new ShmError('EINVAL', `invalid value: expected a boolean, got ${describe(v)}`, {
          issues: [{ path: ['value'], message: expected }],
        })
      this.mem.u8[this.offset] = v ? 1 : 0
    }
    toJSON(): boolean {
      return this.value
    }
  }
  return new ScalarType<ScalarView<boolean>, boolean, 'bool'>(
    'bool',
    'bool',
    1,
    check,
    (mem, offset, value) => {
      mem.u8[offset] = value ? 1 : 0
    },
    (mem, offset) => mem.u8[offset] !== 0,
    BoolView,
  )
}

export const int8 = intType('int8', 'i8', 1, -128, 127)
export const uint8 = intType('uint8', 'u8', 1, 0, 255)
export const int16 = intType('int16', 'i16', 2, -32768, 32767)
export const uint16 = intType('uint16', 'u16', 2, 0, 65535)
export const int32 = intType('int32', 'i32', 4, -(2 ** 31), 2 ** 31 - 1)
export const uint32 = intType('uint32', 'u32', 4, 0, 2 ** 32 - 1)
export const int64 = bigIntType('int64', 'i64', -(2n ** 63n), 2n ** 63n - 1n)
export const uint64 = bigIntType('uint64', 'u64', 0n, 2n ** 64n - 1n)
export const float32 = floatType('float32', 'f32', 4)
export const float64 = floatType('float64', 'f64', 8)
export const bool = boolType()

/** The typed-array constructor for a numeric element type, for zero-copy `.typed`. */
export const typedArrayOf: Record<string, (buffer: ArrayBuffer | SharedArrayBuffer, offset: number, length: number) => ArrayBufferView> = {
  int8: (b, o, n) => new Int8Array(b, o, n),
  uint8: (b, o, n) => new Uint8Array(b, o, n),
  int16: (b, o, n) => new Int16Array(b, o, n),
  uint16: (b, o, n) => new Uint16Array(b, o, n),
  int32: (b, o, n) => new Int32Array(b, o, n),
  uint32: (b, o, n) => new Uint32Array(b, o, n),
  int64: (b, o, n) => new BigInt64Array(b, o, n),
  uint64: (b, o, n) => new BigUint64Array(b, o, n),
  float32: (b, o, n) => new Float32Array(b, o, n),
  float64: (b, o, n) => new Float64Array(b, o, n),
}

export const scalarsByName: Record<string, Type> = { int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32, float64, bool }
