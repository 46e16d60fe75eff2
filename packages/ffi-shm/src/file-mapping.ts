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
/** The file `create` opened, handed to the constructor (synchronously, so nothing can come between). */
let created: number | WindowsFile | undefined

/** A regular file to map: Boost's `file_mapping`. The file must exist. */
export class FileMapping extends FdObject {
  readonly path: string
  /** Device and inode of the file opened, kept past close for isAt. */
  readonly #identity: { dev: bigint; ino: bigint }

  constructor(path: string, options?: { readOnly?: boolean }) {
    checkPath(path)
    const { readOnly = false } = parse(openSchema, options, describe(path))
    if (created !== undefined) {
      const file = created
      created = undefined
      super(file, false)
      this.path = path
      this.#identity = identityOf(file)
      return
    }
    let file: number | WindowsFile
    if (selectBackend() === 'windows') {
      // A HANDLE of our own, not a Node descriptor: see WindowsFile.
      file = WindowsFile.open(path, { create: false, readOnly }, describe(path))
    } else
      try {
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
    this.#identity = identityOf(file)
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
    if (selectBackend() === 'windows') {
      // CREATE_NEW is Windows' O_CREAT|O_EXCL; the HANDLE is ours to map (see WindowsFile). Windows has no mode bits.
      created = WindowsFile.open(path, { create: true, readOnly: false }, describe(path))
      return new FileMapping(path)
    }
    let fd: number
    try {
      fd = openSync(
        path,
        constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0),
        mode,
      )
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

  /**
   * Whether `path` still names this very file (same device and inode, even
   * after close): safe to remove by name. On Windows, which has no inode to
   * compare here, the path it was opened by: a file open there (shared for
   * delete) cannot be replaced by another without its name going first.
   */
  isAt(path: string): boolean {
    if (this.#identity.dev < 0n) return path === this.path
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
      const hint =
        selectBackend() === 'windows' && err.code === 'EPERM'
          ? 'Windows cannot delete a file while a process has it mapped: close the mappings first'
          : undefined
      throw fsError(err, 'unlink', describe(path), hint)
    }
  }
}

/** Device and inode of an open descriptor; on Windows (a HANDLE) none, marked -1. */
function identityOf(file: number | WindowsFile): { dev: bigint; ino: bigint } {
  if (typeof file !== 'number') return { dev: -1n, ino: -1n }
  const st = fstatSync(file, { bigint: true })
  return { dev: st.dev, ino: st.ino }
}

function describe(path: string): string {
  return `file "${path}"`
}

function checkPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) throw invalidArgument('path', path, 'a non-empty file path')
}
