import { ArrayType, BytesType, PtrType, StringType, StructType, type Fields } from './composites.js'
import { bool, float32, float64, int16, int32, int64, int8, uint16, uint32, uint64, uint8 } from './scalars.js'
import type { Type } from './type.js'
import { conditionType } from '../sync/condition.js'
import { mutexType, recursiveMutexType } from '../sync/mutex.js'
import { rwlockType } from '../sync/rwlock.js'
import { semaphoreType } from '../sync/semaphore.js'
import { messageQueueType } from '../messaging/queue-type.js'
import { JsonType, StrType, VarBytesType } from '../containers/blob.js'
import { VectorType } from '../containers/vector.js'
import { MapType, type MapOptions } from '../containers/map.js'

const str = new StrType()
const varBytes = new VarBytesType()
const json = new JsonType()

/** `t.bytes()`: variable length, out of line; `t.bytes(n)`: exactly `n` bytes in place. */
function bytes(): VarBytesType
function bytes(n: number): BytesType
function bytes(n?: number): BytesType | VarBytesType {
  return n === undefined ? varBytes : new BytesType(n)
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
  string: (maxBytes: number) => new StringType(maxBytes),
  /**
   * `t.bytes(n)`: `n` raw bytes in place, zero-copy through `.typed`.
   * `t.bytes()`: a byte string of any length, stored out of line and replaced as a whole on write.
   */
  bytes,
  /** A UTF-8 string of any length, stored out of line and replaced as a whole on write. */
  str: (): StrType => str,
  /** Any JSON value, stored serialized out of line; reads parse a fresh copy. */
  json: (): JsonType => json,
  /** `n` elements of `element`, laid out contiguously. */
  array: <T extends Type>(element: T, n: number) => new ArrayType(element, n),
  /** A growable array of `element` (any fixed-size type or `t.str()`/`t.bytes()`/`t.json()`), stored out of line. */
  vector: <T extends Type>(element: T) => new VectorType(element),
  /**
   * A hash map keyed by `t.str()`, `t.bytes()` or an integer type, with values
   * of any fixed-size type or `t.str()`/`t.bytes()`/`t.json()`. With
   * `maxEntries`, `maxBytes` or `ttl` it is a cache: LRU eviction and expiry.
   */
  map: <K extends Type, V extends Type>(key: K, value: V, options?: MapOptions) => new MapType(key, value, options),
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
  /**
   * A robust process-shared reader/writer lock (256 bytes): one writer (`lock`) or up to
   * 60 readers (`lockShared`) at a time; a waiting writer keeps new readers out.
   */
  rwlock: rwlockType,
  /**
   * A `MessageQueue` living in the segment: `seg.construct('jobs', t.messageQueue({ maxMessages: 64, maxMessageSize: 256 }))`,
   * found by name from any process; its view has the whole MessageQueue API. The limits are part of the type.
   */
  messageQueue: messageQueueType,
}
