import { invalidArgument } from '@shmkit/errors'
import { MAX_SEGMENT_BYTES, MIN_SEGMENT_BYTES } from './header.js'

/** The allocator grows in 16-byte units, by two units at least (a block and a tree node). */
const GROWTH_UNIT = 16
export const MIN_GROWTH_BYTES = 2 * GROWTH_UNIT

/**
 * Validates a growth request and rounds it down to the allocator's unit.
 * `limit` is how far this handle can grow the segment: the bytes it maps
 * (online growth never maps anything new, so no view is ever invalidated).
 */
export function checkGrowth(extraBytes: unknown, size: number, limit: number, target: string): number {
  const room = Math.min(limit, MAX_SEGMENT_BYTES) - size
  if (typeof extraBytes === 'number' && Number.isSafeInteger(extraBytes) && extraBytes >= MIN_GROWTH_BYTES && extraBytes <= room) {
    return extraBytes - (extraBytes % GROWTH_UNIT)
  }
  const expected =
    room < MIN_GROWTH_BYTES
      ? `nothing: the segment (${size} bytes) already fills the ${limit} bytes this handle maps`
      : `an integer from ${MIN_GROWTH_BYTES} to ${room} (this handle maps ${limit} bytes, the segment has ${size})`
  throw invalidArgument('extraBytes', extraBytes, expected, {
    target,
    hint:
      size + room >= MAX_SEGMENT_BYTES
        ? `segments stop at ${MAX_SEGMENT_BYTES} bytes`
        : 'create the segment with a larger maxSize to grow it online, or grow it offline (the static grow) while no process has it open',
  })
}

/** Bytes to add so a shrunk segment keeps the smallest size a segment may have. */
export function regrowthAfterShrink(size: number): number {
  if (size >= MIN_SEGMENT_BYTES) return 0
  const missing = Math.ceil((MIN_SEGMENT_BYTES - size) / GROWTH_UNIT) * GROWTH_UNIT
  return Math.max(missing, MIN_GROWTH_BYTES)
}
