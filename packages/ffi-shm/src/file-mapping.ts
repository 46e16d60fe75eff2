import { closeSync, constants, fstatSync, ftruncateSync, openSync, rmSync, statSync } from 'node:fs'
import { z } from 'zod'
import { invalidArgument } from '@shmkit/errors'
import { closedError, osError, readOnlyError } from './errors.js'
import { mapTarget, type MapTarget, type MappableObject } from './map-source.js'
import { checkSize, MAX_VIEW_BYTES, parse } from './validate.js'

const openSchema = z.object({ readOnly: z.boolean().optional() }).strict()

/** A regular file to map: Boost's `file_mapping`. The file must exist. */
export class FileMapping implements MappableObject {
  #fd: number
  readonly path: string
  readonly readOnly: boolean

  constructor(path: string, options?: { readOnly?: boolean }) {
    checkPath(path)
    const { readOnly = false } = parse(openSchema, options, describe(path))
    this.path = path
    this.readOnly = readOnly
    try {
      // O_NONBLOCK: a FIFO at this path must not hang the open (a read-only
      // open of a FIFO waits for a writer); it is refused as not a regular file below.
      this.#fd = openSync(path, (readOnly ? constants.O_RDONLY : constants.O_RDWR) | (constants.O_NONBLOCK ?? 0))
    } catch (e) {
      throw osError('open', Math.abs((e as NodeJS.ErrnoException).errno ?? 5), describe(path))
    }
    if (!fstatSync(this.#fd).isFile()) {
      closeSync(this.#fd)
      this.#fd = -1
      throw invalidArgument('path', path, 'a regular file')
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
      throw osError(err.syscall ?? 'unlink', Math.abs(err.errno ?? 5), describe(path))
    }
  }

  get fd(): number {
    if (this.#fd < 0) throw closedError(describe(this.path))
    return this.#fd
  }

  get size(): number {
    return fstatSync(this.fd).size
  }

  truncate(bytes: number): void {
    const fd = this.fd
    if (this.readOnly) throw readOnlyError(describe(this.path), 'truncate')
    checkSize(bytes, 'bytes', 0, MAX_VIEW_BYTES)
    try {
      ftruncateSync(fd, bytes)
    } catch (e) {
      throw osError('ftruncate', Math.abs((e as NodeJS.ErrnoException).errno ?? 5), describe(this.path))
    }
  }

  close(): void {
    if (this.#fd < 0) return
    closeSync(this.#fd)
    this.#fd = -1
  }

  [Symbol.dispose](): void {
    this.close()
  }

  [mapTarget](): MapTarget {
    return { kind: 'fd', fd: this.fd, size: this.size, readOnly: this.readOnly, target: describe(this.path) }
  }
}

function describe(path: string): string {
  return `file "${path}"`
}

function checkPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) throw invalidArgument('path', path, 'a non-empty file path')
}
