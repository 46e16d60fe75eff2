import { invalidOptions, ShmError } from '@shmkit/errors'
import { MAX_WAIT_TIMEOUT_MS } from '@shmkit/ffi-shm'
import { z } from 'zod'

/** Options of a blocking wait. */
export interface WaitOptions {
  /** Give up after this many milliseconds (default: wait as long as it takes). */
  timeoutMs?: number
}

/** Options of an async wait. */
export interface AsyncWaitOptions extends WaitOptions {
  /** Ends the wait with ShmError EABORTED (the signal's reason as `cause`). */
  signal?: AbortSignal
}

const timeoutMs = z.number().min(0).max(MAX_WAIT_TIMEOUT_MS).optional()
const waitSchema = z.object({ timeoutMs }).strict()
const asyncWaitSchema = z.object({ timeoutMs, signal: z.instanceof(AbortSignal).optional() }).strict()

function parse<T>(schema: z.ZodType<T>, value: unknown, target: string): T {
  const result = schema.safeParse(value ?? {})
  if (result.success) return result.data
  throw invalidOptions(
    'options',
    result.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message })),
    target,
  )
}

export function parseWaitOptions(options: unknown, target: string): WaitOptions {
  return parse(waitSchema, options, target) as WaitOptions
}

export function parseAsyncWaitOptions(options: unknown, target: string): AsyncWaitOptions {
  return parse(asyncWaitSchema, options, target) as AsyncWaitOptions
}

/** When a wait that started now must end (Infinity: never). */
export function deadlineOf(options: WaitOptions): number {
  return options.timeoutMs === undefined ? Infinity : performance.now() + options.timeoutMs
}

export function timedOut(what: string, timeoutMs: number | undefined, target: string, details: Record<string, unknown> = {}): ShmError {
  return new ShmError('ETIMEDOUT', `timed out after ${timeoutMs} ms waiting for ${what}`, { target, details })
}

/**
 * The longest a waiter sleeps before it looks again on its own: a peer that
 * died between changing a word and waking its waiters (or an owner that died
 * holding a lock) costs at most this much delay, never a wedge.
 */
export const RECHECK_MS = 200
