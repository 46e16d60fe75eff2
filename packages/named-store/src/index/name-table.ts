import { ShmError } from '@shmkit/errors'
import { SegmentHeader } from '../segment/header.js'
import { Record, RECORD_MAGIC } from './record.js'
import type { RecordKind } from './name-hash.js'

const TABLE_OFFSET = SegmentHeader.TABLE_OFFSET >> 2
const TABLE_CAPACITY = SegmentHeader.TABLE_CAPACITY >> 2
const SLOT_BYTES = 8
const MIN_CAPACITY = 64
/** Grow past 3/4 full: linear probing stays short. */
const MAX_LOAD_NUM = 3
const MAX_LOAD_DEN = 4

/** What the table needs from the segment manager: memory, journaled writes and the heap. */
export interface TableHost {
  readonly u8: Uint8Array
  readonly u32: Uint32Array
  readonly target: string
  /** Writes a metadata word through the undo journal. */
  writeWord(byteOffset: number, value: number): void
  /** Allocates a block the caller may fill without journaling (fresh memory). */
  allocateFresh(bytes: number): number
  deallocate(offset: number): void
  /** Entries in the table (named + unique), as counted in the header. */
  readonly entryCount: number
}

const scratch = new Uint8Array(3 * 1024 * 2)
const encoder = new TextEncoder()

/**
 * The named-object index: an open-addressing hash table in the segment whose
 * slots are [name hash, record offset] pairs, probed linearly. Deletion shifts
 * the following run back (no tombstones), so a lookup ends at the first empty
 * slot and a table never silts up. Every probe loop is bounded by the capacity,
 * so a corrupt table ends a lookup instead of spinning.
 */
export class NameTable {
  constructor(private readonly host: TableHost) {}

  get capacity(): number {
    return this.host.u32[TABLE_CAPACITY] ?? 0
  }

  /** The slot holding `name`, or -1. The caller validates the record it points at. */
  findSlot(name: string, kind: RecordKind, hash: number): number {
    const u32 = this.host.u32
    const capacity = u32[TABLE_CAPACITY] ?? 0
    const table = u32[TABLE_OFFSET] ?? 0
    if (capacity === 0 || table === 0) return -1
    const mask = capacity - 1
    const base = table >>> 2
    if (((capacity & mask) !== 0) || table + capacity * SLOT_BYTES > this.host.u8.byteLength) {
      throw new ShmError('ECORRUPT', `${this.host.target}: name table (offset ${table}, ${capacity} slots) does not fit the segment`, { target: this.host.target })
    }
    let slot = hash & mask
    for (let probes = 0; probes < capacity; probes++) {
      const record = u32[base + slot * 2 + 1] ?? 0
      if (record === 0) return -1
      if (u32[base + slot * 2] === hash && this.recordMatches(record, name, kind)) return slot
      slot = (slot + 1) & mask
    }
    return -1
  }

  recordAt(slot: number): number {
    const table = this.host.u32[TABLE_OFFSET] ?? 0
    return this.host.u32[(table >>> 2) + slot * 2 + 1] ?? 0
  }

  /** Adds a record; grows the table first when it would pass its load limit. */
  insert(hash: number, record: number): void {
    const needed = this.host.entryCount + 1
    let capacity = this.capacity
    if (capacity === 0 || needed * MAX_LOAD_DEN > capacity * MAX_LOAD_NUM) {
      capacity = Math.max(MIN_CAPACITY, capacity * 2)
      this.rebuild(capacity)
    }
    const u32 = this.host.u32
    const table = u32[TABLE_OFFSET] ?? 0
    const mask = capacity - 1
    let slot = hash & mask
    for (let probes = 0; probes < capacity; probes++) {
      if ((u32[(table >>> 2) + slot * 2 + 1] ?? 0) === 0) {
        this.host.writeWord(table + slot * SLOT_BYTES, hash)
        this.host.writeWord(table + slot * SLOT_BYTES + 4, record)
        return
      }
      slot = (slot + 1) & mask
    }
    throw new ShmError('ECORRUPT', `${this.host.target}: name table full despite its load limit`, { target: this.host.target })
  }

  /** Empties `slot`, shifting back the run after it so lookups still reach it. */
  removeAt(slot: number): void {
    const u32 = this.host.u32
    const table = u32[TABLE_OFFSET] ?? 0
    const capacity = this.capacity
    const mask = capacity - 1
    const base = table >>> 2
    let hole = slot
    let next = (hole + 1) & mask
    for (let probes = 0; probes < capacity; probes++) {
      const record = u32[base + next * 2 + 1] ?? 0
      if (record === 0) break
      const hash = u32[base + next * 2] ?? 0
      const home = hash & mask
      // Move `next` into the hole unless its home lies cyclically in (hole, next].
      const distanceToNext = (next - home) & mask
      const distanceToHole = (hole - home) & mask
      if (distanceToHole < distanceToNext) {
        this.host.writeWord(table + hole * SLOT_BYTES, hash)
        this.host.writeWord(table + hole * SLOT_BYTES + 4, record)
        hole = next
      }
      next = (next + 1) & mask
    }
    this.host.writeWord(table + hole * SLOT_BYTES, 0)
    this.host.writeWord(table + hole * SLOT_BYTES + 4, 0)
    if (this.host.entryCount <= 1) this.release()
  }

  /** Record offsets of every entry, in table order (a snapshot). */
  records(): number[] {
    const u32 = this.host.u32
    const table = u32[TABLE_OFFSET] ?? 0
    const capacity = this.capacity
    const out: number[] = []
    if (table === 0 || table + capacity * SLOT_BYTES > this.host.u8.byteLength) return out
    for (let slot = 0; slot < capacity; slot++) {
      const record = u32[(table >>> 2) + slot * 2 + 1] ?? 0
      if (record !== 0) out.push(record)
    }
    return out
  }

  /** Checks every slot: record offsets in range and hashes matching their slot's run. */
  check(problems: string[], validRecord: (record: number) => string | undefined): number {
    const u32 = this.host.u32
    const table = u32[TABLE_OFFSET] ?? 0
    const capacity = this.capacity
    if (table === 0 && capacity === 0) return 0
    if (capacity < MIN_CAPACITY || (capacity & (capacity - 1)) !== 0 || table + capacity * SLOT_BYTES > this.host.u8.byteLength) {
      problems.push(`name table: bad geometry (offset ${table}, capacity ${capacity})`)
      return 0
    }
    let used = 0
    const seen = new Set<number>()
    for (let slot = 0; slot < capacity; slot++) {
      const record = u32[(table >>> 2) + slot * 2 + 1] ?? 0
      if (record === 0) continue
      used++
      if (seen.has(record)) problems.push(`name table: record ${record} appears twice`)
      seen.add(record)
      const why = validRecord(record)
      if (why !== undefined) {
        problems.push(`name table slot ${slot}: ${why}`)
        continue
      }
      if (u32[(table >>> 2) + slot * 2] !== u32[(record + Record.HASH) >>> 2]) problems.push(`name table slot ${slot}: hash differs from record ${record}`)
    }
    return used
  }

  private recordMatches(record: number, name: string, kind: RecordKind): boolean {
    const u8 = this.host.u8
    const u32 = this.host.u32
    if (record + Record.NAME > u8.byteLength || (record & 3) !== 0) return false
    if (u32[(record + Record.TAG) >>> 2] !== RECORD_MAGIC + kind) return false
    const nameBytes = (u32[(record + Record.NAME_LENGTHS) >>> 2] ?? 0) & 0xffff
    const start = record + Record.NAME
    if (start + nameBytes > u8.byteLength) return false
    // ASCII names compare code unit to byte, without encoding.
    if (nameBytes === name.length) {
      let i = 0
      for (; i < nameBytes; i++) {
        const c = name.charCodeAt(i)
        if (c >= 0x80 || u8[start + i] !== c) break
      }
      if (i === nameBytes) return true
      if (name.charCodeAt(i) < 0x80) return false
    }
    const { written } = encoder.encodeInto(name, scratch)
    if (written !== nameBytes) return false
    for (let i = 0; i < nameBytes; i++) if (u8[start + i] !== scratch[i]) return false
    return true
  }

  /** Moves every entry into a fresh table of `capacity` slots. */
  private rebuild(capacity: number): void {
    const host = this.host
    const oldTable = host.u32[TABLE_OFFSET] ?? 0
    const oldCapacity = this.capacity
    const table = host.allocateFresh(capacity * SLOT_BYTES)
    host.u8.fill(0, table, table + capacity * SLOT_BYTES)
    const u32 = host.u32
    const mask = capacity - 1
    for (let old = 0; old < oldCapacity && oldTable !== 0; old++) {
      const record = u32[(oldTable >>> 2) + old * 2 + 1] ?? 0
      if (record === 0) continue
      const hash = u32[(oldTable >>> 2) + old * 2] ?? 0
      let slot = hash & mask
      while ((u32[(table >>> 2) + slot * 2 + 1] ?? 0) !== 0) slot = (slot + 1) & mask
      u32[(table >>> 2) + slot * 2] = hash
      u32[(table >>> 2) + slot * 2 + 1] = record
    }
    host.writeWord(SegmentHeader.TABLE_OFFSET, table)
    host.writeWord(SegmentHeader.TABLE_CAPACITY, capacity)
    if (oldTable !== 0) host.deallocate(oldTable)
  }

  /** The last entry went: give the table back so an empty segment is all free. */
  private release(): void {
    const table = this.host.u32[TABLE_OFFSET] ?? 0
    if (table === 0) return
    this.host.writeWord(SegmentHeader.TABLE_OFFSET, 0)
    this.host.writeWord(SegmentHeader.TABLE_CAPACITY, 0)
    this.host.deallocate(table)
  }
}

export const encodeName = (name: string): Uint8Array => encoder.encode(name)
