import { randomInt } from 'node:crypto'
import { z } from 'zod'
import { describe, invalidArgument, ShmError, type ShmErrorIssue } from '@shmkit/errors'
import { checkWrite, closedError, type SegmentMemory } from '../types/memory.js'
import { ScalarType } from '../types/scalars.js'
import { fingerprint, invalidValue, NO_ISSUES, NO_PATH, type Path, type Type, type ValueOf } from '../types/type.js'
import { parseOptions } from '../managed/options.js'
import { heapOf, type SegmentHeap } from './heap.js'
import { beginWrite, endWrite, JOURNAL_RESERVE, READ_ATTEMPTS, readContainer, readSlowly } from './seqlock.js'
import { checkHeldType, MAX_ELEMENT_BYTES } from './vector.js'
import { hashKey, keyCodecOf, keyScratch, type KeyCodec } from './map-keys.js'
import { plainJson } from './json-value.js'

// ---- layout ------------------------------------------------------------------

/** The map object (a named object or a struct field): 64 bytes of words. */
const GEN = 0
const SIZE = 4
const TABLE = 8
const CAPACITY = 12
/** Live entries plus tombstones: what the load factor counts. */
const USED = 16
const SEED = 20
/** LRU list (cache maps only): most recently used at the head. */
const HEAD = 24
const TAIL = 28
/** Bytes the entries take (blocks plus out-of-line values), for maxBytes. */
const BYTES = 32
const MAX_ENTRIES = 36
const MAX_BYTES = 40
const TTL_MS = 44
/** Bumped each time an entry is put at the LRU head. */
const CLOCK = 48
const EVICTIONS = 52
const FLAGS = 56
const HEADER_BYTES = 64

const FLAG_READY = 1
const FLAG_CACHE = 2

/** An entry block: [hash, key length, lru prev, lru next, expires (f64 ms), linked clock, bytes], key, value. */
const E_HASH = 0
const E_KEY_LENGTH = 4
const E_PREV = 8
const E_NEXT = 12
const E_EXPIRES = 16
const E_LINKED = 24
const E_BYTES = 28
const E_KEY = 32

/** Slots are [hash, entry offset]; entry 0 is empty, 1 a tombstone. */
const SLOT_BYTES = 8
const TOMBSTONE = 1
const MIN_CAPACITY = 16
/** Evictions one operation makes at most (fewer when the journal fills); further ones run as their own steps. */
const EVICTIONS_PER_STEP = 8
/** Entries clear() frees per atomic step. */
const CLEAR_STEP = 16

const optionsSchema = z
  .object({
    /** Evict the least recently used entries past this many. */
    maxEntries: z
      .number()
      .int()
      .min(1)
      .max(2 ** 31)
      .optional(),
    /** Evict the least recently used entries while their bytes (blocks and out-of-line values) pass this. */
    maxBytes: z
      .number()
      .int()
      .min(1)
      .max(2 ** 32 - 1)
      .optional(),
    /** Default time to live of an entry, in ms (set(key, value, { ttl }) overrides it). */
    ttl: z
      .number()
      .int()
      .min(1)
      .max(2 ** 31)
      .optional(),
  })
  .strict()

/** Cache mode: a map with any of these evicts and expires entries. @useDeclaredType */
export type MapOptions = z.infer<typeof optionsSchema>

/** What MapView.stats() returns: the map's counters and cache limits. */
export interface MapStats {
  size: number
  /** Hash table slots. */
  capacity: number
  /** Bytes the entries take: their blocks plus out-of-line values. */
  bytes: number
  evictions: number
  maxEntries: number | undefined
  maxBytes: number | undefined
  ttl: number | undefined
}

/** A view of a `t.map` in a segment: a hash map, with LRU eviction and TTLs in cache mode. */
export interface MapView<K, V> extends Iterable<[K, V]> {
  readonly offset: number
  /** Entries, expired ones not yet purged included. */
  readonly size: number
  /** The value (a copy), or undefined if absent or expired. */
  get(key: K): V | undefined
  /** Whether the key has an entry that has not expired. */
  has(key: K): boolean
  /** Inserts or replaces; `ttl` (ms) overrides the map's default. Evicts past maxEntries/maxBytes. */
  set(key: K, value: V, options?: { ttl?: number }): this
  /** Removes the key's entry; returns whether a live (unexpired) entry was removed. */
  delete(key: K): boolean
  /** Removes every entry, a few per atomic step. */
  clear(): void
  /** Atomically replaces the value with `fn(old)` (old is undefined when absent); `fn` returning undefined deletes. `fn` runs under the segment lock: keep it short. */
  update(key: K, fn: (old: V | undefined) => V | undefined): V | undefined
  /** The value, or `value` (or what `value()` returns) stored and returned if absent: atomic across processes. */
  getOrSet(key: K, value: V | (() => V)): V
  /** Removes expired entries, a few per atomic step; returns how many. */
  purgeExpired(): number
  /** All entries as they were at one instant. */
  entries(): [K, V][]
  /** All keys as they were at one instant. */
  keys(): K[]
  /** All values as they were at one instant. */
  values(): V[]
  /** The map's size, capacity, bytes, evictions and cache limits, read at one instant. */
  stats(): MapStats
  /** The entries as plain JSON: an object for string keys, else an array of [key, value] pairs. */
  toJSON(): unknown
}

type Codec = KeyCodec<unknown>

/** `t.map(key, value, options?)`: a hash map in the segment. */
export class MapType<KT extends Type, VT extends Type> implements Type<MapView<ValueOf<KT>, ValueOf<VT>>, [ValueOf<KT>, ValueOf<VT>][]> {
  readonly kind = 'map'
  readonly size = HEADER_BYTES
  readonly align = 8
  readonly ownsHeap = true
  readonly name: string
  readonly fingerprintLo: number
  readonly fingerprintHi: number
  readonly codec: Codec
  readonly options: MapOptions
  declare readonly __init?: [ValueOf<KT>, ValueOf<VT>][]
  /** Where the value starts in an entry, by key length: aligned for the value type. */
  private readonly valueAlign: number
  private readonly View: new (
    mem: SegmentMemory,
    offset: number,
  ) => MapView<ValueOf<KT>, ValueOf<VT>>
  constructor(
    readonly key: KT,
    readonly value: VT,
    options?: MapOptions,
  ) {
    this.codec = keyCodecOf(key)
    checkHeldType(value, 'value', MAX_ELEMENT_BYTES)
    this.options = parseOptions(optionsSchema, options, 'options')
    this.name = `map(${key.name},${value.name})`
    const fp = fingerprint(this.name)
    this.fingerprintLo = fp.lo
    this.fingerprintHi = fp.hi
    this.valueAlign = Math.max(8, value.align)
    this.View = makeMapView(this)
  }

  /** Where the value starts in the entry at `entry`, given its key length. */
  valueAt(entry: number, keyLength: number): number {
    const a = this.valueAlign
    return entry + Math.ceil((E_KEY + keyLength) / a) * a
  }

  validate(value: unknown, path: Path): ShmErrorIssue[] {
    if (value === null || typeof value !== 'object')
      return [{ path, message: `expected a Map, or an iterable of [key, value] pairs, got ${describe(value)}` }]
    const pairs = value instanceof Map || Symbol.iterator in value ? [...(value as Iterable<unknown>)] : Object.entries(value)
    let issues: ShmErrorIssue[] = NO_ISSUES
    pairs.forEach((pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2) {
        issues = [...issues, { path: [...path, i], message: `expected a [key, value] pair, got ${describe(pair)}` }]
        return
      }
      issues = [...issues, ...this.codec.validate(pair[0], [...path, i, 0]), ...this.value.validate(pair[1], [...path, i, 1])]
    })
    return issues.length === 0 ? NO_ISSUES : issues.slice(0, 10)
  }
  store(mem: SegmentMemory, offset: number, value: unknown): void {
    const heap = heapOf(mem, this.name)
    const pairs =
      value === undefined
        ? []
        : value instanceof Map || Symbol.iterator in (value as object)
          ? [...(value as Iterable<[unknown, unknown]>)]
          : Object.entries(value as object)
    heap.mutate(() => {
      this.removeAllLocked(mem, heap, offset)
      for (const [k, v] of pairs) this.setLocked(mem, heap, offset, k, v, undefined)
    })
  }
  zero(mem: SegmentMemory, offset: number): void {
    mem.u8.fill(0, offset, offset + HEADER_BYTES)
  }
  read(mem: SegmentMemory, offset: number): [ValueOf<KT>, ValueOf<VT>][] {
    return readContainer(mem, offset + GEN, () => this.entriesUnchecked(mem, offset, Date.now()))
  }
  view(mem: SegmentMemory, offset: number): MapView<ValueOf<KT>, ValueOf<VT>> {
    return new this.View(mem, offset)
  }
  release(mem: SegmentMemory, offset: number): void {
    const heap = heapOf(mem, this.name)
    heap.mutate(() => this.removeAllLocked(mem, heap, offset))
  }
  /** Removes every entry, a few per atomic step (as clear()). */
  drain(mem: SegmentMemory, offset: number): void {
    this.view(mem, offset).clear()
  }

  // ---- reading (inside a validated window or under the lock) -----------------

  /** Throws ECORRUPT unless the table of `capacity` slots at `table` is aligned, a power of two and inside the segment. */
  checkTable(mem: SegmentMemory, table: number, capacity: number): void {
    if ((capacity & (capacity - 1)) !== 0 || (table & 7) !== 0 || table + capacity * SLOT_BYTES > mem.u8.byteLength) {
      throw new ShmError('ECORRUPT', `${mem.target}: ${this.name}: table of ${capacity} slots at ${table} does not fit the segment`, {
        target: mem.target,
      })
    }
  }
  /** The slot of the key in keyScratch[0, keyLength), or -1. Bounded by the capacity. */
  findSlot(mem: SegmentMemory, offset: number, keyLength: number, hash: number): number {
    const u32 = mem.u32
    const table = u32[(offset + TABLE) >> 2] ?? 0
    const capacity = u32[(offset + CAPACITY) >> 2] ?? 0
    if (table === 0 || capacity === 0) return -1
    this.checkTable(mem, table, capacity)
    const mask = capacity - 1
    const base = table >> 2
    const limit = mem.u8.byteLength
    let slot = hash & mask
    for (let probes = 0; probes < capacity; probes++) {
      const entry = u32[base + slot * 2 + 1] ?? 0
      if (entry === 0) return -1
      if (entry !== TOMBSTONE && u32[base + slot * 2] === hash) {
        if ((entry & 7) !== 0 || entry + E_KEY + keyLength > limit)
          throw new ShmError('ECORRUPT', `${mem.target}: ${this.name}: entry ${entry} outside the segment`, { target: mem.target })
        if (u32[(entry + E_KEY_LENGTH) >> 2] === keyLength && keyEquals(mem.u8, entry + E_KEY, keyLength)) return slot
      }
      slot = (slot + 1) & mask
    }
    return -1
  }
  /** The entry offset in `slot` (0 empty, 1 a tombstone). */
  entryOf(mem: SegmentMemory, offset: number, slot: number): number {
    return mem.u32[((mem.u32[(offset + TABLE) >> 2] ?? 0) >> 2) + slot * 2 + 1] ?? 0
  }
  /** Reads the value of the entry at `entry`. */
  readValue(mem: SegmentMemory, entry: number): ValueOf<VT> {
    const at = this.valueAt(entry, mem.u32[(entry + E_KEY_LENGTH) >> 2] ?? 0)
    const value = this.value
    return (value.readUnchecked ?? value.read).call(value, mem, at) as ValueOf<VT>
  }
  /** Decodes the key of the entry at `entry` (ECORRUPT if it lies outside the segment). */
  readKey(mem: SegmentMemory, entry: number): ValueOf<KT> {
    const length = mem.u32[(entry + E_KEY_LENGTH) >> 2] ?? 0
    if (entry + E_KEY + length > mem.u8.byteLength)
      throw new ShmError('ECORRUPT', `${mem.target}: ${this.name}: entry ${entry} outside the segment`, { target: mem.target })
    return this.codec.decode(mem.u8.subarray(entry + E_KEY, entry + E_KEY + length)) as ValueOf<KT>
  }
  /** Whether the entry has an expiry time at or before `now` (ms). */
  expired(mem: SegmentMemory, entry: number, now: number): boolean {
    const expires = mem.f64[(entry + E_EXPIRES) >> 3] ?? 0
    return expires !== 0 && expires <= now
  }
  /** The unexpired entries at `now`, without a consistency check of its own (inside a validated window or under the lock). */
  entriesUnchecked(mem: SegmentMemory, offset: number, now: number): [ValueOf<KT>, ValueOf<VT>][] {
    const out: [ValueOf<KT>, ValueOf<VT>][] = []
    const u32 = mem.u32
    const table = u32[(offset + TABLE) >> 2] ?? 0
    const capacity = u32[(offset + CAPACITY) >> 2] ?? 0
    if (table === 0) return out
    this.checkTable(mem, table, capacity)
    for (let slot = 0; slot < capacity; slot++) {
      const entry = u32[(table >> 2) + slot * 2 + 1] ?? 0
      if (entry <= TOMBSTONE || this.expired(mem, entry, now)) continue
      out.push([this.readKey(mem, entry), this.readValue(mem, entry)])
    }
    return out
  }

  // ---- writing (inside heap.mutate) ------------------------------------------

  /** First write to a zeroed map: its seed and, from the type, its cache options. */
  initLocked(mem: SegmentMemory, heap: SegmentHeap, offset: number): void {
    const u32 = mem.u32
    if (((u32[(offset + FLAGS) >> 2] ?? 0) & FLAG_READY) !== 0) return
    const { maxEntries, maxBytes, ttl } = this.options
    heap.writeWord(offset + SEED, randomInt(1, 2 ** 32 - 1))
    heap.writeWord(offset + MAX_ENTRIES, maxEntries ?? 0)
    heap.writeWord(offset + MAX_BYTES, maxBytes ?? 0)
    heap.writeWord(offset + TTL_MS, ttl ?? 0)
    const cache = maxEntries !== undefined || maxBytes !== undefined || ttl !== undefined
    heap.writeWord(offset + FLAGS, FLAG_READY | (cache ? FLAG_CACHE : 0))
  }
  /** Whether the map is in cache mode (has maxEntries, maxBytes or ttl). */
  isCache(mem: SegmentMemory, offset: number): boolean {
    return ((mem.u32[(offset + FLAGS) >> 2] ?? 0) & FLAG_CACHE) !== 0
  }
  /** Builds a table of `capacity` slots from the live entries (fresh memory, unjournaled), then swaps it in. */
  rehashLocked(mem: SegmentMemory, heap: SegmentHeap, offset: number, capacity: number): void {
    const u32 = mem.u32
    const block = heap.allocate(capacity * SLOT_BYTES)
    mem.u8.fill(0, block, block + capacity * SLOT_BYTES)
    const old = u32[(offset + TABLE) >> 2] ?? 0
    const oldCapacity = u32[(offset + CAPACITY) >> 2] ?? 0
    const mask = capacity - 1
    if (old !== 0) {
      this.checkTable(mem, old, oldCapacity)
      for (let s = 0; s < oldCapacity; s++) {
        const entry = u32[(old >> 2) + s * 2 + 1] ?? 0
        if (entry <= TOMBSTONE) continue
        const hash = u32[(old >> 2) + s * 2] ?? 0
        let slot = hash & mask
        while ((u32[(block >> 2) + slot * 2 + 1] ?? 0) !== 0) slot = (slot + 1) & mask
        u32[(block >> 2) + slot * 2] = hash
        u32[(block >> 2) + slot * 2 + 1] = entry
      }
    }
    const began = beginWrite(mem, heap, offset + GEN)
    heap.writeWord(offset + TABLE, block)
    heap.writeWord(offset + CAPACITY, capacity)
    heap.writeWord(offset + USED, u32[(offset + SIZE) >> 2] ?? 0)
    if (old !== 0) heap.free(old)
    endWrite(mem, offset + GEN, began)
  }
  /** Inserts or replaces the key in keyScratch; returns the entry. */
  setLocked(mem: SegmentMemory, heap: SegmentHeap, offset: number, key: unknown, value: unknown, ttl: number | undefined): number {
    this.initLocked(mem, heap, offset)
    const u32 = mem.u32
    const keyLength = this.codec.encode(key)
    const hash = hashKey(keyLength, u32[(offset + SEED) >> 2] ?? 0)
    const cache = this.isCache(mem, offset)
    const lifetime = ttl ?? (u32[(offset + TTL_MS) >> 2] || undefined)
    const expires = lifetime === undefined ? 0 : Date.now() + lifetime
    const slot = this.findSlot(mem, offset, keyLength, hash)
    const valueType = this.value
    if (slot >= 0) {
      const entry = this.entryOf(mem, offset, slot)
      const at = this.valueAt(entry, keyLength)
      const began = beginWrite(mem, heap, offset + GEN)
      heap.record(at, valueType.size)
      valueType.store(mem, at, value)
      heap.record(entry + E_EXPIRES, 8)
      mem.f64[(entry + E_EXPIRES) >> 3] = expires
      if (cache) {
        this.account(mem, heap, offset, entry, at)
        this.unlink(mem, heap, offset, entry)
        this.linkHead(mem, heap, offset, entry)
      }
      endWrite(mem, offset + GEN, began)
      return entry
    }
    // Room first (a rehash builds its table while readers still use the old one).
    const capacity = u32[(offset + CAPACITY) >> 2] ?? 0
    const used = u32[(offset + USED) >> 2] ?? 0
    if ((used + 1) * 4 > capacity * 3) {
      const size = u32[(offset + SIZE) >> 2] ?? 0
      let grown = MIN_CAPACITY
      while (grown * 3 < (size + 1) * 4 * 2) grown *= 2
      this.rehashLocked(mem, heap, offset, grown)
      this.codec.encode(key) // the scratch is ours alone, but re-encode: a value's store may have used it
    }
    const at0 = this.valueAt(0, keyLength)
    const entry = heap.allocate(at0 + valueType.size)
    mem.u8.fill(0, entry, entry + at0 + valueType.size)
    u32[(entry + E_HASH) >> 2] = hash
    u32[(entry + E_KEY_LENGTH) >> 2] = keyLength
    mem.f64[(entry + E_EXPIRES) >> 3] = expires
    mem.u8.set(keyScratch.subarray(0, keyLength), entry + E_KEY)
    const at = entry + at0
    if (value !== undefined) valueType.store(mem, at, value)
    const began = beginWrite(mem, heap, offset + GEN)
    const table = u32[(offset + TABLE) >> 2] ?? 0
    const mask = (u32[(offset + CAPACITY) >> 2] ?? 0) - 1
    let free = hash & mask
    while ((u32[(table >> 2) + free * 2 + 1] ?? 0) > TOMBSTONE) free = (free + 1) & mask
    if ((u32[(table >> 2) + free * 2 + 1] ?? 0) === 0) heap.writeWord(offset + USED, (u32[(offset + USED) >> 2] ?? 0) + 1)
    heap.writeWord(table + free * SLOT_BYTES, hash)
    heap.writeWord(table + free * SLOT_BYTES + 4, entry)
    heap.writeWord(offset + SIZE, (u32[(offset + SIZE) >> 2] ?? 0) + 1)
    if (cache) {
      this.account(mem, heap, offset, entry, at)
      this.linkHead(mem, heap, offset, entry)
    }
    endWrite(mem, offset + GEN, began)
    return entry
  }
  /** Records what the entry takes in its own word and the map's total. */
  private account(mem: SegmentMemory, heap: SegmentHeap, offset: number, entry: number, at: number): void {
    const bytes = heap.blockSize(entry) + (this.value.heapBytes?.(mem, at) ?? 0)
    const u32 = mem.u32
    heap.writeWord(offset + BYTES, (u32[(offset + BYTES) >> 2] ?? 0) - (u32[(entry + E_BYTES) >> 2] ?? 0) + bytes)
    heap.writeWord(entry + E_BYTES, bytes)
  }
  /** Puts the entry at the head of the LRU list and stamps it with the bumped clock. */
  linkHead(mem: SegmentMemory, heap: SegmentHeap, offset: number, entry: number): void {
    const u32 = mem.u32
    const head = u32[(offset + HEAD) >> 2] ?? 0
    heap.writeWord(entry + E_PREV, 0)
    heap.writeWord(entry + E_NEXT, head)
    if (head !== 0) heap.writeWord(head + E_PREV, entry)
    else heap.writeWord(offset + TAIL, entry)
    heap.writeWord(offset + HEAD, entry)
    const clock = ((u32[(offset + CLOCK) >> 2] ?? 0) + 1) >>> 0
    heap.writeWord(offset + CLOCK, clock)
    heap.writeWord(entry + E_LINKED, clock)
  }
  /** Takes the entry out of the LRU list. */
  unlink(mem: SegmentMemory, heap: SegmentHeap, offset: number, entry: number): void {
    const u32 = mem.u32
    const prev = u32[(entry + E_PREV) >> 2] ?? 0
    const next = u32[(entry + E_NEXT) >> 2] ?? 0
    if (prev !== 0) heap.writeWord(prev + E_NEXT, next)
    else if ((u32[(offset + HEAD) >> 2] ?? 0) === entry) heap.writeWord(offset + HEAD, next)
    if (next !== 0) heap.writeWord(next + E_PREV, prev)
    else if ((u32[(offset + TAIL) >> 2] ?? 0) === entry) heap.writeWord(offset + TAIL, prev)
  }
  /** Removes the entry in `slot` (a tombstone stays: probes stay bounded and each delete journals a few words). */
  deleteSlotLocked(mem: SegmentMemory, heap: SegmentHeap, offset: number, slot: number): void {
    const u32 = mem.u32
    const table = u32[(offset + TABLE) >> 2] ?? 0
    const entry = u32[(table >> 2) + slot * 2 + 1] ?? 0
    const began = beginWrite(mem, heap, offset + GEN)
    heap.writeWord(table + slot * SLOT_BYTES + 4, TOMBSTONE)
    heap.writeWord(offset + SIZE, (u32[(offset + SIZE) >> 2] ?? 1) - 1)
    if (this.isCache(mem, offset)) {
      this.unlink(mem, heap, offset, entry)
      heap.writeWord(offset + BYTES, Math.max(0, (u32[(offset + BYTES) >> 2] ?? 0) - (u32[(entry + E_BYTES) >> 2] ?? 0)))
    }
    this.value.release?.(mem, this.valueAt(entry, u32[(entry + E_KEY_LENGTH) >> 2] ?? 0))
    heap.free(entry)
    endWrite(mem, offset + GEN, began)
  }
  /** The slot holding `entry` (found by its stored key), or -1. */
  slotOfEntry(mem: SegmentMemory, offset: number, entry: number): number {
    const u32 = mem.u32
    const length = u32[(entry + E_KEY_LENGTH) >> 2] ?? 0
    keyScratch.set(mem.u8.subarray(entry + E_KEY, entry + E_KEY + length))
    return this.findSlot(mem, offset, length, u32[(entry + E_HASH) >> 2] ?? 0)
  }
  /** Over maxEntries or maxBytes: evicts from the LRU tail, a bounded number. Returns whether more is needed. */
  evictLocked(mem: SegmentMemory, heap: SegmentHeap, offset: number): boolean {
    const u32 = mem.u32
    const maxEntries = u32[(offset + MAX_ENTRIES) >> 2] ?? 0
    const maxBytes = u32[(offset + MAX_BYTES) >> 2] ?? 0
    const over = (): boolean =>
      (maxEntries !== 0 && (u32[(offset + SIZE) >> 2] ?? 0) > maxEntries) ||
      (maxBytes !== 0 && (u32[(offset + BYTES) >> 2] ?? 0) > maxBytes)
    for (let n = 0; n < EVICTIONS_PER_STEP && heap.journalRoom > JOURNAL_RESERVE; n++) {
      if (!over()) return false
      const tail = u32[(offset + TAIL) >> 2] ?? 0
      // The newest entry goes too when it alone passes maxBytes: a value bigger than the budget is not kept.
      if (tail === 0) return false
      const slot = this.slotOfEntry(mem, offset, tail)
      if (slot < 0)
        throw new ShmError('ECORRUPT', `${mem.target}: ${this.name}: LRU entry ${tail} is not in the table`, { target: mem.target })
      this.deleteSlotLocked(mem, heap, offset, slot)
      heap.writeWord(offset + EVICTIONS, (u32[(offset + EVICTIONS) >> 2] ?? 0) + 1)
    }
    return over()
  }
  /** Deletes up to `limit` entries (all when Infinity) from slot `from`; frees the table once empty. Returns the next slot. */
  removeSomeLocked(
    mem: SegmentMemory,
    heap: SegmentHeap,
    offset: number,
    from: number,
    limit: number,
    onlyExpired: number | undefined,
    bounded = true,
  ): number {
    const u32 = mem.u32
    const table = u32[(offset + TABLE) >> 2] ?? 0
    const capacity = u32[(offset + CAPACITY) >> 2] ?? 0
    if (table === 0) return capacity
    this.checkTable(mem, table, capacity)
    let removed = 0
    let slot = from
    for (; slot < capacity && removed < limit && (!bounded || heap.journalRoom > JOURNAL_RESERVE); slot++) {
      const entry = u32[(table >> 2) + slot * 2 + 1] ?? 0
      if (entry <= TOMBSTONE) continue
      if (onlyExpired !== undefined && !this.expired(mem, entry, onlyExpired)) continue
      this.deleteSlotLocked(mem, heap, offset, slot)
      removed++
    }
    if ((u32[(offset + SIZE) >> 2] ?? 0) === 0 && onlyExpired === undefined) {
      const began = beginWrite(mem, heap, offset + GEN)
      heap.free(table)
      for (const field of [TABLE, CAPACITY, USED, HEAD, TAIL, BYTES]) heap.writeWord(offset + field, 0)
      endWrite(mem, offset + GEN, began)
      return capacity
    }
    return slot
  }
  /** All in this one operation (a replacing store, a destroy after drain): it succeeds whole or fails whole (journal full). */
  removeAllLocked(mem: SegmentMemory, heap: SegmentHeap, offset: number): void {
    this.removeSomeLocked(mem, heap, offset, 0, Infinity, undefined, false)
  }
}

function keyEquals(u8: Uint8Array, at: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (u8[at + i] !== keyScratch[i]) return false
  return true
}

function makeMapView<KT extends Type, VT extends Type>(
  type: MapType<KT, VT>,
): new (
  mem: SegmentMemory,
  offset: number,
) => MapView<ValueOf<KT>, ValueOf<VT>> {
  type K = ValueOf<KT>
  type V = ValueOf<VT>
  const codec = type.codec
  const valueType = type.value
  const scalar = valueType instanceof ScalarType ? (valueType as ScalarType<unknown, unknown>) : undefined
  const readScalar = scalar?.readValue
  const checkScalar = scalar?.check
  const checkKey = (key: unknown): void => {
    if (codec.validate(key, NO_PATH).length !== 0) {
      const issues = codec.validate(key, ['key'])
      throw new ShmError('EINVAL', `invalid key: ${issues.map((i) => i.message).join('; ')}`, { issues })
    }
  }
  const checkValue = (value: unknown): void => {
    if (checkScalar !== undefined ? checkScalar(value) !== undefined : valueType.validate(value, NO_PATH).length !== 0)
      throw invalidValue(valueType, value, 'value')
  }
  const checkTtl = (options: unknown): number | undefined => {
    if (options === undefined) return undefined
    const ttl = (options as { ttl?: unknown } | null)?.ttl
    if (
      options === null ||
      typeof options !== 'object' ||
      Object.keys(options).some((k) => k !== 'ttl') ||
      (ttl !== undefined && (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 1))
    ) {
      throw invalidArgument('options', options, '{ ttl?: a positive integer number of ms }')
    }
    return ttl as number | undefined
  }

  return class View implements MapView<K, V> {
    constructor(
      readonly mem: SegmentMemory,
      readonly offset: number,
    ) {}
    get size(): number {
      if (this.mem.closed) throw closedError(this.mem)
      return Atomics.load(this.mem.u32, (this.offset + SIZE) >> 2)
    }
    /** The entry of the key now in keyScratch, and its value, read in one validated window. */
    private lookup(keyLength: number): { found: boolean; value: V | undefined; stale: boolean } {
      const mem = this.mem
      const i32 = mem.i32
      const u32 = mem.u32
      const base = this.offset
      const gen = (base + GEN) >> 2
      const read = (): { found: boolean; value: V | undefined; stale: boolean } => {
        const slot = type.findSlot(mem, base, keyLength, hashKey(keyLength, u32[(base + SEED) >> 2] ?? 0))
        if (slot < 0) return MISS
        const entry = type.entryOf(mem, base, slot)
        const expires = mem.f64[(entry + E_EXPIRES) >> 3] ?? 0
        if (expires !== 0 && expires <= Date.now()) return MISS
        const at = type.valueAt(entry, keyLength)
        const value = readScalar !== undefined ? (readScalar(mem, at) as V) : type.readValue(mem, entry)
        const maxEntries = u32[(base + MAX_ENTRIES) >> 2] || (u32[(base + SIZE) >> 2] ?? 0)
        // A read of an entry outside the newest eighth of the LRU order asks to be moved to the front.
        const stale =
          (u32[(base + FLAGS) >> 2]! & FLAG_CACHE) !== 0 &&
          ((u32[(base + CLOCK) >> 2] ?? 0) - (u32[(entry + E_LINKED) >> 2] ?? 0)) >>> 0 > maxEntries >>> 3
        return { found: true, value, stale }
      }
      if (mem.heap?.holdsLock === true) return read()
      for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
        const before = Atomics.load(i32, gen)
        if ((before & 1) === 0) {
          let result: ReturnType<typeof read>
          try {
            result = read()
          } catch (e) {
            if (Atomics.load(i32, gen) === before) throw e
            continue
          }
          if (Atomics.load(i32, gen) === before) return result
        }
      }
      return readSlowly(mem, base + GEN, read)
    }
    get(key: K): V | undefined {
      const mem = this.mem
      if (mem.closed) throw closedError(mem)
      checkKey(key)
      const result = this.lookup(codec.encode(key))
      if (result.stale) this.touch(key)
      return result.value
    }
    has(key: K): boolean {
      const mem = this.mem
      if (mem.closed) throw closedError(mem)
      checkKey(key)
      return this.lookup(codec.encode(key)).found
    }
    /** Moves a read entry to the LRU head (cache maps; writable handles; only entries not recently moved). */
    private touch(key: K): void {
      const mem = this.mem
      const heap = mem.heap
      if (heap === undefined || !heap.canLock || mem.readOnly) return
      heap.mutate(() => {
        const keyLength = codec.encode(key)
        const slot = type.findSlot(mem, this.offset, keyLength, hashKey(keyLength, mem.u32[(this.offset + SEED) >> 2] ?? 0))
        if (slot < 0) return
        const entry = type.entryOf(mem, this.offset, slot)
        type.unlink(mem, heap, this.offset, entry)
        type.linkHead(mem, heap, this.offset, entry)
      })
    }
    set(key: K, value: V, options?: { ttl?: number }): this {
      const mem = this.mem
      checkWrite(mem)
      checkKey(key)
      checkValue(value)
      const ttl = checkTtl(options)
      const heap = heapOf(mem, type.name)
      const more = heap.mutate(() => {
        type.setLocked(mem, heap, this.offset, key, value, ttl)
        return type.isCache(mem, this.offset) && type.evictLocked(mem, heap, this.offset)
      })
      if (more) this.evictRest()
      return this
    }
    private evictRest(): void {
      const mem = this.mem
      const heap = heapOf(mem, type.name)
      // Bounded: each step evicts at least one entry or reports nothing more to do.
      while (heap.mutate(() => type.evictLocked(mem, heap, this.offset)));
    }
    delete(key: K): boolean {
      const mem = this.mem
      checkWrite(mem)
      checkKey(key)
      const heap = heapOf(mem, type.name)
      return heap.mutate(() => {
        const keyLength = codec.encode(key)
        const slot = type.findSlot(mem, this.offset, keyLength, hashKey(keyLength, mem.u32[(this.offset + SEED) >> 2] ?? 0))
        if (slot < 0) return false
        const live = !type.expired(mem, type.entryOf(mem, this.offset, slot), Date.now())
        type.deleteSlotLocked(mem, heap, this.offset, slot)
        return live
      })
    }
    clear(): void {
      const mem = this.mem
      checkWrite(mem)
      const heap = heapOf(mem, type.name)
      let from = 0
      for (;;) {
        const capacity = mem.u32[(this.offset + CAPACITY) >> 2] ?? 0
        if ((mem.u32[(this.offset + TABLE) >> 2] ?? 0) === 0) return
        if (from >= capacity) from = 0
        from = heap.mutate(() => type.removeSomeLocked(mem, heap, this.offset, from, CLEAR_STEP, undefined))
      }
    }
    purgeExpired(): number {
      const mem = this.mem
      checkWrite(mem)
      const heap = heapOf(mem, type.name)
      const before = this.size
      const now = Date.now()
      let from = 0
      while (from < (mem.u32[(this.offset + CAPACITY) >> 2] ?? 0)) {
        from = heap.mutate(() => type.removeSomeLocked(mem, heap, this.offset, from, CLEAR_STEP, now))
      }
      return before - this.size
    }
    update(key: K, fn: (old: V | undefined) => V | undefined): V | undefined {
      const mem = this.mem
      checkWrite(mem)
      checkKey(key)
      if (typeof fn !== 'function') throw invalidArgument('fn', fn, 'a function (old value) => new value')
      const heap = heapOf(mem, type.name)
      let more = false
      const result = heap.mutate(() => {
        const old = this.lookup(codec.encode(key))
        const next = fn(old.value)
        if (next === undefined) {
          const keyLength = codec.encode(key)
          const slot = type.findSlot(mem, this.offset, keyLength, hashKey(keyLength, mem.u32[(this.offset + SEED) >> 2] ?? 0))
          if (slot >= 0) type.deleteSlotLocked(mem, heap, this.offset, slot)
          return undefined
        }
        checkValue(next)
        type.setLocked(mem, heap, this.offset, key, next, undefined)
        more = type.isCache(mem, this.offset) && type.evictLocked(mem, heap, this.offset)
        return next
      })
      if (more) this.evictRest()
      return result
    }
    getOrSet(key: K, value: V | (() => V)): V {
      const found = this.get(key)
      if (found !== undefined) return found
      const mem = this.mem
      checkWrite(mem)
      const heap = heapOf(mem, type.name)
      let more = false
      const result = heap.mutate(() => {
        const old = this.lookup(codec.encode(key))
        if (old.found) return old.value as V
        const next = typeof value === 'function' ? (value as () => V)() : value
        checkValue(next)
        type.setLocked(mem, heap, this.offset, key, next, undefined)
        more = type.isCache(mem, this.offset) && type.evictLocked(mem, heap, this.offset)
        return next
      })
      if (more) this.evictRest()
      return result
    }
    entries(): [K, V][] {
      if (this.mem.closed) throw closedError(this.mem)
      return type.read(this.mem, this.offset)
    }
    keys(): K[] {
      return this.entries().map((e) => e[0])
    }
    values(): V[] {
      return this.entries().map((e) => e[1])
    }
    [Symbol.iterator](): Iterator<[K, V]> {
      return this.entries()[Symbol.iterator]()
    }
    stats(): MapStats {
      const mem = this.mem
      if (mem.closed) throw closedError(mem)
      return readContainer(mem, this.offset + GEN, () => {
        const word = (field: number): number => mem.u32[(this.offset + field) >> 2] ?? 0
        return {
          size: word(SIZE),
          capacity: word(CAPACITY),
          bytes: word(BYTES),
          evictions: word(EVICTIONS),
          maxEntries: word(MAX_ENTRIES) || undefined,
          maxBytes: word(MAX_BYTES) || undefined,
          ttl: word(TTL_MS) || undefined,
        }
      })
    }
    toJSON(): unknown {
      const entries = this.entries()
      if (codec.name === 'str') return Object.fromEntries(entries.map(([k, v]) => [k, plainJson(v)]))
      return entries.map(([k, v]) => [plainJson(k), plainJson(v)])
    }
  }
}

const MISS = { found: false, value: undefined, stale: false }
