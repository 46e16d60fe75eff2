import { closeSync, constants, fstatSync, openSync } from 'node:fs'
import { invalidArgument } from '@shmkit/errors'
import { F_OFD_GETLK, F_OFD_SETLK, F_RDLCK, F_UNLCK, F_WRLCK, FLOCK_BYTES, posix } from './bindings/posix.js'
import { errnoName } from './errors.js'

/**
 * Open-file-description byte-range locks (`fcntl(F_OFD_SETLK)`), the kernel's
 * own record of who holds what: a lock belongs to one open file description,
 * and the kernel drops it when the last descriptor of that description is
 * closed — also when the holder is SIGKILLed, and whatever pid namespace it
 * runs in. Locks may lie past the end of the file, so they never touch data.
 *
 * Only shared (read) locks are taken: they need no write access, so read-only
 * descriptors can hold them, and `byteLockedElsewhere` sees them from any
 * other description.
 */
export const byteLocksSupported = process.platform === 'linux'

const SEEK_SET = 0

function flock(type: number, offset: number): Uint8Array {
  const bytes = new Uint8Array(FLOCK_BYTES)
  const view = new DataView(bytes.buffer)
  view.setInt16(0, type, true)
  view.setInt16(2, SEEK_SET, true)
  view.setBigInt64(8, BigInt(offset), true)
  view.setBigInt64(16, 1n, true)
  return bytes
}

function checkArgs(fd: number, offset: number): void {
  if (!Number.isSafeInteger(fd) || fd < 0) throw invalidArgument('fd', fd, 'an open file descriptor number')
  if (!Number.isSafeInteger(offset) || offset < 0) throw invalidArgument('offset', offset, 'a byte offset from 0 to 2^53')
}

/**
 * Takes a shared lock on the byte at `offset` through `fd`'s open file
 * description: 'locked', 'busy' (another description holds an exclusive lock
 * there), or 'unsupported' (the kernel or file system has no OFD locks).
 */
export function lockByteShared(fd: number, offset: number): 'locked' | 'busy' | 'unsupported' {
  checkArgs(fd, offset)
  if (!byteLocksSupported) return 'unsupported'
  const p = posix()
  if (p.fcntlLock(fd, F_OFD_SETLK, flock(F_RDLCK, offset)) === 0) return 'locked'
  const code = errnoName(p.errno())
  return code === 'EAGAIN' || code === 'EACCES' ? 'busy' : 'unsupported'
}

/** Drops this description's lock on the byte at `offset` (a no-op when it holds none). */
export function unlockByte(fd: number, offset: number): void {
  checkArgs(fd, offset)
  if (byteLocksSupported) posix().fcntlLock(fd, F_OFD_SETLK, flock(F_UNLCK, offset))
}

/**
 * Whether another open file description holds a lock on the byte at
 * `offset`: true, false, or undefined when the kernel would not say. The
 * caller's own description never counts (its locks never conflict with it).
 */
export function byteLockedElsewhere(fd: number, offset: number): boolean | undefined {
  checkArgs(fd, offset)
  if (!byteLocksSupported) return undefined
  const query = flock(F_WRLCK, offset)
  if (posix().fcntlLock(fd, F_OFD_GETLK, query) !== 0) return undefined
  const type = new DataView(query.buffer).getInt16(0, true)
  return type === F_UNLCK ? false : type === F_RDLCK || type === F_WRLCK ? true : undefined
}

/**
 * A new open file description of the file behind `fd` (through
 * `/proc/self/fd`), read-only, so this process's byte locks are its own: a
 * descriptor inherited from a parent shares the parent's description, and
 * with it the parent's locks. Opened with `fs.openSync`, so a worker thread's
 * description is closed (and its locks dropped) when the worker exits or is
 * terminated (Node's `trackUnmanagedFds`, on by default). undefined where
 * /proc cannot be used.
 */
export function reopenPrivately(fd: number): number | undefined {
  if (!Number.isSafeInteger(fd) || fd < 0) throw invalidArgument('fd', fd, 'an open file descriptor number')
  if (process.platform !== 'linux') return undefined
  let reopened: number
  try {
    reopened = openSync(`/proc/self/fd/${fd}`, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
  } catch {
    return undefined
  }
  try {
    const a = fstatSync(fd, { bigint: true })
    const b = fstatSync(reopened, { bigint: true })
    if (a.dev === b.dev && a.ino === b.ino) return reopened
  } catch {
    // fall through: not the same file after all
  }
  closeSync(reopened)
  return undefined
}

/** The file's identity (device and inode), the same from every descriptor of it. */
export function fileIdentity(fd: number): string {
  const st = fstatSync(fd, { bigint: true })
  return `${st.dev}:${st.ino}`
}
