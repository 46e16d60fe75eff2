import { ShmError } from '@shmkit/errors'
import { MappedRegion } from '@shmkit/ffi-shm'
import { SEGMENT_MAGIC, SegmentHeader, type SegmentManager } from '@shmkit/named-store'

/** The header's state word while a creator is still at work (Boost's protocol: uninitialized, initializing). */
const TRANSIENT_STATES = new Set([0, 1])
import { openManagedReadOnly, openRawObject, targetDescription, type SegmentTarget } from './segment-target.js'

/** What an object turned out to be. */
export type Probe =
  | { status: 'ok'; size: number; segment: SegmentManager }
  /** A shmkit segment of a layout version this shmkit cannot read. */
  | { status: 'other-version'; size: number; version: number; problem: string }
  /** It carries shmkit's magic, but its header or state does not hold up. */
  | { status: 'corrupt'; size: number; problem: string }
  /** It carries shmkit's magic, but its creator has not finished it (or died half-way): never waited on. */
  | { status: 'initializing'; size: number; problem: string }
  /** Not a shmkit segment at all (another program's shared memory). */
  | { status: 'foreign'; size: number }

/** Enough of the header to see the magic; mapping less than the object keeps small objects cheap. */
const PROBE_BYTES = SegmentHeader.VERSION + 4

/**
 * Looks at an object's first bytes before treating it as a segment, so that
 * other programs' objects are recognised as such (and not reported as corrupt
 * shmkit segments, nor waited on as segments still being created), then opens
 * the segment read-only. ENOENT, EACCES and EINVAL (a bad name) propagate.
 */
export function probeSegment(target: SegmentTarget, timeoutMs: number): Probe {
  const raw = openRaw(target)
  let size: number
  let magic: number
  let state: number
  try {
    size = raw.size
    if (size < PROBE_BYTES) return { status: 'foreign', size }
    const region = new MappedRegion(raw, { readOnly: true, size: PROBE_BYTES })
    try {
      const words = new Uint32Array(region.buffer, 0, PROBE_BYTES >>> 2)
      magic = words[SegmentHeader.MAGIC >>> 2] ?? 0
      state = Atomics.load(words, SegmentHeader.STATE >>> 2)
    } finally {
      region.close()
    }
  } finally {
    raw.close()
  }
  if (magic !== SEGMENT_MAGIC) return { status: 'foreign', size }
  // Anyone can make an object that says "initializing" forever: a tool must not wait on it.
  if (TRANSIENT_STATES.has(state))
    return {
      status: 'initializing',
      size,
      problem: `${targetDescription(target)} is still being initialized (or its creator died half-way)`,
    }
  try {
    return { status: 'ok', size, segment: openManagedReadOnly(target, timeoutMs) }
  } catch (e) {
    if (!(e instanceof ShmError)) throw e
    if (e.code === 'EVERSION') {
      const found = e.details.found
      return { status: 'other-version', size, version: typeof found === 'number' ? found : -1, problem: e.message }
    }
    if (e.code === 'ECORRUPT') return { status: 'corrupt', size, problem: e.message }
    throw e
  }
}

function openRaw(target: SegmentTarget): ReturnType<typeof openRawObject> {
  try {
    return openRawObject(target)
  } catch (e) {
    if (e instanceof ShmError && e.code === 'ENOENT') {
      const description = targetDescription(target)
      throw new ShmError('ENOENT', `${description} does not exist`, {
        target: description,
        hint: target.kind === 'posix' ? '`shmkit ls` lists the segments there are' : undefined,
        cause: e,
      })
    }
    throw e
  }
}
