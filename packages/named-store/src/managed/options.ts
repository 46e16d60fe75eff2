import { z } from 'zod'
import { invalidArgument, invalidOptions } from '@shmkit/errors'
import { MIN_GROWTH_BYTES } from '../segment/growth.js'
import { LAYOUT_VERSION, MAX_SEGMENT_BYTES, MIN_SEGMENT_BYTES } from '../segment/header.js'

const lockOptions = z
  .object({
    ownerCheckMs: z.number().positive().max(60_000).optional(),
    timeoutMs: z.number().nonnegative().optional(),
  })
  .strict()

const sizeCheck = z.enum(['periodic', 'every-operation'])
/** Automatic growth step (see SegmentManagerOptions.growBy). */
const growBy = z.number().int().min(MIN_GROWTH_BYTES).max(MAX_SEGMENT_BYTES)

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
    /**
     * Size of the object, and of every process's mapping, when more than
     * `size`: room the segment can grow into online (`grow`, `growBy`).
     * Only `size` bytes are reserved; the rest costs address space only.
     */
    maxSize: z.number().int().min(MIN_SEGMENT_BYTES).max(MAX_SEGMENT_BYTES).optional(),
    growBy: growBy.optional(),
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
    growBy: growBy.optional(),
    read: readOptions.optional(),
  })
  .strict()

export const openOrCreateOptionsSchema = createOptionsSchema
  .extend({
    timeoutMs: openOptionsSchema.shape.timeoutMs,
    /**
     * Adopt an existing segment even if another user owns it or its mode is
     * wider than `mode` (default false: EACCES, see README "Security").
     */
    trustExisting: z.boolean().optional(),
  })
  .strict()

/** Options of `create` on the managed segment kinds (`mode`, `lock`, `sizeCheck`), validated with zod. */
export type CreateOptions = z.infer<typeof createOptionsSchema>
/** Options of `open` on the managed segment kinds (`readOnly`, `timeoutMs` for a segment still being created, `lock`, `sizeCheck`). */
export type OpenOptions = z.infer<typeof openOptionsSchema>
/** Options of `openOrCreate`: those of `create`, plus `timeoutMs` for the open. */
export type OpenOrCreateOptions = z.infer<typeof openOrCreateOptionsSchema>

export const DEFAULT_OPEN_TIMEOUT_MS = 1000

type ManagerOptions = Pick<CreateOptions, 'lock' | 'sizeCheck' | 'growBy' | 'read'>

/** The segment manager's part of parsed options (only what was given): what every managed kind passes to its base. */
export function managerOptions(opts: ManagerOptions): ManagerOptions {
  return {
    ...(opts.lock === undefined ? {} : { lock: opts.lock }),
    ...(opts.sizeCheck === undefined ? {} : { sizeCheck: opts.sizeCheck }),
    ...(opts.growBy === undefined ? {} : { growBy: opts.growBy }),
    ...(opts.read === undefined ? {} : { read: opts.read }),
  }
}

/** The create options an openOrCreate passes on when it creates the segment. */
export function createPartOf(opts: OpenOrCreateOptions): CreateOptions {
  const { timeoutMs: _openOnly, trustExisting: _adoptOnly, ...create } = opts
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
    throw invalidArgument('size', size, `an integer number of bytes from ${MIN_SEGMENT_BYTES} to ${MAX_SEGMENT_BYTES}`, {
      ...(typeof size === 'number' && size > MAX_SEGMENT_BYTES ? { hint: tooLargeHint() } : {}),
    })
  }
  return size
}

/** Why a segment cannot pass 4 GiB here: the layout's 32-bit offsets, and on Node 20 the engine too. */
export function tooLargeHint(): string {
  const major = Number(process.versions.node.split('.')[0])
  const engine =
    major < 22 ? `; Node ${process.versions.node} cannot view more than 4 GiB of one buffer either (Node 22 and later can)` : ''
  return `segments stop at 4 GiB: layout version ${LAYOUT_VERSION} stores offsets in 32-bit words${engine}; split the data over several segments`
}

/** The object size a create asks for: `maxSize` when given (at least `size`), else `size`. */
export function objectSizeFor(size: number, maxSize: number | undefined): number {
  if (maxSize === undefined) return size
  if (maxSize < size)
    throw invalidArgument('options.maxSize', maxSize, `at least the segment's size (${size}) and at most ${MAX_SEGMENT_BYTES}`)
  return maxSize
}
