import { constants } from 'node:os'
import { ShmError } from '@shmkit/errors'

const namesByNumber = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]))

export function errnoName(errno: number): string {
  return namesByNumber.get(errno) ?? `E${errno}`
}

/** A failed system call as a ShmError: the errno's name is the code (ENOENT, EEXIST, EACCES…). */
export function osError(syscall: string, errno: number, target: string, hint?: string): ShmError {
  const code = errnoName(errno)
  const what: Record<string, string> = {
    ENOENT: 'does not exist',
    EEXIST: 'already exists',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EINVAL: 'invalid argument',
    ENOMEM: 'out of memory',
    ENOSPC: 'no space left',
    EMFILE: 'too many open files',
  }
  return new ShmError(code === 'EPERM' ? 'EACCES' : code, `${syscall} ${target}: ${what[code] ?? code}`, {
    errno,
    syscall,
    target,
    ...(hint === undefined ? {} : { hint }),
  })
}

export function closedError(target: string): ShmError {
  return new ShmError('ECLOSED', `${target} is closed`, { target })
}

export function readOnlyError(target: string, what: string): ShmError {
  return new ShmError('EREADONLY', `cannot ${what} ${target}: it was opened read-only`, { target })
}

/** Win32 error numbers (GetLastError) and the code shmkit reports for them. */
const windowsCodes: Record<number, string> = {
  2: 'ENOENT', // ERROR_FILE_NOT_FOUND
  3: 'ENOENT', // ERROR_PATH_NOT_FOUND
  5: 'EACCES', // ERROR_ACCESS_DENIED
  8: 'ENOMEM', // ERROR_NOT_ENOUGH_MEMORY
  14: 'ENOMEM', // ERROR_OUTOFMEMORY
  32: 'EBUSY', // ERROR_SHARING_VIOLATION
  80: 'EEXIST', // ERROR_FILE_EXISTS
  87: 'EINVAL', // ERROR_INVALID_PARAMETER
  112: 'ENOSPC', // ERROR_DISK_FULL
  183: 'EEXIST', // ERROR_ALREADY_EXISTS
  1224: 'EBUSY', // ERROR_USER_MAPPED_FILE: cannot cut a file below a mapped view
  1455: 'ENOMEM', // ERROR_COMMITMENT_LIMIT: the paging file is too small
}

/**
 * A failed kernel32 call as a ShmError. Win32 error numbers are not errnos
 * (5 is "access denied", not EIO): they are mapped to the same codes POSIX
 * failures get, and `errno` keeps the Win32 number.
 */
export function windowsError(syscall: string, error: number, target: string): ShmError {
  const code = windowsCodes[error] ?? `WIN32_ERROR_${error}`
  const what: Record<string, string> = {
    ENOENT: 'does not exist',
    EEXIST: 'already exists',
    EACCES: 'permission denied',
    ENOMEM: 'out of memory',
    EBUSY: 'in use',
    EINVAL: 'invalid argument',
    ENOSPC: 'no space left',
  }
  return new ShmError(code, `${syscall} ${target}: ${what[code] ?? `Windows error ${error}`}`, { errno: error, syscall, target })
}

/**
 * A failed Node `fs` call as a ShmError. Its `code` is the errno's name on
 * every platform, while its `errno` number is libuv's (on Windows -4048 for
 * EPERM): the name is what is reported.
 */
export function fsError(e: unknown, syscall: string, target: string, hint?: string): ShmError {
  const err = e as NodeJS.ErrnoException
  const code = err.code ?? errnoName(Math.abs(err.errno ?? 5))
  const known = code === 'EPERM' ? 'EACCES' : code
  return new ShmError(
    known,
    `${err.syscall ?? syscall} ${target}: ${code === 'ENOENT' ? 'does not exist' : code === 'EPERM' || code === 'EACCES' ? 'permission denied' : code}`,
    {
      syscall: err.syscall ?? syscall,
      target,
      ...(err.errno === undefined ? {} : { errno: Math.abs(err.errno) }),
      ...(hint === undefined ? {} : { hint }),
    },
  )
}
