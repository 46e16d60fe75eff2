import { ShmError, type ShmErrorIssue } from './shm-error.js'

/**
 * An `EINVAL` whose message names the argument and what was allowed, e.g.
 * `invalid size: got -1, expected an integer from 1 to 4294967296`.
 */
export function invalidArgument(
  argument: string,
  got: unknown,
  expected: string,
  extra: { target?: string; hint?: string } = {},
): ShmError {
  return new ShmError('EINVAL', `invalid ${argument}: got ${describe(got)}, expected ${expected}`, {
    ...extra,
    issues: [{ path: argument.split('.'), message: `expected ${expected}` }],
  })
}

/** An `EINVAL` built from several located issues (e.g. a zod error's). */
export function invalidOptions(what: string, issues: ShmErrorIssue[], target?: string): ShmError {
  const lines = issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
  return new ShmError('EINVAL', `invalid ${what}: ${lines.join('; ')}`, target === undefined ? { issues } : { issues, target })
}

/** A short, safe rendering of a user value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? value.slice(0, 61) + '...' : value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) return String(value)
  if (Array.isArray(value)) return `an array of ${value.length}`
  if (value instanceof ArrayBuffer) return `an ArrayBuffer of ${value.byteLength} bytes`
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of ${value.byteLength} bytes`
  return `a ${typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value}`
}
