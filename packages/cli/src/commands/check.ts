import { ShmError } from '@shmkit/errors'
import { ExitCode } from '../cli-error.js'
import { OPEN_TIMEOUT_MS } from '../open-for-reading.js'
import { printJson, type Output } from '../output.js'
import { probeSegment } from '../probe-segment.js'
import { targetDescription, type SegmentTarget } from '../segment-target.js'

/** What `shmkit check` found for one segment. */
export interface CheckResult {
  target: string
  ok: boolean
  problems: string[]
}

/** Runs the library's sanity check without writing a byte: exit 0 healthy, 1 corrupt. */
export function checkCommand(target: SegmentTarget, output: Output): ExitCode {
  const result = checkTarget(target)
  if (output.json) printJson(output, result)
  else if (result.ok) output.out(`${result.target}: healthy\n`)
  else {
    output.out(`${result.target}: corrupt\n`)
    for (const problem of result.problems) output.out(`  - ${problem}\n`)
  }
  return result.ok ? ExitCode.OK : ExitCode.FAILURE
}

/** Opens the segment read-only and runs its sanity check (what `shmkit check` does). */
export function checkTarget(target: SegmentTarget): CheckResult {
  const description = targetDescription(target)
  const probe = probeSegment(target, OPEN_TIMEOUT_MS)
  switch (probe.status) {
    case 'foreign':
      return { target: description, ok: false, problems: ['not a shmkit segment: no shmkit header'] }
    case 'other-version':
    case 'corrupt':
    case 'initializing':
      return { target: description, ok: false, problems: [probe.problem] }
    case 'ok':
      break
  }
  const segment = probe.segment
  try {
    const report = segment.sanityReport()
    return { target: description, ok: report.ok, problems: report.problems }
  } catch (e) {
    // A bounded walk that gave up (ECORRUPT) or a writer that never finished (ETIMEDOUT) is a finding, not a crash.
    if (e instanceof ShmError) return { target: description, ok: false, problems: [e.message] }
    throw e
  } finally {
    segment.close()
  }
}
