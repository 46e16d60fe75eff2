import { z } from 'zod'
import { invalidArgument, invalidOptions } from '@shmkit/errors'

/** A single koffi view cannot cover more; past it koffi aborts the whole process. */
export const MAX_VIEW_BYTES = 2 ** 32
/** Largest object size accepted (an off_t is 64-bit, but a JS number is exact only to 2^53). */
export const MAX_OBJECT_BYTES = Number.MAX_SAFE_INTEGER
/** NAME_MAX is 255 bytes and POSIX names carry a leading '/'. */
export const MAX_NAME_BYTES = 254

/** An unpaired UTF-16 surrogate: it has no UTF-8 form (it would become U+FFFD, and two names would meet). */
export const LONE_SURROGATE = /\p{Surrogate}/u

export function checkName(name: unknown, argument = 'name'): string {
  const expected = `a non-empty name of at most ${MAX_NAME_BYTES} bytes without '/' or NUL, valid Unicode (no lone surrogates), not '.' or '..'`
  if (typeof name !== 'string' || name.length === 0 || name.includes('/') || name.includes('\\') || name.includes('\0')) {
    throw invalidArgument(argument, name, expected)
  }
  // "." and ".." name the directory itself (shm_open answers EEXIST or EISDIR, never "bad name").
  if (name === '.' || name === '..' || LONE_SURROGATE.test(name)) throw invalidArgument(argument, name, expected)
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw invalidArgument(argument, name, expected)
  return name
}

export function checkSize(size: unknown, argument: string, min: number, max = MAX_VIEW_BYTES): number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < min || size > max) {
    throw invalidArgument(argument, size, `an integer from ${min} to ${max}`)
  }
  return size
}

export const modeSchema = z.number().int().min(0).max(0o777)

export function parse<S extends z.ZodType>(schema: S, value: unknown, target?: string): z.infer<S> {
  const result = schema.safeParse(value ?? {})
  if (result.success) return result.data
  throw invalidOptions(
    'options',
    result.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message })),
    target,
  )
}
