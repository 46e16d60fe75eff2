import { invalidArgument, ShmError } from '@shmkit/errors'
import type { OwnerLiveness } from '../segment/owner.js'
import type { WordWaiter } from '../sync/word-waiter.js'
import type { SegmentHeap } from '../containers/heap.js'

/**
 * The bytes every view reads and writes: typed arrays over the whole segment,
 * created once, plus the two flags every access checks. Views hold this
 * object, never the arrays, so closing the segment (or remapping it) reaches
 * every view at once.
 */
export interface SegmentMemory {
  buffer: ArrayBuffer | SharedArrayBuffer
  u8: Uint8Array
  i8: Int8Array
  u16: Uint16Array
  i16: Int16Array
  u32: Uint32Array
  i32: Int32Array
  u64: BigUint64Array
  i64: BigInt64Array
  f32: Float32Array
  f64: Float64Array
  readOnly: boolean
  closed: boolean
  /** How the segment is named in messages. */
  target: string
  /** Who owns what (lock words hold its tokens); set by the segment manager. */
  liveness?: OwnerLiveness
  /** How the sync primitives sleep on and wake this memory's words (by the buffer's kind when absent). */
  words?: WordWaiter
  /**
   * The segment's allocator, lock and journal, for types that keep data out of
   * line (`t.str()`, `t.vector`, `t.map`); set by the segment manager, absent
   * over bare memory.
   */
  heap?: SegmentHeap
}

/** Typed views over a segment's bytes, shared by every type and view of the segment. */
export function createSegmentMemory(
  buffer: ArrayBuffer | SharedArrayBuffer,
  options: { readOnly: boolean; target: string },
): SegmentMemory {
  if (options === null || typeof options !== 'object' || typeof options.readOnly !== 'boolean' || typeof options.target !== 'string') {
    throw invalidArgument('options', options, '{ readOnly: boolean, target: string }')
  }
  const mem = { readOnly: options.readOnly, closed: false, target: options.target } as SegmentMemory
  refreshSegmentMemory(mem, buffer)
  return mem
}

/** Points the memory at a new mapping of the same segment. */
export function refreshSegmentMemory(mem: SegmentMemory, buffer: ArrayBuffer | SharedArrayBuffer): void {
  if (!(buffer instanceof ArrayBuffer) && !(typeof SharedArrayBuffer === 'function' && buffer instanceof SharedArrayBuffer)) {
    throw invalidArgument('buffer', buffer, 'an ArrayBuffer or SharedArrayBuffer')
  }
  const n = buffer.byteLength
  mem.buffer = buffer
  mem.u8 = new Uint8Array(buffer)
  mem.i8 = new Int8Array(buffer)
  mem.u16 = new Uint16Array(buffer, 0, n >>> 1)
  mem.i16 = new Int16Array(buffer, 0, n >>> 1)
  mem.u32 = new Uint32Array(buffer, 0, Math.floor(n / 4))
  mem.i32 = new Int32Array(buffer, 0, Math.floor(n / 4))
  mem.u64 = new BigUint64Array(buffer, 0, Math.floor(n / 8))
  mem.i64 = new BigInt64Array(buffer, 0, Math.floor(n / 8))
  mem.f32 = new Float32Array(buffer, 0, Math.floor(n / 4))
  mem.f64 = new Float64Array(buffer, 0, Math.floor(n / 8))
}

export function closedError(mem: SegmentMemory): ShmError {
  return new ShmError('ECLOSED', `${mem.target} is closed`, { target: mem.target })
}

export function readOnlyError(mem: SegmentMemory): ShmError {
  return new ShmError('EREADONLY', `${mem.target} was opened read-only: its objects cannot be written`, { target: mem.target })
}

/** Throws unless a write may go ahead: the one check every setter makes. */
export function checkWrite(mem: SegmentMemory): void {
  if (mem.closed) throw closedError(mem)
  if (mem.readOnly) throw readOnlyError(mem)
}
