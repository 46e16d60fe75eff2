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
