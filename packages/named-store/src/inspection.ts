import type { OwnerState } from './segment/owner.js'
import type { RbTreeBestFit } from '@shmkit/allocator'
import { SegmentHeader, validateHeader } from './segment/header.js'
import type { UndoJournal } from './segment/journal.js'
import type { NameTable } from './index/name-table.js'
import type { RecordReader } from './index/record-reader.js'
import type { SegmentMemory } from './types/index.js'

/** What `stats()` reports. */
export interface SegmentStats {
  size: number
  used: number
  free: number
  numNamedObjects: number
  numUniqueObjects: number
  largestFreeBlock: number
  freeBlockCount: number
  /** Free blocks by size class: `count` blocks of at most `upTo` bytes (and more than the previous class). */
  freeBlockHistogram: { upTo: number; count: number }[]
  /** The lock word: free, or the owner handle's token and whether that handle lives. */
  lock: { held: false } | { held: true; owner: number; state: OwnerState }
  /** How this handle tells live owners from dead ones: 'file-lock', 'thread' or 'pid' (see README, Crash safety). */
  ownerMethod: string
  version: number
  recoveries: number
}

/** What the figures and checks read: the segment's structures, never changed here. */
export interface InspectionSource {
  readonly mem: SegmentMemory
  readonly size: number
  /** Where the allocator's range starts: it must end where the segment does. */
  readonly dataStart: number
  readonly target: string
  readonly allocator: RbTreeBestFit
  readonly journal: UndoJournal
  readonly table: NameTable
  readonly records: RecordReader
}

/** The allocator and index figures of `stats()`; the caller runs it inside a validated read. */
export function readStats(source: InspectionSource): Omit<SegmentStats, 'lock' | 'ownerMethod'> {
  const u32 = source.mem.u32
  const histogram = new Map<number, number>()
  let largestFreeBlock = 0
  let freeBlockCount = 0
  for (const block of source.allocator.freeBlocks()) {
    freeBlockCount++
    largestFreeBlock = Math.max(largestFreeBlock, block.size)
    const upTo = 2 ** Math.ceil(Math.log2(Math.max(block.size, 16)))
    histogram.set(upTo, (histogram.get(upTo) ?? 0) + 1)
  }
  const free = source.allocator.freeMemory
  return {
    size: source.size,
    used: source.size - free,
    free,
    numNamedObjects: u32[SegmentHeader.NUM_NAMED >>> 2] ?? 0,
    numUniqueObjects: u32[SegmentHeader.NUM_UNIQUE >>> 2] ?? 0,
    largestFreeBlock,
    freeBlockCount,
    freeBlockHistogram: [...histogram].sort((a, b) => a[0] - b[0]).map(([upTo, count]) => ({ upTo, count })),
    version: u32[SegmentHeader.VERSION >>> 2] ?? 0,
    recoveries: u32[SegmentHeader.LOCK_RECOVERIES >>> 2] ?? 0,
  }
}

/** Header, journal, allocator and index checks; the caller runs it inside a validated read. */
export function readSanity(source: InspectionSource): { ok: boolean; problems: string[] } {
  const problems: string[] = []
  const u32 = source.mem.u32
  try {
    validateHeader(u32, source.mem.u8.byteLength, source.target)
  } catch (e) {
    problems.push((e as Error).message)
    return { ok: false, problems }
  }
  if (source.journal.pending !== 0) problems.push(`journal holds ${source.journal.pending} entries of an unfinished operation`)
  const allocatorEnd = source.dataStart + source.allocator.size
  if (allocatorEnd > source.size || source.size - allocatorEnd >= 16)
    problems.push(`allocator: its range ends at ${allocatorEnd}, the header's size is ${source.size}`)
  const allocatorReport = source.allocator.checkSanity()
  if (!allocatorReport.ok) problems.push(...allocatorReport.problems.map((p: string) => `allocator: ${p}`))
  const used = source.table.check(problems, (record) => source.records.problem(record) ?? unmarked(source.allocator, record))
  const counted = (u32[SegmentHeader.NUM_NAMED >>> 2] ?? 0) + (u32[SegmentHeader.NUM_UNIQUE >>> 2] ?? 0)
  if (used !== counted) problems.push(`index: header counts ${counted} objects, table holds ${used}`)
  return { ok: problems.length === 0, problems }
}

/** A record's block must be live and marked as an object's (what deallocate and destroyPtr trust). */
function unmarked(allocator: RbTreeBestFit, record: number): string | undefined {
  try {
    return allocator.isMarked(record) ? undefined : `record ${record}: its block is not marked as an object's`
  } catch {
    return `record ${record}: not a live block`
  }
}
