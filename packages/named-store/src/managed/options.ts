import { z } from 'zod'
import { invalidArgument, invalidOptions } from '@shmkit/errors'
import { MAX_SEGMENT_BYTES, MIN_SEGMENT_BYTES } from '../segment/header.js'

const lockOptions = z
  .object({
    ownerCheckMs: z.number().positive().max(60_000).optional(),
    timeoutMs: z.number().nonnegative().optional(),
  })
  .strict()

const sizeCheck = z.enum(['periodic', 'every-operation'])

/** How lock-free readers wait out writers (ReadProtocolOptions). */
const readOptions = z
  .object({
    stallMs: z.number().positive().max(600_000).optional(),
    maxWaitMs: z.number().positive().max(3_600_000).optional(),
  })
  .strict()

export const createOptionsSchema = z
  .object({
    /** Permission bits of the new segment (default 0o600). */
    mode: z.number().int().min(0).max(0o777).optional(),
    lock: lockOptions.optional(),
    sizeCheck: sizeCheck.optional(),
    read: readOptions.optional(),
  })
  .strict()

export const openOptionsSchema = z
  .object({
    readOnly: z.boolean().optional(),
    /** How long to wait for a segment another process is still creating (default 1000 ms). */
    timeoutMs: z.number().int().min(0).max(600_000).optional(),
    lock: lockOptions.optional(),
    sizeCheck: sizeCheck.optional(),
    read: readOptions.optional(),
  })
  .strict()

export const openOrCreateOptionsSchema = createOptionsSchema.extend({ timeoutMs: openOptionsSchema.shape.timeoutMs }).strict()

export type CreateOptions = z.infer<typeof createOptionsSchema>
export type OpenOptions = z.infer<typeof openOptionsSchema>
export type OpenOrCreateOptions = z.infer<typeof openOrCreateOptionsSchema>

export const DEFAULT_OPEN_TIMEOUT_MS = 1000

type ManagerOptions = Pick<CreateOptions, 'lock' | 'sizeCheck' | 'read'>

/** The segment manager's part of parsed options (only what was given): what every managed kind passes to its base. */
export function managerOptions(opts: ManagerOptions): ManagerOptions {
  return {
    ...(opts.lock === undefined ? {} : { lock: opts.lock }),
    ...(opts.sizeCheck === undefined ? {} : { sizeCheck: opts.sizeCheck }),
    ...(opts.read === undefined ? {} : { read: opts.read }),
  }
}

/** The create options an openOrCreate passes on when it creates the segment. */
export function createPartOf(opts: OpenOrCreateOptions): CreateOptions {
  const { timeoutMs: _openOnly, ...create } = opts
  return create
}

/** The open options an openOrCreate passes on when the segment already exists. */
export function reopenOptions(opts: OpenOrCreateOptions): OpenOptions {
  return { ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }), ...managerOptions(opts) }
}

/** Parses an options object, turning zod's issues into one EINVAL with paths. */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, what: string, target?: string): z.infer<S> {
  const result = schema.safeParse(value ?? {})
  if (result.success) return result.data
  throw invalidOptions(
    what,
    result.error.issues.map((issue) => ({ path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: issue.message })),
    target,
  )
}

export function checkSegmentSize(size: unknown): number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < MIN_SEGMENT_BYTES || size > MAX_SEGMENT_BYTES) {
    throw invalidArgument('size', size, `an integer number of bytes from ${MIN_SEGMENT_BYTES} to ${MAX_SEGMENT_BYTES}`)
  }
  return size
}
