import type { ObjectInfo, SegmentManager, SegmentStats } from '@shmkit/named-store'

export type LockState = SegmentStats['lock']

/** Stats plus the figures derived from them that tools show. */
export interface SegmentSummary extends SegmentStats {
  /**
   * 1 - largestFreeBlock / free: 0 when all free memory is one block (any
   * request up to `free` can succeed), near 1 when it is scattered in crumbs.
   */
  fragmentation: number
}

/** `1 - largest free block / free`: 0 when free memory is one block, near 1 when it is crumbs. */
export function fragmentationOf(free: number, largestFreeBlock: number): number {
  if (free <= 0) return 0
  return Math.min(1, Math.max(0, 1 - largestFreeBlock / free))
}

/** The stats `shmkit ls` shows for one open segment. */
export function summarize(segment: SegmentManager): SegmentSummary {
  const stats = segment.stats()
  return { ...stats, fragmentation: fragmentationOf(stats.free, stats.largestFreeBlock) }
}

/** The full picture `inspect` prints. */
export interface SegmentInspection extends SegmentSummary {
  target: string
  objects: ObjectInfo[]
}

/** Everything `shmkit inspect` shows: objects, fragmentation and the free-block histogram. */
export function inspectSegment(segment: SegmentManager, target: string): SegmentInspection {
  const summary = summarize(segment)
  const objects = [...segment.names()].sort((a, b) => a.offset - b.offset)
  return { target, ...summary, objects }
}

/** The lock column: `free`, or `held by pid N (alive)` / `(dead)`. */
export function describeLock(lock: LockState): string {
  if (!lock.held) return 'free'
  return `held by owner ${lock.owner} (${lock.state})`
}
