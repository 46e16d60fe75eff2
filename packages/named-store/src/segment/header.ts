import { randomFillSync } from 'node:crypto'
import { ShmError } from '@shmkit/errors'

/**
 * The segment header: the first bytes of every managed segment. Every other
 * structure is reached through offsets stored here, so `open` validates this
 * before trusting anything else.
 *
 * All fields are 32-bit words at fixed byte offsets, so any process (and any
 * language) can read them without shmkit.
 */
export const SegmentHeader = {
  /** Creation state, moved by compare-and-swap (Boost's own protocol). */
  STATE: 0,
  MAGIC: 4,
  VERSION: 8,
  HEADER_SIZE: 12,
  /** Segment size in bytes, as two words (segments may be exactly 4 GiB). */
  SIZE_LO: 16,
  SIZE_HI: 20,
  ALLOCATOR_OFFSET: 24,
  /** Process-shared lock word: the owner handle's token (segment/owner.ts), 0 when free. */
  LOCK_WORD: 28,
  /** Start-time tag of the lock owner where tokens are pids (the fallback method), else 0. */
  LOCK_OWNER_START: 32,
  LOCK_WAITERS: 36,
  /** How many times a dead owner's lock was taken over and rolled back. */
  LOCK_RECOVERIES: 40,
  /**
   * The index generation: odd while a writer changes the name table or a
   * record, moved by every construct and destroy. Lock-free readers of the
   * index validate against it (see read-protocol.ts).
   */
  GENERATION: 44,
  NUM_NAMED: 48,
  NUM_UNIQUE: 52,
  /** Open-addressing table of [hash, recordOffset] slots; 0 when empty. */
  TABLE_OFFSET: 56,
  TABLE_CAPACITY: 60,
  CREATOR_PID: 64,
  /** Undo journal: number of live entries; the entries follow. */
  JOURNAL_COUNT: 68,
  JOURNAL_CAPACITY: 72,
  /** The worker thread (threadId + 1) of the lock owner, 0 when free. */
  LOCK_OWNER_THREAD: 76,
  /** Counter writable handles draw their owner tokens from (read-only handles pick at random). */
  OWNER_TOKEN_NEXT: 80,
  /** SharedArrayBuffer segments only: descriptor + 1 and inode of this process's owner file (owner-thread-file.ts). */
  OWNER_FILE: 84,
  OWNER_FILE_INO_LO: 88,
  OWNER_FILE_INO_HI: 92,
  /** Number of the last operation begun (24 bits): journal entries carry it, so stale ones are never rolled back. */
  JOURNAL_SEQUENCE: 96,
  /**
   * The allocator generation: odd while a writer changes the allocator's
   * metadata, moved by every mutation (raw allocate/deallocate included).
   * Kept apart from GENERATION so a raw allocation does not invalidate every
   * handle's find cache.
   */
  ALLOCATOR_GENERATION: 116,
  /** The name table's 64-bit HalfSipHash key, random per segment (see name-hash.ts). */
  HASH_SEED_LO: 120,
  HASH_SEED_HI: 124,
  JOURNAL_ENTRIES: 128,
} as const

/** The first word of every managed segment ("SHMK"): `open` refuses other bytes with ECORRUPT. */
export const SEGMENT_MAGIC = 0x4b4d4853 // "SHMK" little-endian
/** 2: the lock word holds an owner token, not a pid; allocator generation, per-segment hash seed, table tombstones, marked object blocks, journal sequence numbers. */
export const LAYOUT_VERSION = 2
/** Bytes per journal entry: offset, length, 8 bytes of old content. */
export const JOURNAL_ENTRY_BYTES = 16
export const JOURNAL_ENTRIES = 1016
/** Header plus journal: two pages. */
export const HEADER_BYTES = SegmentHeader.JOURNAL_ENTRIES + JOURNAL_ENTRIES * JOURNAL_ENTRY_BYTES

export const SegmentState = {
  UNINITIALIZED: 0,
  INITIALIZING: 1,
  INITIALIZED: 2,
  CORRUPTED: 3,
} as const

/** Smallest segment worth having: the header plus room for an allocator and a few objects. */
export const MIN_SEGMENT_BYTES = HEADER_BYTES + 4096
/** A single view cannot cover more (koffi.view aborts Node past 4 GiB). */
export const MAX_SEGMENT_BYTES = 2 ** 32

export function readSegmentSize(u32: Uint32Array): number {
  return (u32[SegmentHeader.SIZE_LO >> 2] ?? 0) + (u32[SegmentHeader.SIZE_HI >> 2] ?? 0) * 2 ** 32
}

/**
 * Checks a header that claims to be initialized, before anything else is read.
 * `mappedBytes` is what the process can actually see (fstat or byteLength).
 */
export function validateHeader(u32: Uint32Array, mappedBytes: number, target: string): void {
  const word = (field: number): number => u32[field >> 2] ?? 0
  if (mappedBytes < HEADER_BYTES) {
    throw new ShmError(
      'ECORRUPT',
      `${target} is not a shmkit segment: ${mappedBytes} bytes is smaller than a segment header (${HEADER_BYTES})`,
      { target },
    )
  }
  if (word(SegmentHeader.MAGIC) !== SEGMENT_MAGIC) {
    throw new ShmError('ECORRUPT', `${target} is not a shmkit segment: bad magic 0x${word(SegmentHeader.MAGIC).toString(16)}`, { target })
  }
  const version = word(SegmentHeader.VERSION)
  if (version !== LAYOUT_VERSION) {
    throw new ShmError('EVERSION', `${target} has layout version ${version}; this shmkit reads version ${LAYOUT_VERSION}`, {
      target,
      details: { found: version, expected: LAYOUT_VERSION },
      hint: 'open it with the shmkit release that created it',
    })
  }
  const size = readSegmentSize(u32)
  const problems: string[] = []
  if (word(SegmentHeader.HEADER_SIZE) !== HEADER_BYTES) problems.push(`header size ${word(SegmentHeader.HEADER_SIZE)} != ${HEADER_BYTES}`)
  if (size < MIN_SEGMENT_BYTES || size > MAX_SEGMENT_BYTES) problems.push(`segment size ${size} out of range`)
  else if (size > mappedBytes) problems.push(`segment size ${size} exceeds the ${mappedBytes} bytes mapped (truncated?)`)
  const allocator = word(SegmentHeader.ALLOCATOR_OFFSET)
  if (allocator < HEADER_BYTES || allocator >= size) problems.push(`allocator offset ${allocator} out of range`)
  if (allocator >= HEADER_BYTES && allocator < size) {
    const index = indexHeaderProblem(u32, allocator, size)
    if (index !== undefined) problems.push(index)
  }
  const capacity = word(SegmentHeader.JOURNAL_CAPACITY)
  if (capacity !== JOURNAL_ENTRIES) problems.push(`journal capacity ${capacity} != ${JOURNAL_ENTRIES}`)
  if (word(SegmentHeader.JOURNAL_COUNT) > capacity) problems.push(`journal count ${word(SegmentHeader.JOURNAL_COUNT)} > capacity`)
  if (problems.length > 0) {
    throw new ShmError('ECORRUPT', `${target} has a corrupt header: ${problems.join('; ')}`, { target, details: { problems } })
  }
}

/** Bytes per name-table slot: hash and record offset. */
const TABLE_SLOT_BYTES = 8

/**
 * Why the header's name-table words cannot be right, or undefined: a table
 * at offset 0 holds nothing (no slots, no objects), any other must be a
 * power-of-two number of slots lying wholly inside the allocator's range —
 * never over the header, never past the end.
 */
export function indexHeaderProblem(u32: Uint32Array, allocatorStart: number, size: number): string | undefined {
  const table = u32[SegmentHeader.TABLE_OFFSET >> 2] ?? 0
  const slots = u32[SegmentHeader.TABLE_CAPACITY >> 2] ?? 0
  const objects = (u32[SegmentHeader.NUM_NAMED >> 2] ?? 0) + (u32[SegmentHeader.NUM_UNIQUE >> 2] ?? 0)
  if (table === 0) return slots === 0 && objects === 0 ? undefined : `name table offset 0 with ${slots} slots and ${objects} objects`
  if (
    (table & 7) !== 0 ||
    table < allocatorStart ||
    slots === 0 ||
    (slots & (slots - 1)) !== 0 ||
    table + slots * TABLE_SLOT_BYTES > size
  ) {
    return `name table (offset ${table}, ${slots} slots) out of range`
  }
  if (objects > slots) return `${objects} objects in a name table of ${slots} slots`
  return undefined
}

/** The header's index words, checked before an operation uses them: ECORRUPT if they cannot be right. */
export function checkIndexHeader(u32: Uint32Array, allocatorStart: number, size: number, target: string): void {
  const problem = indexHeaderProblem(u32, allocatorStart, size)
  if (problem !== undefined)
    throw new ShmError('ECORRUPT', `${target} has a corrupt header: ${problem}`, { target, details: { problems: [problem] } })
}

/** Writes a fresh header. The caller holds the INITIALIZING state. */
export function writeHeader(
  u32: Uint32Array,
  size: number,
  allocatorOffset: number,
  creatorPid: number,
  hashSeed: Uint32Array = randomSeed(),
): void {
  const set = (field: number, value: number): void => {
    u32[field >> 2] = value
  }
  set(SegmentHeader.MAGIC, SEGMENT_MAGIC)
  set(SegmentHeader.VERSION, LAYOUT_VERSION)
  set(SegmentHeader.HEADER_SIZE, HEADER_BYTES)
  set(SegmentHeader.SIZE_LO, size % 2 ** 32)
  set(SegmentHeader.SIZE_HI, Math.floor(size / 2 ** 32))
  set(SegmentHeader.ALLOCATOR_OFFSET, allocatorOffset)
  set(SegmentHeader.LOCK_WORD, 0)
  set(SegmentHeader.LOCK_OWNER_START, 0)
  set(SegmentHeader.LOCK_WAITERS, 0)
  set(SegmentHeader.LOCK_RECOVERIES, 0)
  set(SegmentHeader.GENERATION, 0)
  set(SegmentHeader.NUM_NAMED, 0)
  set(SegmentHeader.NUM_UNIQUE, 0)
  set(SegmentHeader.TABLE_OFFSET, 0)
  set(SegmentHeader.TABLE_CAPACITY, 0)
  set(SegmentHeader.CREATOR_PID, creatorPid)
  set(SegmentHeader.JOURNAL_COUNT, 0)
  set(SegmentHeader.JOURNAL_CAPACITY, JOURNAL_ENTRIES)
  set(SegmentHeader.LOCK_OWNER_THREAD, 0)
  set(SegmentHeader.ALLOCATOR_GENERATION, 0)
  set(SegmentHeader.HASH_SEED_LO, hashSeed[0] ?? 0)
  set(SegmentHeader.HASH_SEED_HI, hashSeed[1] ?? 0)
  set(SegmentHeader.OWNER_TOKEN_NEXT, 0)
  set(SegmentHeader.JOURNAL_SEQUENCE, 0)
}

/** 64 random bits for a new segment's name hash: whoever chooses names cannot aim at its table slots. */
function randomSeed(): Uint32Array {
  return randomFillSync(new Uint32Array(2))
}
