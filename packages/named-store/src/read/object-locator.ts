import { ShmError } from '@shmkit/errors'
import type { NameTable } from '../index/name-table.js'
import type { RecordKind } from '../index/name-hash.js'
import type { RecordReader } from '../index/record-reader.js'
import { arrayOf } from '../segment/input-checks.js'
import { assertFits, type SegmentMemory, type Type } from '../types/index.js'

/** locate()'s answer when there is no such object. */
export const NOT_FOUND = -1
/** locate() found a problem; the error is in `error`. */
export const FAILED = -2

/**
 * Finds one object's record through the name table and checks everything a
 * find answers from. It runs inside a validated read (read-protocol.ts) or
 * under the lock, where bytes may be torn: problems are returned as values,
 * and the caller throws them only once the read is known to be consistent.
 */
export class ObjectLocator {
  /** What locate() found wrong (ETYPE, ECORRUPT), thrown once the read is validated. */
  error: unknown = undefined
  /** The element count of the array locate() found. */
  count = 0

  constructor(
    private readonly mem: SegmentMemory,
    private readonly table: NameTable,
    private readonly records: RecordReader,
    private readonly target: string,
  ) {}

  /**
   * Reads everything a find answers from: the table slot, the record, its
   * type and the object's place. Runs inside a validated read (or under the
   * lock), so it reports problems as values: the object's offset, NOT_FOUND,
   * or FAILED with the error in `error` (ETYPE, ECORRUPT), thrown only
   * once the read is known to be consistent. `asArray`: `type` is the element
   * type of an array of any length, whose count lands in `count`.
   */
  locate(name: string, kind: RecordKind, hash: number, type: Type, asArray: boolean): number {
    const slot = this.table.findSlot(name, kind, hash)
    if (slot < 0) return NOT_FOUND
    const record = this.table.recordAt(slot)
    const records = this.records
    const corruption = records.corruption(record, name)
    if (corruption !== undefined) {
      this.error = corruption
      return FAILED
    }
    if (
      asArray
        ? !records.isArray(record) || !records.hasFingerprint(record, type.fingerprintLo, type.fingerprintHi, true)
        : !records.hasFingerprint(record, type.fingerprintLo, type.fingerprintHi, false)
    ) {
      this.error = this.typeMismatch(name, record, asArray ? `array(${type.name},*)` : type.name)
      return FAILED
    }
    const offset = records.objectOffset(record)
    const count = records.count(record)
    const byteLength = records.byteLength(record)
    if (asArray ? count * type.size !== byteLength : type.size !== byteLength) {
      const needs = asArray ? `counts ${count} elements (${count * type.size} bytes)` : `holds a ${type.name} (${type.size} bytes)`
      this.error = new ShmError(
        'ECORRUPT',
        `${this.target}: "${name}": record ${record} ${needs}, but its object has ${byteLength} bytes`,
        { target: this.target },
      )
      return FAILED
    }
    this.count = count
    assertFits(this.mem, offset, asArray ? arrayOf(type, Math.max(count, 1)) : type)
    return offset
  }

  private typeMismatch(name: string, record: number, asked: string): ShmError {
    const stored = this.records.typeName(record)
    return new ShmError('ETYPE', `"${name}" in ${this.target} is ${stored}, not ${asked}`, {
      target: this.target,
      details: { name, stored, asked },
    })
  }
}
