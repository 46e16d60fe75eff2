import { ShmError } from '@shmkit/errors'
import type { SegmentManager } from '@shmkit/named-store'
import { probeSegment } from './probe-segment.js'
import { targetDescription, type SegmentTarget } from './segment-target.js'

/** How long inspect and check wait for a segment another process is still creating. */
export const OPEN_TIMEOUT_MS = 1000

/**
 * Opens a target for inspect and check: a clear ShmError when it is not a
 * shmkit segment at all (ECORRUPT), is of another layout version (EVERSION) or
 * has a corrupt header (ECORRUPT).
 */
export function openForReading(target: SegmentTarget): SegmentManager {
  const probe = probeSegment(target, OPEN_TIMEOUT_MS)
  switch (probe.status) {
    case 'ok':
      return probe.segment
    case 'foreign':
      throw new ShmError('ECORRUPT', `${targetDescription(target)} is not a shmkit segment (no shmkit header)`, {
        target: targetDescription(target),
      })
    case 'other-version':
      throw new ShmError('EVERSION', probe.problem, { target: targetDescription(target), details: { found: probe.version } })
    case 'corrupt':
      throw new ShmError('ECORRUPT', probe.problem, { target: targetDescription(target) })
    case 'initializing':
      throw new ShmError('EBUSY', probe.problem, {
        target: targetDescription(target),
        hint: 'try again in a moment; if it stays so, its creator died: remove it',
      })
  }
}
