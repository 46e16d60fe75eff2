import { MAX_SEGMENT_BYTES } from '../segment/header.js'
import { checkGrowth } from '../segment/growth.js'
import type { SegmentManager } from '../segment-manager.js'

/** The raw object behind a named segment, as the offline resizes need it. */
export interface ResizableObject {
  readonly size: number
  reserve(offset: number, length: number): void
  truncate(bytes: number): void
  close(): void
}

/**
 * Boost's static `grow(name, extra)`: for a segment no process has open. The
 * object is extended with the new bytes reserved (ENOSPC changes nothing the
 * segment sees), then a fresh handle, which maps all of it, grows the
 * segment: journaled, so a crash leaves the old size (the object may stay
 * larger, which is harmless). Returns the new size.
 */
export function growOffline(open: () => SegmentManager, openObject: () => ResizableObject, extraBytes: number, target: string): number {
  const size = withSegment(open, (seg) => seg.size)
  const extra = checkGrowth(extraBytes, size, MAX_SEGMENT_BYTES, target)
  const object = openObject()
  try {
    object.reserve(size, extra)
  } finally {
    object.close()
  }
  return withSegment(open, (seg) => seg.grow(extra))
}

/**
 * Boost's static `shrink_to_fit(name)`: drops the free tail of a segment no
 * process has open (`shrinkRange`, journaled), then truncates the object to
 * the new size. A crash in between leaves a larger object, which is harmless.
 * Returns the new size.
 */
export function shrinkOffline<S extends SegmentManager>(
  open: () => S,
  shrinkRange: (seg: S) => number,
  openObject: () => ResizableObject,
): number {
  const size = withSegment(open, shrinkRange)
  const object = openObject()
  try {
    if (object.size > size) object.truncate(size)
  } finally {
    object.close()
  }
  return size
}

function withSegment<S extends SegmentManager, R>(open: () => S, fn: (seg: S) => R): R {
  const seg = open()
  try {
    return fn(seg)
  } finally {
    seg.close()
  }
}
