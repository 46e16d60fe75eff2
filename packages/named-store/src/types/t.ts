import { ArrayType, BytesType, PtrType, StringType, StructType, type Fields } from './composites.js'
import { bool, float32, float64, int16, int32, int64, int8, uint16, uint32, uint64, uint8 } from './scalars.js'
import type { Type } from './type.js'
import { conditionType } from '../sync/condition.js'
import { mutexType, recursiveMutexType } from '../sync/mutex.js'
import { semaphoreType } from '../sync/semaphore.js'

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
  string: (maxBytes: number) => new StringType(maxBytes),
  /** `n` raw bytes, zero-copy through `.typed`. */
  bytes: (n: number) => new BytesType(n),
  /** `n` elements of `element`, laid out contiguously. */
  array: <T extends Type>(element: T, n: number) => new ArrayType(element, n),
  /** Fields in declaration order, C layout. */
  struct: <F extends Fields>(fields: F) => new StructType(fields),
  /** An offset pointer to a `target` in the same segment. */
  ptr: <T extends Type>(target: T) => new PtrType(target),
  /** A robust process-shared mutex: `seg.construct('m', t.mutex)`, or a struct field beside the data it guards. */
  mutex: mutexType,
  /** A mutex its owner may lock again (and unlocks as many times). */
  recursiveMutex: recursiveMutexType,
  /** A process-shared condition variable, used with a t.mutex. */
  condition: conditionType,
  /** A process-shared counting semaphore; `init` is its initial count. */
  semaphore: semaphoreType,
}
