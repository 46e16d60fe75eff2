import { ShmError } from '@shmkit/errors'
import { ExitCode, exitCodeOf } from '../cli-error.js'
import { printJson, type Output } from '../output.js'
import { probeSegment } from '../probe-segment.js'
import { removeTarget, targetDescription, targetLabel, type SegmentTarget } from '../segment-target.js'

/** What `shmkit rm` did with one segment. */
export interface RemoveResult {
  target: string
  removed: boolean
  /** Why it was not removed. */
  reason?: string
  /** The error code when it was not removed, as ShmError names it. */
  code?: string
}

/** Only a glance at the header: rm must not stall on a segment still being created. */
const PROBE_TIMEOUT_MS = 100

/**
 * Removes each target that is a shmkit segment (any layout version, corrupt
 * or not: a broken segment is what one most wants gone). Other programs'
 * objects are refused unless `force`. Every target is tried; the exit status
 * is the worst of them.
 */
export function removeCommand(targets: SegmentTarget[], force: boolean, output: Output): ExitCode {
  const results = targets.map((target) => removeOne(target, force))
  let exit: ExitCode = ExitCode.OK
  for (const [i, result] of results.entries()) {
    if (!result.removed)
      exit = Math.max(exit, result.code === 'ENOENT' || result.code === 'EINVAL' ? ExitCode.USAGE : ExitCode.FAILURE) as ExitCode
    if (output.json) continue
    const target = targets[i]
    if (result.removed) output.out(`removed ${target === undefined ? result.target : targetLabel(target)}\n`)
    else output.err(`shmkit rm: ${result.reason}\n`)
  }
  if (output.json) printJson(output, { results })
  return exit
}

function removeOne(target: SegmentTarget, force: boolean): RemoveResult {
  const description = targetDescription(target)
  try {
    const probe = probeSegment(target, PROBE_TIMEOUT_MS)
    if (probe.status === 'ok') probe.segment.close()
    if (probe.status === 'foreign' && !force) {
      return {
        target: description,
        removed: false,
        code: 'EFOREIGN',
        reason: `${description} is not a shmkit segment; not removed (use --force to remove it anyway)`,
      }
    }
  } catch (e) {
    // --force removes what cannot even be probed (say, a segment we may not read but may unlink).
    if (!(e instanceof ShmError) || e.code === 'ENOENT' || e.code === 'EINVAL' || !force) return failed(description, e)
  }
  try {
    if (!removeTarget(target)) return { target: description, removed: false, code: 'ENOENT', reason: `${description} does not exist` }
    return { target: description, removed: true }
  } catch (e) {
    return failed(description, e)
  }
}

function failed(description: string, e: unknown): RemoveResult {
  const code = e instanceof ShmError ? e.code : 'EINTERNAL'
  const message = e instanceof Error ? e.message : String(e)
  if (exitCodeOf(e) === ExitCode.USAGE && code === 'ENOENT')
    return { target: description, removed: false, code, reason: `${description} does not exist` }
  return { target: description, removed: false, code, reason: message }
}
