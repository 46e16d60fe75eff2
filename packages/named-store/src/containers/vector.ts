import { describe, invalidArgument, ShmError, type ShmErrorIssue } from '@shmkit/errors'
import { checkWrite, closedError, type SegmentMemory } from '../types/memory.js'
import { ScalarType, typedArrayOf } from '../types/scalars.js'
import { isType, type TypedArrayOf } from '../types/composites.js'
import { fingerprint, invalidValue, NO_ISSUES, NO_PATH, type Path, type Type, type ValueOf } from '../types/type.js'
import { heapOf, type SegmentHeap } from './heap.js'
import { JOURNAL_RESERVE, READ_ATTEMPTS, readContainer, readSlowly, writeContainer } from './seqlock.js'
import { plainJson } from './json-value.js'

/**
 * A vector's header, where the vector object lives (a named object, a struct
 * field): generation, length, capacity, storage offset, newest retired storage.
 */
const GEN = 0
const LENGTH = 4
const CAPACITY = 8
const STORAGE = 12
const RETIRED = 16
const HEADER_BYTES = 24
/** Each storage block starts with [next retired block, capacity]; elements follow, 16-aligned. */
const STORAGE_HEADER = 16
/** Element writes are journaled byte for byte: an element must fit the journal many times over. */
export const MAX_ELEMENT_BYTES = 1024
const MAX_LENGTH = 2 ** 31

/** Element and value types a container holds: any fixed-size type or out-of-line value, not another container. */
export function checkHeldType(type: unknown, what: string, maxBytes: number): asserts type is Type {
  if (!isType(type)) throw invalidArgument(what, type, 'a shmkit type (t.float64, t.str(), t.struct({...}), ...)')
  if (/(?:^|[:(,{])(?:vector|map)\(/.test(type.name))
    throw invalidArgument(what, type.name, 'a type that is not (and holds no) t.vector or t.map: containers do not nest yet')
  if (type.size > maxBytes)
    throw invalidArgument(what, `${type.name} of ${type.size} bytes`, `a type of at most ${maxBytes} bytes (writes to it are journaled)`)
}

/** A view of a `t.vector` in a segment: a growable array of elements. */
export interface VectorView<T extends Type> extends Iterable<ValueOf<T>> {
  readonly offset: number
  readonly length: number
  readonly capacity: number
  /** The element (a copy for structs), or undefined past the end. */
  get(index: number): ValueOf<T> | undefined
  /** Replaces element `index` (EINVAL past the end). */
  set(index: number, value: ValueOf<T>): void
  /** Appends the values in one atomic step (out-of-line elements: 16 a step); returns the new length. */
  push(...values: ValueOf<T>[]): number
  /** Removes and returns the last element. */
  pop(): ValueOf<T> | undefined
  /** Makes room for `capacity` elements without changing the length. */
  reserve(capacity: number): void
  /** Drops elements past `length` (the capacity stays). */
  truncate(length: number): void
  /** Removes every element (truncates to 0; the capacity stays). */
  clear(): void
  /** All elements as they were at one instant. */
  toArray(): ValueOf<T>[]
  /**
   * A zero-copy TypedArray over the current storage (numeric elements only),
   * `length` elements long. Storage a vector outgrew is kept (not freed)
   * until the vector is destroyed, so a `.typed` taken earlier keeps reading
   * the values of that time, never freed memory; take `.typed` again after a
   * push to see the new storage. Writes through it bypass the generation and
   * the journal: they are plain stores, not atomic steps.
   */
  readonly typed: TypedArrayOf<T>
  /** The elements as plain JSON values. */
  toJSON(): unknown[]
}

/** `t.vector(elem)`: a growable array in the segment. */
export class VectorType<T extends Type> implements Type<VectorView<T>, ValueOf<T>[]> {
  readonly kind = 'vector'
  readonly size = HEADER_BYTES
  readonly align = 8
  readonly ownsHeap = true
  readonly name: string
  readonly fingerprintLo: number
  readonly fingerprintHi: number
  declare readonly __init?: ValueOf<T>[]
  private readonly View: new (
    mem: SegmentMemory,
    offset: number,
  ) => VectorView<T>
  constructor(readonly element: T) {
    checkHeldType(element, 'element', MAX_ELEMENT_BYTES)
    this.name = `vector(${element.name})`
    const fp = fingerprint(this.name)
    this.fingerprintLo = fp.lo
    this.fingerprintHi = fp.hi
    this.View = makeVectorView(this)
  }
  validate(value: unknown, path: Path): ShmErrorIssue[] {
    if (value === null || typeof value !== 'object' || !(Symbol.iterator in value))
      return [{ path, message: `expected an iterable of ${this.element.name}, got ${describe(value)}` }]
    let issues: ShmErrorIssue[] = NO_ISSUES
    let i = 0
    for (const item of value as Iterable<unknown>) {
      if (i >= MAX_LENGTH) return [{ path, message: `expected at most ${MAX_LENGTH} elements` }]
      if (issues.length < 10 && this.element.validate(item, NO_PATH).length !== 0) {
        if (issues === NO_ISSUES) issues = []
        issues.push(...this.element.validate(item, [...path, i]))
      }
      i++
    }
    return issues
  }
  store(mem: SegmentMemory, offset: number, value: unknown): void {
    const heap = heapOf(mem, this.name)
    const values = value === undefined ? [] : [...(value as Iterable<unknown>)]
    writeContainer(mem, heap, offset + GEN, () => {
      this.truncateLocked(mem, heap, offset, 0)
      this.pushLocked(mem, heap, offset, values)
    })
  }
  zero(mem: SegmentMemory, offset: number): void {
    mem.u8.fill(0, offset, offset + HEADER_BYTES)
  }
  read(mem: SegmentMemory, offset: number): ValueOf<T>[] {
    return readContainer(mem, offset + GEN, () => this.readUnchecked(mem, offset))
  }
  readUnchecked(mem: SegmentMemory, offset: number): ValueOf<T>[] {
    const u32 = mem.u32
    const length = u32[(offset + LENGTH) >> 2] ?? 0
    const first = this.elementsAt(mem, offset, length)
    const out: ValueOf<T>[] = new Array(length)
    for (let i = 0; i < length; i++) out[i] = this.readElement(mem, first + i * this.element.size)
    return out
  }
  view(mem: SegmentMemory, offset: number): VectorView<T> {
    return new this.View(mem, offset)
  }
  /** Frees the elements' out-of-line data, the storage and every retired storage block. */
  release(mem: SegmentMemory, offset: number): void {
    const heap = heapOf(mem, this.name)
    writeContainer(mem, heap, offset + GEN, () => {
      this.truncateLocked(mem, heap, offset, 0)
      const u32 = mem.u32
      let block = u32[(offset + RETIRED) >> 2] ?? 0
      for (let n = 0; block !== 0 && n < 64; n++) {
        const next = u32[block >> 2] ?? 0
        heap.free(block)
        block = next
      }
      const storage = u32[(offset + STORAGE) >> 2] ?? 0
      if (storage !== 0) heap.free(storage)
      for (const field of [LENGTH, CAPACITY, STORAGE, RETIRED]) heap.writeWord(offset + field, 0)
    })
  }
  /** Empties the vector in bounded atomic steps, so the one step that destroys it stays small. */
  drain(mem: SegmentMemory, offset: number): void {
    this.view(mem, offset).clear()
  }

  // ---- under the lock, inside writeContainer ---------------------------------

  /** First element's offset, once `length` elements are known to fit the segment. */
  elementsAt(mem: SegmentMemory, offset: number, length: number): number {
    const storage = mem.u32[(offset + STORAGE) >> 2] ?? 0
    const first = storage + STORAGE_HEADER
    if (length !== 0 && (storage === 0 || first + length * this.element.size > mem.u8.byteLength)) {
      throw new ShmError('ECORRUPT', `${mem.target}: ${this.name} at ${offset}: ${length} elements at ${storage} run past the segment`, {
        target: mem.target,
      })
    }
    return first
  }
  /** Reads the element at byte offset `at`, without a consistency check of its own. */
  readElement(mem: SegmentMemory, at: number): ValueOf<T> {
    const element = this.element
    return (element.readUnchecked ?? element.read).call(element, mem, at) as ValueOf<T>
  }
  /** Grows the storage to hold at least `needed` elements (at least doubling); the old storage is kept for earlier `.typed` views. */
  growLocked(mem: SegmentMemory, heap: SegmentHeap, offset: number, needed: number): void {
    const u32 = mem.u32
    const capacity = u32[(offset + CAPACITY) >> 2] ?? 0
    if (needed <= capacity) return
    if (needed > MAX_LENGTH) throw invalidArgument('length', needed, `at most ${MAX_LENGTH} elements`, { target: mem.target })
    const size = this.element.size
    const grown = Math.max(needed, capacity * 2, 4)
    const block = heap.allocate(STORAGE_HEADER + grown * size)
    u32[block >> 2] = 0
    u32[(block + 4) >> 2] = grown
    const old = u32[(offset + STORAGE) >> 2] ?? 0
    const length = u32[(offset + LENGTH) >> 2] ?? 0
    if (old !== 0) {
      mem.u8.copyWithin(block + STORAGE_HEADER, old + STORAGE_HEADER, old + STORAGE_HEADER + length * size)
      // Kept, not freed: a `.typed` taken before this growth may still read it.
      heap.writeWord(old, u32[(offset + RETIRED) >> 2] ?? 0)
      heap.writeWord(offset + RETIRED, old)
    }
    heap.writeWord(offset + STORAGE, block)
    heap.writeWord(offset + CAPACITY, grown)
  }
  /**
   * Appends values[from...]; returns where it stopped. Out-of-line elements
   * stop early when the journal runs low (the caller goes on in a new step).
   */
  pushLocked(mem: SegmentMemory, heap: SegmentHeap, offset: number, values: readonly unknown[], from = 0, bounded = false): number {
    if (from >= values.length) return from
    const length = mem.u32[(offset + LENGTH) >> 2] ?? 0
    this.growLocked(mem, heap, offset, length + values.length - from)
    const element = this.element
    const size = element.size
    const owns = bounded && element.ownsHeap === true
    let at = (mem.u32[(offset + STORAGE) >> 2] ?? 0) + STORAGE_HEADER + length * size
    let i = from
    // Past the length: not journaled, a rollback puts the length back and they are garbage again.
    // A scalar's store writes every byte of it (zeroes for undefined): no zeroing first, a builtin call per element.
    const zeroFirst = !(element instanceof ScalarType)
    for (; i < values.length && (!owns || i === from || heap.journalRoom > JOURNAL_RESERVE); i++, at += size) {
      const value = values[i]
      if (!zeroFirst) element.store(mem, at, value)
      else {
        mem.u8.fill(0, at, at + size)
        if (value !== undefined) element.store(mem, at, value)
      }
    }
    heap.writeWord(offset + LENGTH, length + i - from)
    return i
  }
  /** Drops elements past `to`; out-of-line ones are freed from the end, stopping early when the journal runs low (bounded). */
  truncateLocked(mem: SegmentMemory, heap: SegmentHeap, offset: number, to: number, bounded = false): void {
    const length = mem.u32[(offset + LENGTH) >> 2] ?? 0
    if (to >= length) return
    let end = length
    if (this.element.ownsHeap === true) {
      const first = this.elementsAt(mem, offset, length)
      for (; end > to && (!bounded || end === length || heap.journalRoom > JOURNAL_RESERVE); end--)
        this.element.release?.(mem, first + (end - 1) * this.element.size)
    } else end = to
    heap.writeWord(offset + LENGTH, end)
  }
  /** Stores `value` in element `index` (EINVAL past the end), journaling the whole element first. */
  setLocked(mem: SegmentMemory, heap: SegmentHeap, offset: number, index: number, value: unknown): void {
    const length = mem.u32[(offset + LENGTH) >> 2] ?? 0
    if (index >= length)
      throw invalidArgument(
        'index',
        index,
        length === 0 ? 'an index of an element (the vector is empty)' : `an integer from 0 to ${length - 1}`,
        { target: mem.target },
      )
    const at = this.elementsAt(mem, offset, length) + index * this.element.size
    // The whole element first: a rollback then restores every byte, whatever the store does in place.
    heap.record(at, this.element.size)
    this.element.store(mem, at, value)
  }
}

function makeVectorView<T extends Type>(type: VectorType<T>): new (mem: SegmentMemory, offset: number) => VectorView<T> {
  const element = type.element
  const size = element.size
  const scalar = element instanceof ScalarType ? (element as ScalarType<unknown, unknown>) : undefined
  const readValue = scalar?.readValue
  const check = scalar?.check
  const makeTyped = typedArrayOf[element.name]
  const validate = (value: unknown, what: string | number): void => {
    if (check !== undefined ? check(value) !== undefined : element.validate(value, NO_PATH).length !== 0)
      throw invalidValue(element, value, typeof what === 'number' ? `[${what}]` : what)
  }
  const checkIndex = (index: unknown, mem: SegmentMemory): number => {
    if (typeof index !== 'number' || index >>> 0 !== index)
      throw invalidArgument('index', index, `an integer from 0 to ${MAX_LENGTH - 1}`, { target: mem.target })
    return index
  }
  return class View implements VectorView<T> {
    constructor(
      readonly mem: SegmentMemory,
      readonly offset: number,
    ) {}
    get length(): number {
      if (this.mem.closed) throw closedError(this.mem)
      return Atomics.load(this.mem.u32, (this.offset + LENGTH) >> 2)
    }
    get capacity(): number {
      if (this.mem.closed) throw closedError(this.mem)
      return Atomics.load(this.mem.u32, (this.offset + CAPACITY) >> 2)
    }
    get(index: number): ValueOf<T> | undefined {
      const mem = this.mem
      if (mem.closed) throw closedError(mem)
      checkIndex(index, mem)
      const i32 = mem.i32
      const u32 = mem.u32
      const base = this.offset
      const gen = (base + GEN) >> 2
      // The read protocol, inlined: no closure on the hot path.
      if (mem.heap?.holdsLock !== true) {
        for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
          const before = Atomics.load(i32, gen)
          if ((before & 1) === 0) {
            const length = u32[(base + LENGTH) >> 2] ?? 0
            let value: ValueOf<T> | undefined
            if (index < length) {
              const at = (u32[(base + STORAGE) >> 2] ?? 0) + STORAGE_HEADER + index * size
              if (at + size > u32.length * 4) {
                if (Atomics.load(i32, gen) !== before) continue
                type.elementsAt(mem, base, length) // throws ECORRUPT
              }
              if (readValue !== undefined) value = readValue(mem, at) as ValueOf<T>
              else {
                try {
                  value = type.readElement(mem, at)
                } catch (e) {
                  if (Atomics.load(i32, gen) === before) throw e
                  continue
                }
              }
            }
            if (Atomics.load(i32, gen) === before) return value
          }
        }
      }
      return readSlowly(mem, base + GEN, () => {
        const length = u32[(base + LENGTH) >> 2] ?? 0
        return index < length ? type.readElement(mem, type.elementsAt(mem, base, length) + index * size) : undefined
      })
    }
    set(index: number, value: ValueOf<T>): void {
      const mem = this.mem
      checkWrite(mem)
      checkIndex(index, mem)
      validate(value, index)
      const heap = heapOf(mem, type.name)
      writeContainer(mem, heap, this.offset + GEN, () => type.setLocked(mem, heap, this.offset, index, value))
    }
    push(...values: ValueOf<T>[]): number {
      const mem = this.mem
      checkWrite(mem)
      for (let i = 0; i < values.length; i++) validate(values[i], i)
      const heap = heapOf(mem, type.name)
      // Out-of-line elements go in as many atomic steps as the journal needs; others in one.
      let from = 0
      do from = writeContainer(mem, heap, this.offset + GEN, () => type.pushLocked(mem, heap, this.offset, values, from, true))
      while (from < values.length)
      return mem.u32[(this.offset + LENGTH) >> 2] ?? 0
    }
    pop(): ValueOf<T> | undefined {
      const mem = this.mem
      checkWrite(mem)
      const heap = heapOf(mem, type.name)
      return writeContainer(mem, heap, this.offset + GEN, () => {
        const length = mem.u32[(this.offset + LENGTH) >> 2] ?? 0
        if (length === 0) return undefined
        const value = type.readElement(mem, type.elementsAt(mem, this.offset, length) + (length - 1) * size)
        type.truncateLocked(mem, heap, this.offset, length - 1)
        return value
      })
    }
    reserve(capacity: number): void {
      const mem = this.mem
      checkWrite(mem)
      if (typeof capacity !== 'number' || !Number.isSafeInteger(capacity) || capacity < 0 || capacity > MAX_LENGTH) {
        throw invalidArgument('capacity', capacity, `an integer from 0 to ${MAX_LENGTH}`, { target: mem.target })
      }
      const heap = heapOf(mem, type.name)
      writeContainer(mem, heap, this.offset + GEN, () => type.growLocked(mem, heap, this.offset, capacity))
    }
    truncate(length: number): void {
      const mem = this.mem
      checkWrite(mem)
      if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0)
        throw invalidArgument('length', length, `an integer from 0 to ${MAX_LENGTH}`, { target: mem.target })
      const heap = heapOf(mem, type.name)
      // Out-of-line elements are freed from the end in as many atomic steps as the journal needs: each leaves a shorter, whole vector.
      while ((mem.u32[(this.offset + LENGTH) >> 2] ?? 0) > length) {
        writeContainer(mem, heap, this.offset + GEN, () => type.truncateLocked(mem, heap, this.offset, length, true))
      }
    }
    clear(): void {
      this.truncate(0)
    }
    toArray(): ValueOf<T>[] {
      if (this.mem.closed) throw closedError(this.mem)
      return type.read(this.mem, this.offset)
    }
    [Symbol.iterator](): Iterator<ValueOf<T>> {
      return this.toArray()[Symbol.iterator]()
    }
    get typed(): TypedArrayOf<T> {
      const mem = this.mem
      if (mem.closed) throw closedError(mem)
      if (makeTyped === undefined)
        throw new ShmError('EINVAL', `.typed needs a numeric element type (int8 ... float64), not ${element.name}`, { target: mem.target })
      return readContainer(mem, this.offset + GEN, () => {
        const length = mem.u32[(this.offset + LENGTH) >> 2] ?? 0
        return makeTyped(mem.buffer, type.elementsAt(mem, this.offset, length), length) as TypedArrayOf<T>
      })
    }
    toJSON(): unknown[] {
      return this.toArray().map(plainJson)
    }
  }
}
