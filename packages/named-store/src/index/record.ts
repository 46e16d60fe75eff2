import { RecordKind } from './name-hash.js'

/**
 * An object record: the first bytes of the block that holds a constructed
 * object. It names the object and its type, so any process can find it, check
 * the type it asks for, and list it. Layout (byte offsets from the block):
 */
export const Record = {
  /** RECORD_MAGIC + kind: tells a record from other bytes. */
  TAG: 0,
  HASH: 4,
  TYPE_FP_LO: 8,
  TYPE_FP_HI: 12,
  /** For arrays (constructArray), the element type's fingerprint; else 0. */
  ELEMENT_FP_LO: 16,
  ELEMENT_FP_HI: 20,
  /** Element count: 1 for a single object. */
  COUNT: 24,
  /** The object's size in bytes. */
  BYTE_LENGTH: 28,
  /** UTF-8 bytes of the name (low 16 bits) and of the type's name (high 16). */
  NAME_LENGTHS: 32,
  /** Bit 0: constructed as an array. */
  FLAGS: 36,
  /** Name bytes, then the type name's bytes. */
  NAME: 40,
} as const

export const RECORD_MAGIC = 0x52454300 // "\0CER": low byte carries the kind
export const FLAG_ARRAY = 1
/** Objects start 16-aligned after the record, with a back pointer just before them. */
export const OBJECT_ALIGN = 16
export const MAX_NAME_BYTES = 1024
export const MAX_TYPE_NAME_BYTES = 0xffff

/** Where the object starts, for a record at `record` with the given name lengths. */
export function objectOffsetOf(record: number, nameBytes: number, typeNameBytes: number): number {
  const end = record + Record.NAME + nameBytes + typeNameBytes + 4
  return Math.ceil(end / OBJECT_ALIGN) * OBJECT_ALIGN
}

/** Block bytes a record plus its object needs. */
export function recordBlockBytes(nameBytes: number, typeNameBytes: number, objectBytes: number): number {
  return objectOffsetOf(0, nameBytes, typeNameBytes) + Math.max(objectBytes, 1)
}

export function isRecordTag(tag: number): boolean {
  const kind = tag - RECORD_MAGIC
  return kind === RecordKind.NAMED || kind === RecordKind.UNIQUE || kind === RecordKind.ANONYMOUS
}
