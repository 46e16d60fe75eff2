import { closeSync, constants, fchmodSync, fstatSync } from 'node:fs'
import { z } from 'zod'
import { invalidArgument } from '@shmkit/errors'
import { posix } from './bindings/posix.js'
import { osError } from './errors.js'
import { FdObject } from './fd-object.js'
import { selectBackend } from './platform.js'
import { checkName, modeSchema, parse } from './validate.js'
import { openEmulationFile, removeEmulationFile } from './shared-memory-emulation.js'
import type { WindowsFile } from './windows-file.js'

const createSchema = z.object({ mode: modeSchema.optional() }).strict()
const openSchema = z.object({ readOnly: z.boolean().optional() }).strict()

/**
 * A POSIX shared memory object, `shm_open("/" + name)`: Boost's
 * `shared_memory_object`, and the same object Python's
 * `multiprocessing.shared_memory` opens by that name. On Windows it is
 * emulated by a file in `%TEMP%\shmkit-shm`, as Boost emulates it by a file
 * (see shared-memory-emulation.ts).
 */
export class SharedMemoryObject extends FdObject {
  readonly name: string

  private constructor(name: string, file: number | WindowsFile, readOnly: boolean) {
    super(file, readOnly)
    this.name = name
  }

  protected describeSelf(): string {
    return describe(this.name)
  }

  /** Creates a new object of size 0 (mode 0o600 unless asked); EEXIST if it exists. */
  static create(name: string, options?: { mode?: number }): SharedMemoryObject {
    checkName(name)
    const { mode = 0o600 } = parse(createSchema, options, describe(name))
    const file = openObject(name, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR, mode)
    // The umask may have cleared bits the caller asked for; Boost sets them explicitly too.
    if (typeof file === 'number') fchmodSync(file, mode)
    return new SharedMemoryObject(name, file, false)
  }

  /** Opens an existing object; ENOENT if there is none. */
  static open(name: string, options?: { readOnly?: boolean }): SharedMemoryObject {
    checkName(name)
    const { readOnly = false } = parse(openSchema, options, describe(name))
    return new SharedMemoryObject(name, openObject(name, readOnly ? constants.O_RDONLY : constants.O_RDWR, 0), readOnly)
  }

  /** Opens the object, or creates it (size 0) if it does not exist. */
  static openOrCreate(name: string, options?: { mode?: number }): SharedMemoryObject {
    checkName(name)
    parse(createSchema, options, describe(name))
    for (let attempt = 0; ; attempt++) {
      try {
        return SharedMemoryObject.create(name, options)
      } catch (e) {
        if ((e as { code?: string }).code !== 'EEXIST' || attempt > 8) throw e
      }
      try {
        return SharedMemoryObject.open(name)
      } catch (e) {
        if ((e as { code?: string }).code !== 'ENOENT' || attempt > 8) throw e
      }
    }
  }

  /** Removes the name; mappings that exist stay valid. False if there was none. */
  static remove(name: string): boolean {
    checkName(name)
    if (selectBackend() === 'windows') return removeEmulationFile(name, describe(name))
    if (posix().shm_unlink('/' + name) === 0) return true
    const errno = posix().errno()
    const error = osError('shm_unlink', errno, describe(name))
    if (error.code === 'ENOENT') return false
    throw error
  }
}

function describe(name: string): string {
  return `shared memory object "${name}"`
}

function openObject(name: string, flags: number, mode: number): number | WindowsFile {
  if (selectBackend() === 'windows') {
    // The mode has no Windows meaning: the folder is the user's own (see emulationFolder).
    return openEmulationFile(
      name,
      { create: (flags & constants.O_CREAT) !== 0, readOnly: (flags & 3) === constants.O_RDONLY },
      describe(name),
    )
  }
  // O_NONBLOCK: a FIFO someone made under the name must not hang a
  // read-only open; anything but a regular file is then refused.
  const fd = posix().shm_open('/' + name, flags | constants.O_NONBLOCK, mode)
  if (fd < 0) throw osError('shm_open', posix().errno(), describe(name))
  if (!fstatSync(fd).isFile()) {
    closeSync(fd)
    throw invalidArgument('name', name, 'the name of a shared memory object (this one is not a regular file)')
  }
  return fd
}
