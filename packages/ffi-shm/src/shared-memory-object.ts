import { closeSync, constants, fchmodSync, fstatSync, mkdirSync, openSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { invalidArgument } from '@shmkit/errors'
import { posix } from './bindings/posix.js'
import { osError } from './errors.js'
import { FdObject } from './fd-object.js'
import { selectBackend } from './platform.js'
import { checkName, modeSchema, parse } from './validate.js'

const createSchema = z.object({ mode: modeSchema.optional() }).strict()
const openSchema = z.object({ readOnly: z.boolean().optional() }).strict()

/** Where Windows keeps the files that emulate POSIX shared memory objects (as Boost does). */
const windowsFolder = (): string => join(tmpdir(), 'shmkit-shm')

/**
 * A POSIX shared memory object, `shm_open("/" + name)`: Boost's
 * `shared_memory_object`, and the same object Python's
 * `multiprocessing.shared_memory` opens by that name. On Windows it is
 * emulated by a file in a temporary folder, as Boost does.
 */
export class SharedMemoryObject extends FdObject {
  readonly name: string

  private constructor(name: string, fd: number, readOnly: boolean) {
    super(fd, readOnly)
    this.name = name
  }

  protected describeSelf(): string {
    return describe(this.name)
  }

  /** Creates a new object of size 0 (mode 0o600 unless asked); EEXIST if it exists. */
  static create(name: string, options?: { mode?: number }): SharedMemoryObject {
    checkName(name)
    const { mode = 0o600 } = parse(createSchema, options, describe(name))
    const fd = openObject(name, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR, mode)
    // The umask may have cleared bits the caller asked for; Boost sets them explicitly too.
    if (selectBackend() === 'posix') fchmodSync(fd, mode)
    return new SharedMemoryObject(name, fd, false)
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
    if (selectBackend() === 'windows') {
      try {
        rmSync(join(windowsFolder(), name))
        return true
      } catch {
        return false
      }
    }
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

function openObject(name: string, flags: number, mode: number): number {
  if (selectBackend() === 'windows') {
    mkdirSync(windowsFolder(), { recursive: true })
    try {
      return openSync(join(windowsFolder(), name), flags, mode)
    } catch (e) {
      throw osError('open', Math.abs((e as NodeJS.ErrnoException).errno ?? 5), describe(name))
    }
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
