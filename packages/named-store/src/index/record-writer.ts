import { invalidArgument } from '@shmkit/errors'
import type { SegmentMemory, Type } from '../types/index.js'
import { encodeName } from './name-table.js'
import { FLAG_ARRAY, MAX_TYPE_NAME_BYTES, objectOffsetOf, Record, RECORD_MAGIC, recordBlockBytes } from './record.js'
import type { RecordKind } from './name-hash.js'

const encoder = new TextEncoder()
const typeNames = new WeakMap<Type, Uint8Array>()

/** The type's canonical name as stored in records (cached per type); EINVAL past MAX_TYPE_NAME_BYTES. */
export function typeNameBytes(type: Type): Uint8Array {
  let bytes = typeNames.get(type)
  if (bytes === undefined) {
    bytes = encodeName(type.name)
    if (bytes.length > MAX_TYPE_NAME_BYTES)
      throw invalidArgument('type', type.name, `a type whose canonical name is at most ${MAX_TYPE_NAME_BYTES} bytes`)
    typeNames.set(type, bytes)
  }
  return bytes
}

/** Bytes of the allocator block that holds a record, its names and an object of `type`. */
export function recordBytesFor(nameBytes: number, type: Type): number {
  return recordBlockBytes(nameBytes, typeNameBytes(type).length, type.size)
}

/**
 * Writes a record (index/record.ts) into the fresh block at `record`, the
 * object's back pointer, and zeros over the object; returns the object's
 * offset. Everything but the tag: `publishRecord` writes it last, once the
 * object itself is stored, so until then nothing recognises the record.
 */
export function writeRecord(
  mem: SegmentMemory,
  record: number,
  hash: number,
  name: string,
  nameBytes: number,
  type: Type,
  count: number,
  elementType: Type | undefined,
): number {
  const typeName = typeNameBytes(type)
  const u32 = mem.u32
  const r = record >>> 2
  u32[r + (Record.HASH >>> 2)] = hash
  u32[r + (Record.TYPE_FP_LO >>> 2)] = type.fingerprintLo
  u32[r + (Record.TYPE_FP_HI >>> 2)] = type.fingerprintHi
  u32[r + (Record.ELEMENT_FP_LO >>> 2)] = elementType?.fingerprintLo ?? 0
  u32[r + (Record.ELEMENT_FP_HI >>> 2)] = elementType?.fingerprintHi ?? 0
  u32[r + (Record.COUNT >>> 2)] = count
  u32[r + (Record.BYTE_LENGTH >>> 2)] = type.size
  u32[r + (Record.NAME_LENGTHS >>> 2)] = nameBytes | (typeName.length << 16)
  u32[r + (Record.FLAGS >>> 2)] = elementType === undefined ? 0 : FLAG_ARRAY
  writeName(mem.u8, record + Record.NAME, name, nameBytes)
  mem.u8.set(typeName, record + Record.NAME + nameBytes)
  const offset = objectOffsetOf(record, nameBytes, typeName.length)
  u32[(offset - 4) >>> 2] = record
  // Zeroed even when an init follows: a type that keeps data out of line (t.str()) reads its old slot as "nothing to free".
  mem.u8.fill(0, offset, offset + type.size)
  return offset
}

/** The tag, last: from now on the record is one. */
export function publishRecord(mem: SegmentMemory, record: number, kind: RecordKind): void {
  mem.u32[(record + Record.TAG) >>> 2] = RECORD_MAGIC + kind
}

/** Writes `name` as UTF-8 at `at` (its length was measured when it was checked). */
function writeName(u8: Uint8Array, at: number, name: string, bytes: number): void {
  if (bytes === name.length) {
    for (let i = 0; i < bytes; i++) u8[at + i] = name.charCodeAt(i)
    return
  }
  encoder.encodeInto(name, u8.subarray(at, at + bytes))
}
