import { ShmError } from '@shmkit/errors'

/** Exit statuses of every command: scripts branch on these. */
export const ExitCode = {
  OK: 0,
  /** The segment is corrupt, or the operation failed for another reason. */
  FAILURE: 1,
  /** Bad arguments, or no such segment. */
  USAGE: 2,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** A mistake in the command line itself: exit 2 with the message. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** The exit status an error maps to. */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof UsageError) return ExitCode.USAGE
  if (error instanceof ShmError && (error.code === 'ENOENT' || error.code === 'EINVAL')) return ExitCode.USAGE
  return ExitCode.FAILURE
}

/** The machine-readable form of an error, for `--json`. */
export function errorJson(error: unknown): { code: string; message: string } {
  if (error instanceof ShmError) return { code: error.code, message: error.message }
  if (error instanceof UsageError) return { code: 'EUSAGE', message: error.message }
  return { code: 'EINTERNAL', message: error instanceof Error ? error.message : String(error) }
}
