/**
 * The stable error codes of shmkit. Callers branch on `code`, never on the
 * message text. A failing system call whose errno has no entry here keeps the
 * OS's own errno name as its code (for example `ENOSPC`), as Node's `fs` does.
 */
export const SHM_ERROR_CODES = [
  'ENOENT', // the named object does not exist
  'EEXIST', // the named object already exists
  'EACCES', // permission denied
  'EINVAL', // a bad argument: the message names it and its allowed range
  'ENOMEM', // the segment is full: the message gives requested and free bytes
  'ETYPE', // the stored type differs from the one asked for
  'ECORRUPT', // the bytes are not a valid segment
  'EVERSION', // a segment of another layout version
  'EREADONLY', // a write through a read-only handle
  'ECLOSED', // use after close()
  'ETIMEDOUT', // waited too long (a lock, or a segment still being created)
  'ENOTSUP', // not available on this platform
  'EPERM', // a lock released (or a condition waited on) by someone who does not hold it
  'EDEADLK', // a wait that could never end: relocking a held non-recursive mutex, waiting on memory no one else can change, or a lock held by another handle of this same thread
  'ENOTRECOVERABLE', // a lock whose dead owner's data was never marked consistent: unusable for good
  'EABORTED', // an async wait ended by its AbortSignal (the signal's reason is the cause)
  'EBUSY', // refused while something is in progress: a segment operation called from inside another one
] as const

/** One of the codes in {@link SHM_ERROR_CODES}. */
export type KnownShmErrorCode = (typeof SHM_ERROR_CODES)[number]
/** A known code, or the errno name of a system call failure we do not map. */
export type ShmErrorCode = KnownShmErrorCode | (string & {})

/** One problem with an argument, located by its path (as zod reports it). */
export interface ShmErrorIssue {
  path: (string | number)[]
  message: string
}

/** Everything a {@link ShmError} may carry besides its code and message. */
export interface ShmErrorOptions {
  /** What the user might do about it. */
  hint?: string
  /** The OS errno number, where a system call said no. */
  errno?: number
  /** The failing system call's name, e.g. `shm_open`. */
  syscall?: string
  /** The object the operation was about: a segment name, a path, a key. */
  target?: string
  /** Each bad argument with its path, for option objects and `init` values. */
  issues?: ShmErrorIssue[]
  /** Structured figures, e.g. `{ requested, free }` for ENOMEM. */
  details?: Record<string, unknown>
  cause?: unknown
}

const BRAND = Symbol.for('shmkit.ShmError')

/**
 * The one error class every shmkit package throws. Branch on `code` (stable), never on `message`;
 * `errno` and `syscall` are set where the OS said no, `issues` for bad option objects and `init` values.
 */
export class ShmError extends Error {
  override readonly name = 'ShmError'
  readonly code: ShmErrorCode
  declare readonly hint?: string
  declare readonly errno?: number
  declare readonly syscall?: string
  declare readonly target?: string
  readonly issues: ShmErrorIssue[]
  readonly details: Record<string, unknown>

  constructor(code: ShmErrorCode, message: string, options: ShmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    if (options.hint !== undefined) this.hint = options.hint
    if (options.errno !== undefined) this.errno = options.errno
    if (options.syscall !== undefined) this.syscall = options.syscall
    if (options.target !== undefined) this.target = options.target
    this.issues = options.issues ?? []
    this.details = options.details ?? {}
    Object.defineProperty(this, BRAND, { value: true })
  }

  /**
   * Two copies of this package (say, two versions in one node_modules tree)
   * still recognise each other's errors: `instanceof` checks a global brand.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
  }

  /** True when `value` is a ShmError, optionally with the given code. */
  static is(value: unknown, code?: ShmErrorCode): value is ShmError {
    return value instanceof ShmError && (code === undefined || value.code === code)
  }
}
