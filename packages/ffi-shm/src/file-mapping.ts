import { closeSync, constants, fstatSync, openSync, rmSync, statSync } from 'node:fs'
import { z } from 'zod'
import { invalidArgument } from '@shmkit/errors'
import { fsError, osError } from './errors.js'
import { FdObject } from './fd-object.js'
import { selectBackend } from './platform.js'
import { parse } from './validate.js'
import { WindowsFile } from './windows-file.js'

const openSchema = z.object({ readOnly: z.boolean().optional() }).strict()

/** A regular file to map: Boost's `file_mapping`. The file must exist. */
export class FileMapping extends FdObject {
  readonly path: string

  constructor(path: string, options?: { readOnly?: boolean }) {
    checkPath(path)
    const { readOnly = false } = parse(openSchema, options, describe(path))
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
  }

  protected describeSelf(): string {
    return describe(this.path)
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

function describe(path: string): string {
  return `file "${path}"`
}

function checkPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) throw invalidArgument('path', path, 'a non-empty file path')
}
