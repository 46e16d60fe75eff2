import { AllocatorHeader, BlockLayout } from '@shmkit/allocator'
import { SegmentHeader } from '@shmkit/named-store'

/** What a walk of the allocator's blocks found, read straight from the segment's bytes. */
export interface BlockWalk {
  /** Bytes in live blocks, headers included. */
  liveBytes: number
  /** Bytes in free blocks, headers included. */
  freeBytes: number
  liveBlocks: number
  /** Live blocks the allocator marks as holding a constructed object. */
  objectBlocks: number
  /** Bytes before the first block (segment header, journal, allocator header) and after the last (sentinel, tail). */
  overheadBytes: number
}

const ALLOCATED = 1
const ALLOCATED_CHECK = 0xa110c8ed
const MARK_BIT = 2

/**
 * Walks every block of a segment's allocator by its size words alone, without
 * the allocator's code or counters: the independent figures the tests compare
 * `stats()` with. Call it while nothing changes the segment (under its lock).
 */
export function walkBlocks(buffer: ArrayBuffer | SharedArrayBuffer, size: number): BlockWalk {
  const u32 = new Uint32Array(buffer, 0, Math.floor(size / 4))
  const start = u32[SegmentHeader.ALLOCATOR_OFFSET >> 2] ?? 0
  const first = u32[(start + AllocatorHeader.FIRST_BLOCK) >> 2] ?? 0
  const end = u32[(start + AllocatorHeader.END) >> 2] ?? 0
  const walk: BlockWalk = { liveBytes: 0, freeBytes: 0, liveBlocks: 0, objectBlocks: 0, overheadBytes: first + (size - end) }
  let block = first
  for (let n = 0; block < end && n < size / 32; n++) {
    const flags = u32[(block + BlockLayout.SIZE_FLAGS) >> 2] ?? 0
    const bytes = (flags >>> 2) * 16
    if (bytes === 0) throw new Error(`block ${block} has size 0`)
    if ((flags & ALLOCATED) !== 0) {
      walk.liveBytes += bytes
      walk.liveBlocks++
      if (((u32[(block + BlockLayout.CHECK) >> 2] ?? 0) ^ (ALLOCATED_CHECK ^ block)) >>> 0 === MARK_BIT) walk.objectBlocks++
    } else walk.freeBytes += bytes
    block += bytes
  }
  if (block !== end) throw new Error(`the blocks end at ${block}, not at ${end}`)
  return walk
}
