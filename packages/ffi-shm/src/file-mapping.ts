import { closeSync, constants, fchmodSync, fstatSync, lstatSync, openSync, rmSync, statSync } from 'node:fs'
import { z } from 'zod'
import { invalidArgument } from '@shmkit/errors'
import { fsError, osError } from './errors.js'
import { FdObject } from './fd-object.js'
import { selectBackend } from './platform.js'
import { modeSchema, parse } from './validate.js'
import { WindowsFile } from './windows-file.js'

const openSchema = z.object({ readOnly: z.boolean().optional() }).strict()
const createSchema = z.object({ mode: modeSchema.optional() }).strict()
/** The descriptor `create` opened, handed to the constructor (synchronously, so nothing can come between). */
let created: number | undefined

/** A regular file to map: Boost's `file_mapping`. The file must exist. */
export class FileMapping extends FdObject {
  readonly path: string
  /** Device and inode of the file opened, kept past close for isAt. */
  readonly #identity: { dev: bigint; ino: bigint }

  constructor(path: string, options?: { readOnly?: boolean }) {
    checkPath(path)
    const { readOnly = false } = parse(openSchema, options, describe(path))
    if (created !== undefined) {
      const fd = created
      created = undefined
      super(fd, false)
      this.path = path
      this.#identity = identityOf(fd)
      return
    }
    let file: number | WindowsFile
    if (selectBackend() === 'windows') {
      // A HANDLE of our own, not a Node descriptor: see WindowsFile.
      file = WindowsFile.open(path, { create: false, readOnly }, describe(path))
    } else try {
      // O_NONBLOCK: a FIFO at this path must not hang the open (a read-only
      // open of a FIFO waits for a writer); it is refused as not a regular file below.
      file = openSync(path, (readOnly ? constants.O_RDONLY : constants.O_RDWR) | (constants.O_NONBLOCK ?? 0))
    } catch (e) {
      throw osError('open', Math.abs((e as NodeJS.ErrnoException).errno ?? 5), describe(path))
    }
    if (typeof file === 'number' && !fstatSync(file).isFile()) {
      closeSync(file)
      throw invalidArgument('path', path, 'a regular file')
    }
    super(file, readOnly)
    this.path = path
    // Windows has no device/inode to compare: isAt then compares nothing and answers false.
    this.#identity = typeof file === 'number' ? identityOf(file) : { dev: -1n, ino: -1n }
  }

  protected describeSelf(): string {
    return describe(this.path)
  }

  /**
   * Creates the file (EEXIST if anything is at the path, a symlink included)
   * with `mode` (0o600 unless asked) and returns it open read-write. Everything
   * after — sizing, mapping, formatting — goes through this one descriptor,
   * never the path again: another user who swaps the path for a symlink
   * between two steps cannot redirect them.
   */
  static create(path: string, options?: { mode?: number }): FileMapping {
    checkPath(path)
    const { mode = 0o600 } = parse(createSchema, options, describe(path))
    let fd: number
    try {
      fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0), mode)
    } catch (e) {
      throw osError('open', Math.abs((e as NodeJS.ErrnoException).errno ?? 5), describe(path))
    }
    try {
      // The umask may have cleared bits the caller asked for.
      if (process.platform !== 'win32') fchmodSync(fd, mode)
    } catch (e) {
      closeSync(fd)
      throw osError('fchmod', Math.abs((e as NodeJS.ErrnoException).errno ?? 5), describe(path))
    }
    created = fd
    return new FileMapping(path)
  }

  /** Whether `path` still names this very file (same device and inode, even after close): safe to remove by name. */
  isAt(path: string): boolean {
    try {
      const there = lstatSync(path, { bigint: true, throwIfNoEntry: false })
      return there !== undefined && there.dev === this.#identity.dev && there.ino === this.#identity.ino
    } catch {
      return false
    }
  }

  /** Deletes the file; false if there was none. Other failures (EACCES…) are errors: they are not "nothing there". */
  static remove(path: string): boolean {
    checkPath(path)
    try {
      if (!statSync(path).isFile()) return false
      rmSync(path)
      return true
    } catch (e) {
      const err = e as NodeJS.ErrnoException
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return false
      const hint = selectBackend() === 'windows' && err.code === 'EPERM' ? 'Windows cannot delete a file while a process has it mapped: close the mappings first' : undefined
      throw fsError(err, 'unlink', describe(path), hint)
    }
  }
}

function identityOf(fd: number): { dev: bigint; ino: bigint } {
  const st = fstatSync(fd, { bigint: true })
  return { dev: st.dev, ino: st.ino }
}

function describe(path: string): string {
  return `file "${path}"`
}

function checkPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) throw invalidArgument('path', path, 'a non-empty file path')
}
