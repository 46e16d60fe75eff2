import { closeSync, fstatSync, ftruncateSync } from 'node:fs'
import { ShmError, invalidArgument } from '@shmkit/errors'
import { F_ADD_SEALS, F_SEAL_SHRINK, MFD_ALLOW_SEALING, MFD_CLOEXEC, posix } from './bindings/posix.js'
import { osError } from './errors.js'
import { FdObject } from './fd-object.js'
import { checkSize } from './validate.js'

/**
 * Memory with no name (memfd_create): the Node equivalent of Boost's
 * fork-only anonymous shared memory. Hand `fd` to a child in a `stdio` slot;
 * the child calls `AnonymousSharedMemory.fromFd(slot)` and maps it.
 * `truncate` may grow it; shrinking is refused (EACCES): the memory is sealed
 * against it, so no mapping can ever reach past its end.
 */
export class AnonymousSharedMemory extends FdObject {
  /** The descriptor's number, kept for messages after close. */
  private readonly fdNumber: number

  private constructor(fd: number) {
    super(fd, false)
    this.fdNumber = fd
  }

  protected describeSelf(): string {
    return `anonymous shared memory (fd ${this.fdNumber})`
  }

  /** Adopts a memfd passed in by a parent (e.g. `stdio: ['inherit', 'inherit', 'inherit', fd]` → 3). */
  static fromFd(fd: number): AnonymousSharedMemory {
    if (!Number.isSafeInteger(fd) || fd < 0) throw invalidArgument('fd', fd, 'an open file descriptor number')
    try {
      if (fstatSync(fd).size === 0) throw invalidArgument('fd', fd, 'the descriptor of a sized anonymous memory object')
    } catch (e) {
      if (e instanceof ShmError) throw e
      throw osError('fstat', Math.abs((e as NodeJS.ErrnoException).errno ?? 9), `descriptor ${fd}`)
    }
    return new AnonymousSharedMemory(fd)
  }

  /** @internal */
  static adopt(fd: number): AnonymousSharedMemory {
    return new AnonymousSharedMemory(fd)
  }
}

/** Creates `size` bytes of anonymous shared memory; sealed against shrinking, so no mapping can SIGBUS. */
export function anonymousSharedMemory(size: number): AnonymousSharedMemory {
  checkSize(size, 'size', 1)
  if (process.platform !== 'linux')
    throw new ShmError('ENOTSUP', `anonymous shared memory needs memfd_create (Linux); this is ${process.platform}`)
  const p = posix()
  const fd = p.memfd_create('shmkit', MFD_CLOEXEC | MFD_ALLOW_SEALING)
  if (fd < 0) throw osError('memfd_create', p.errno(), 'anonymous shared memory')
  try {
    ftruncateSync(fd, size)
    if (p.fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) !== 0) throw osError('fcntl(F_ADD_SEALS)', p.errno(), 'anonymous shared memory')
  } catch (e) {
    closeSync(fd)
    throw e
  }
  return AnonymousSharedMemory.adopt(fd)
}
