import { ShmError } from '@shmkit/errors'
import { SegmentHeader } from '../segment/header.js'
import { Record, RECORD_MAGIC } from './record.js'
import type { RecordKind } from './name-hash.js'

const TABLE_OFFSET = SegmentHeader.TABLE_OFFSET >>> 2
const TABLE_CAPACITY = SegmentHeader.TABLE_CAPACITY >>> 2
const SLOT_BYTES = 8
/** The table block starts with its tombstone count; the slots follow. */
const SLOTS_START = 16
const MIN_CAPACITY = 64
/** Live entries plus tombstones stay under 3/4 of the slots: probe runs stay short. */
const MAX_LOAD_NUM = 3
const MAX_LOAD_DEN = 4
/** A rebuild leaves the live entries at most 3/8 of the slots: 3/8 of the table is inserts before the next. */
const REBUILT_LOAD_NUM = 3
const REBUILT_LOAD_DEN = 8
/** A slot's record word: 0 empty, 1 a tombstone (records are 16-aligned, so never 1). */
export const EMPTY = 0
export const TOMBSTONE = 1

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
 * slots are [name hash, record offset] pairs, probed linearly, keyed by the
 * segment's seeded hash (name-hash.ts).
 *
 * Every operation's journaled work is constant, whatever the names: an insert
 * writes one slot, a removal turns its slot into a tombstone (one word), and
 * when live entries plus tombstones would pass 3/4 of the slots, the insert
 * first rebuilds into a fresh block (written without journaling: a rollback
 * just drops it) and swaps two header words. Backward-shift deletion, which
 * this replaces, journaled two words per shifted slot: 600 colliding names
 * made one destroy overflow the undo journal.
 *
 * Every probe loop is bounded by the capacity, so a corrupt table ends a
 * lookup instead of spinning.
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
    if (table === 0) {
      // An empty index has no table; a zero offset beside slots or objects is a damaged header, not "absent".
      const objects = this.host.entryCount
      if (capacity === 0 && objects === 0) return -1
      throw new ShmError(
        'ECORRUPT',
        `${this.host.target} has a corrupt header: name table offset 0 with ${capacity} slots and ${objects} objects`,
        { target: this.host.target },
      )
    }
    const mask = capacity - 1
    const base = (table + SLOTS_START) >>> 2
    if (
      capacity === 0 ||
      (capacity & mask) !== 0 ||
      (table & 15) !== 0 ||
      table + SLOTS_START + capacity * SLOT_BYTES > this.host.u8.byteLength
    ) {
      throw new ShmError('ECORRUPT', `${this.host.target}: name table (offset ${table}, ${capacity} slots) does not fit the segment`, {
        target: this.host.target,
      })
    }
    let slot = hash & mask
    for (let probes = 0; probes < capacity; probes++) {
      const record = u32[base + slot * 2 + 1] ?? 0
      if (record === EMPTY) return -1
      if (record !== TOMBSTONE && u32[base + slot * 2] === hash && this.recordMatches(record, name, kind)) return slot
      slot = (slot + 1) & mask
    }
    return -1
  }

  recordAt(slot: number): number {
    const table = this.host.u32[TABLE_OFFSET] ?? 0
    return this.host.u32[((table + SLOTS_START) >>> 2) + slot * 2 + 1] ?? 0
  }

  /** Tombstones in the table now. */
  get tombstones(): number {
    const table = this.host.u32[TABLE_OFFSET] ?? 0
    return table === 0 ? 0 : (this.host.u32[table >>> 2] ?? 0)
  }

  /** Adds a record (its name is not in the table); rebuilds first when the load limit would pass. */
  insert(hash: number, record: number): void {
    const live = this.host.entryCount
    let capacity = this.capacity
    let tombstones = this.tombstones
    if (capacity === 0 || (live + tombstones + 1) * MAX_LOAD_DEN > capacity * MAX_LOAD_NUM) {
      capacity = MIN_CAPACITY
      while ((live + 1) * REBUILT_LOAD_DEN > capacity * REBUILT_LOAD_NUM) capacity *= 2
      this.rebuild(capacity)
      tombstones = 0
    }
    const u32 = this.host.u32
    const table = u32[TABLE_OFFSET] ?? 0
    const slots = table + SLOTS_START
    const mask = capacity - 1
    let slot = hash & mask
    for (let probes = 0; probes < capacity; probes++) {
      const found = u32[(slots >>> 2) + slot * 2 + 1] ?? 0
      if (found === EMPTY || found === TOMBSTONE) {
        this.host.writeWord(slots + slot * SLOT_BYTES, hash)
        this.host.writeWord(slots + slot * SLOT_BYTES + 4, record)
        if (found === TOMBSTONE) this.host.writeWord(table, tombstones - 1)
        return
      }
      slot = (slot + 1) & mask
    }
    throw new ShmError('ECORRUPT', `${this.host.target}: name table full despite its load limit`, { target: this.host.target })
  }

  /** Empties `slot`: a tombstone, so runs through it still reach what lies beyond. */
  removeAt(slot: number): void {
    const table = this.host.u32[TABLE_OFFSET] ?? 0
    if (this.host.entryCount <= 1) {
      // The last entry goes: give the table back so an empty segment is all free.
      this.release()
      return
    }
    this.host.writeWord(table + SLOTS_START + slot * SLOT_BYTES + 4, TOMBSTONE)
    this.host.writeWord(table, this.tombstones + 1)
  }

  /** Record offsets of every entry, in table order (a snapshot). */
  records(): number[] {
    const u32 = this.host.u32
    const table = u32[TABLE_OFFSET] ?? 0
    const capacity = this.capacity
    const out: number[] = []
    if (table === 0 || table + SLOTS_START + capacity * SLOT_BYTES > this.host.u8.byteLength) return out
    const base = (table + SLOTS_START) >>> 2
    for (let slot = 0; slot < capacity; slot++) {
      const record = u32[base + slot * 2 + 1] ?? 0
      if (record !== EMPTY && record !== TOMBSTONE) out.push(record)
    }
    return out
  }

  /** Checks every slot: record offsets in range, hashes matching their records, the tombstone count. */
  check(problems: string[], validRecord: (record: number) => string | undefined): number {
    const u32 = this.host.u32
    const table = u32[TABLE_OFFSET] ?? 0
    const capacity = this.capacity
    if (table === 0 && capacity === 0) return 0
    if (
      capacity < MIN_CAPACITY ||
      (capacity & (capacity - 1)) !== 0 ||
      (table & 15) !== 0 ||
      table + SLOTS_START + capacity * SLOT_BYTES > this.host.u8.byteLength
    ) {
      problems.push(`name table: bad geometry (offset ${table}, capacity ${capacity})`)
      return 0
    }
    let used = 0
    let tombstones = 0
    const seen = new Set<number>()
    const base = (table + SLOTS_START) >>> 2
    for (let slot = 0; slot < capacity; slot++) {
      const record = u32[base + slot * 2 + 1] ?? 0
      if (record === EMPTY) continue
      if (record === TOMBSTONE) {
        tombstones++
        continue
      }
      used++
      if (seen.has(record)) problems.push(`name table: record ${record} appears twice`)
      seen.add(record)
      const why = validRecord(record)
      if (why !== undefined) {
        problems.push(`name table slot ${slot}: ${why}`)
        continue
      }
      if (u32[base + slot * 2] !== u32[(record + Record.HASH) >>> 2])
        problems.push(`name table slot ${slot}: hash differs from record ${record}`)
    }
    if (tombstones !== (u32[table >>> 2] ?? 0))
      problems.push(`name table: ${tombstones} tombstones, its count says ${u32[table >>> 2] ?? 0}`)
    if ((used + tombstones) * MAX_LOAD_DEN > capacity * MAX_LOAD_NUM)
      problems.push(`name table: ${used} entries and ${tombstones} tombstones overfill ${capacity} slots`)
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

  /** Moves every live entry into a fresh table of `capacity` slots, dropping the tombstones. */
  private rebuild(capacity: number): void {
    const host = this.host
    const oldTable = host.u32[TABLE_OFFSET] ?? 0
    const oldCapacity = this.capacity
    const bytes = SLOTS_START + capacity * SLOT_BYTES
    const table = host.allocateFresh(bytes)
    // Fresh memory: a rollback frees the block, so these writes need no journal.
    host.u8.fill(0, table, table + bytes)
    const u32 = host.u32
    const mask = capacity - 1
    const base = (table + SLOTS_START) >>> 2
    const oldBase = (oldTable + SLOTS_START) >>> 2
    for (let old = 0; old < oldCapacity && oldTable !== 0; old++) {
      const record = u32[oldBase + old * 2 + 1] ?? 0
      if (record === EMPTY || record === TOMBSTONE) continue
      const hash = u32[oldBase + old * 2] ?? 0
      let slot = hash & mask
      for (let probes = 0; (u32[base + slot * 2 + 1] ?? 0) !== EMPTY; probes++) {
        if (probes >= capacity)
          throw new ShmError('ECORRUPT', `${host.target}: name table holds more entries than its header counts`, { target: host.target })
        slot = (slot + 1) & mask
      }
      u32[base + slot * 2] = hash
      u32[base + slot * 2 + 1] = record
    }
    host.writeWord(SegmentHeader.TABLE_OFFSET, table)
    host.writeWord(SegmentHeader.TABLE_CAPACITY, capacity)
    if (oldTable !== 0) host.deallocate(oldTable)
  }

  private release(): void {
    const table = this.host.u32[TABLE_OFFSET] ?? 0
    if (table === 0) return
    this.host.writeWord(SegmentHeader.TABLE_OFFSET, 0)
    this.host.writeWord(SegmentHeader.TABLE_CAPACITY, 0)
    this.host.deallocate(table)
  }
}

export const encodeName = (name: string): Uint8Array => encoder.encode(name)
