import { closeSync, fstatSync, ftruncateSync } from 'node:fs'
import { constants } from 'node:os'
import { posix } from './bindings/posix.js'
import { closedError, osError, readOnlyError } from './errors.js'
import { mapTarget, type MapTarget, type MappableObject } from './map-source.js'
import { selectBackend } from './platform.js'
import { checkSize, MAX_OBJECT_BYTES, MAX_VIEW_BYTES } from './validate.js'

const { EINTR, ENOSPC } = constants.errno

/**
 * What every object behind a file descriptor shares — a POSIX shared memory
 * object, a regular file, a memfd: its size comes from fstat (another process
 * may resize it), it can be resized, closed once, and mapped by MappedRegion.
 * Subclasses say how messages name them.
 */
export abstract class FdObject implements MappableObject {
  #fd: number
  readonly readOnly: boolean

  protected constructor(fd: number, readOnly: boolean) {
    this.#fd = fd
    this.readOnly = readOnly
  }

  /** How errors and mapped regions name this object. */
  protected abstract describeSelf(): string

  get fd(): number {
    if (this.#fd < 0) throw closedError(this.describeSelf())
    return this.#fd
  }

  /** The current size, from fstat (another process may have resized it). */
  get size(): number {
    return fstatSync(this.fd).size
  }

  /** Sets the size; new bytes read as zero. */
  truncate(bytes: number): void {
    const fd = this.fd
    if (this.readOnly) throw readOnlyError(this.describeSelf(), 'truncate')
    checkSize(bytes, 'bytes', 0, MAX_VIEW_BYTES)
    try {
      ftruncateSync(fd, bytes)
    } catch (e) {
      throw osError('ftruncate', Math.abs((e as NodeJS.ErrnoException).errno ?? 5), this.describeSelf())
    }
  }

  /**
   * Reserves storage for `[offset, offset + length)` (posix_fallocate),
   * growing the object if that range ends past its size; new bytes read as
   * zero. On a full tmpfs or disk this fails now with `ENOSPC`, where a
   * sparse `truncate` would succeed and the first touch of an unbacked page
   * would kill the process with SIGBUS. Where there is no posix_fallocate
   * (macOS, the Windows emulation) it only grows the object, like `truncate`.
   */
  reserve(offset: number, length: number): void {
    const fd = this.fd
    if (this.readOnly) throw readOnlyError(this.describeSelf(), 'reserve space in')
    checkSize(offset, 'offset', 0, MAX_OBJECT_BYTES)
    checkSize(length, 'length', 1, MAX_OBJECT_BYTES - offset)
    if (process.platform !== 'linux' || selectBackend() !== 'posix') {
      if (this.size < offset + length) this.truncate(offset + length)
      return
    }
    let errno = posix().posix_fallocate(fd, offset, length)
    // tmpfs gives up with EINTR when a signal arrives mid-way; its partial work is undone, so try again.
    for (let attempt = 0; errno === EINTR && attempt < 100; attempt++) errno = posix().posix_fallocate(fd, offset, length)
    if (errno !== 0) throw osError('posix_fallocate', errno, this.describeSelf(), errno === ENOSPC ? `${length} more bytes do not fit on the file system that holds it` : undefined)
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
    return { kind: 'fd', fd: this.fd, size: this.size, readOnly: this.readOnly, target: this.describeSelf() }
  }
}
