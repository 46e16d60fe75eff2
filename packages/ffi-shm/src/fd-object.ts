import { closeSync, fstatSync, ftruncateSync } from 'node:fs'
import { closedError, osError, readOnlyError } from './errors.js'
import { mapTarget, type MapTarget, type MappableObject } from './map-source.js'
import { checkSize, MAX_VIEW_BYTES } from './validate.js'

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

  /** Closes the descriptor; regions already mapped from it stay valid. Idempotent. */
  close(): void {
    if (this.#fd < 0) return
    closeSync(this.#fd)
    this.#fd = -1
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close()
  }

  /** What `new MappedRegion(this)` maps (an internal protocol between the object kinds and MappedRegion). */
  [mapTarget](): MapTarget {
    return { kind: 'fd', fd: this.fd, size: this.size, readOnly: this.readOnly, target: this.describeSelf() }
  }
}
