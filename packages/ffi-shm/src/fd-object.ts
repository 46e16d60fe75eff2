import { closeSync, fstatSync, ftruncateSync } from 'node:fs'
import { constants } from 'node:os'
import { ShmError } from '@shmkit/errors'
import { posix } from './bindings/posix.js'
import { closedError, osError, readOnlyError } from './errors.js'
import { mapTarget, type MapTarget, type MappableObject } from './map-source.js'
import { selectBackend } from './platform.js'
import { checkSize, MAX_OBJECT_BYTES, MAX_VIEW_BYTES } from './validate.js'
import type { WindowsFile } from './windows-file.js'

const { EINTR, ENOSPC } = constants.errno

/**
 * What every file-like object shares — a POSIX shared memory object, a
 * regular file, a memfd, and on Windows the file that emulates a shared
 * memory object: its size comes from the OS (another process may resize it),
 * it can be resized, closed once, and mapped by MappedRegion. Behind it is a
 * descriptor (POSIX) or a kernel32 file HANDLE (Windows, see WindowsFile).
 * Subclasses say how messages name them.
 */
export abstract class FdObject implements MappableObject {
  #file: number | WindowsFile | undefined
  readonly readOnly: boolean

  protected constructor(file: number | WindowsFile, readOnly: boolean) {
    this.#file = file
    this.readOnly = readOnly
  }

  /** How errors and mapped regions name this object. */
  protected abstract describeSelf(): string

  #open(): number | WindowsFile {
    if (this.#file === undefined) throw closedError(this.describeSelf())
    return this.#file
  }

  /** The descriptor (POSIX). On Windows the object is a kernel32 HANDLE, not a descriptor: ENOTSUP. */
  get fd(): number {
    const file = this.#open()
    if (typeof file !== 'number')
      throw new ShmError('ENOTSUP', `${this.describeSelf()} has no file descriptor on Windows (it is a kernel32 handle)`, {
        target: this.describeSelf(),
      })
    return file
  }

  /** The descriptor on POSIX; undefined on Windows, where the object is a kernel32 HANDLE (`fd` throws there). */
  get descriptor(): number | undefined {
    const file = this.#open()
    return typeof file === 'number' ? file : undefined
  }

  /** The current size, from the OS (another process may have resized it). */
  get size(): number {
    const file = this.#open()
    return typeof file === 'number' ? fstatSync(file).size : file.size(this.describeSelf())
  }

  /** Sets the size; new bytes read as zero. */
  truncate(bytes: number): void {
    const file = this.#open()
    if (this.readOnly) throw readOnlyError(this.describeSelf(), 'truncate')
    checkSize(bytes, 'bytes', 0, MAX_VIEW_BYTES)
    if (typeof file !== 'number') return file.truncate(bytes, this.describeSelf())
    try {
      ftruncateSync(file, bytes)
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
    if (this.readOnly) throw readOnlyError(this.describeSelf(), 'reserve space in')
    checkSize(offset, 'offset', 0, MAX_OBJECT_BYTES)
    checkSize(length, 'length', 1, MAX_OBJECT_BYTES - offset)
    if (process.platform !== 'linux' || selectBackend() !== 'posix') {
      if (this.size < offset + length) this.truncate(offset + length)
      return
    }
    const fd = this.fd
    let errno = posix().posix_fallocate(fd, offset, length)
    // tmpfs gives up with EINTR when a signal arrives mid-way; its partial work is undone, so try again.
    for (let attempt = 0; errno === EINTR && attempt < 100; attempt++) errno = posix().posix_fallocate(fd, offset, length)
    if (errno !== 0)
      throw osError(
        'posix_fallocate',
        errno,
        this.describeSelf(),
        errno === ENOSPC ? `${length} more bytes do not fit on the file system that holds it` : undefined,
      )
  }

  /** Closes the descriptor; regions already mapped from it stay valid. Idempotent. */
  close(): void {
    if (this.#file === undefined) return
    if (typeof this.#file === 'number') closeSync(this.#file)
    else this.#file.close()
    this.#file = undefined
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close()
  }

  /** What `new MappedRegion(this)` maps (an internal protocol between the object kinds and MappedRegion). */
  [mapTarget](): MapTarget {
    const file = this.#open()
    const common = { size: this.size, readOnly: this.readOnly, target: this.describeSelf() }
    return typeof file === 'number' ? { kind: 'fd', fd: file, ...common } : { kind: 'windows-file', handle: file.handle, ...common }
  }
}
