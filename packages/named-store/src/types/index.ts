import { invalidArgument } from '@shmkit/errors'
import { ArrayType, BytesType, PtrType, StringType, StructType, type Fields } from './composites.js'
import { bool, float32, float64, int16, int32, int64, int8, uint16, uint32, uint64, uint8 } from './scalars.js'
import type { Type } from './type.js'

function checkLength(value: unknown, what: string, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) throw invalidArgument(what, value, `an integer from 1 to ${max}`)
  return value
}

/** The type constructors: `t.int32`, `t.string(16)`, `t.struct({ x: t.float64 })`... */
export const t = {
  int8,
  uint8,
  int16,
  uint16,
  int32,
  uint32,
  int64,
  uint64,
  float32,
  float64,
  bool,
  /** A UTF-8 string of at most `maxBytes` bytes. */
  string: (maxBytes: number) => new StringType(checkLength(maxBytes, 'maxBytes', 2 ** 24)),
  /** `n` raw bytes, zero-copy through `.typed`. */
  bytes: (n: number) => new BytesType(checkLength(n, 'n', 2 ** 32)),
  /** `n` elements of `element`, laid out contiguously. */
  array: <T extends Type>(element: T, n: number) => {
    if (element === null || typeof element !== 'object' || typeof element.view !== 'function') throw invalidArgument('element', element, 'a shmkit type')
    return new ArrayType(element, n)
  },
  /** Fields in declaration order, C layout. */
  struct: <F extends Fields>(fields: F) => new StructType(fields),
  /** An offset pointer to a `target` in the same segment. */
  ptr: <T extends Type>(target: T) => new PtrType(target),
}

export type { Type, ViewOf, ValueOf, Path } from './type.js'
export { validateInit, assertFits, fingerprint } from './type.js'
export { createSegmentMemory, refreshSegmentMemory } from './memory.js'
export type { SegmentMemory } from './memory.js'
export type { ScalarView, IntegerView } from './scalars.js'
export { ScalarType } from './scalars.js'
export type { ArrayView, BytesView, StructView, StructValue, Fields, ElementOf, TypedArrayOf } from './composites.js'
export { ArrayType, BytesType, PtrType, StringType, StructType } from './composites.js'
export { typeFromName } from './parse-name.js'
