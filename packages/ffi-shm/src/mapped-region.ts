import { constants } from 'node:os'
import { z } from 'zod'
import { invalidArgument, ShmError } from '@shmkit/errors'
import {
  MAP_ANONYMOUS,
  MAP_FAILED,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  MS_ASYNC,
  MS_SYNC,
  posix,
  PROT_READ,
  PROT_WRITE,
  SC_PAGESIZE,
  SHM_RDONLY,
  viewAt,
} from './bindings/posix.js'
import { FILE_MAP_ALL_ACCESS, FILE_MAP_COPY, FILE_MAP_READ, kernel32, PAGE_READWRITE, PAGE_WRITECOPY } from './bindings/windows.js'
import { closedError, osError, windowsError } from './errors.js'
import { mapTarget, type MapTarget, type MappableObject } from './map-source.js'
import { checkSize, MAX_VIEW_BYTES, parse } from './validate.js'

const optionsSchema = z
  .object({
    readOnly: z.boolean().optional(),
    offset: z.number().int().min(0).optional(),
    size: z.number().int().min(1).max(MAX_VIEW_BYTES).optional(),
  })
  .strict()

let pageSizeCache: number | undefined

interface Mapping {
  kind: MapTarget['kind']
  /** Start of what the OS mapped (page aligned). */
  base: bigint
  length: number
}

/**
 * The pages behind a region go back to the OS only once its ArrayBuffer is
 * collected: until then some TypedArray may still point into them (after
 * close() they are private zero pages, see close()). A region dropped without
 * close() is released the same way. munmap also detaches an XSI attachment.
 */
const releaseWhenCollected = new FinalizationRegistry<Mapping>((mapping) => {
  if (mapping.kind === 'windows') kernel32().UnmapViewOfFile(mapping.base)
  else posix().munmap(mapping.base, mapping.length)
})

/**
 * A mapping of (part of) a shared object into this process: Boost's
 * `mapped_region`. `buffer` is an ArrayBuffer over exactly the requested
 * window, whatever its offset's alignment.
 */
export class MappedRegion {
  readonly size: number
  readonly readOnly: boolean
  /** Offset of the window in the mapped object. */
  readonly offset: number
  readonly target: string
  #buffer: ArrayBuffer | undefined
  #address: bigint
  #mapping: Mapping

  constructor(source: MappableObject, options?: { readOnly?: boolean; offset?: number; size?: number }) {
    if (source === null || typeof source !== 'object' || typeof (source as Partial<MappableObject>)[mapTarget] !== 'function') {
      throw invalidArgument(
        'source',
        source,
        'a SharedMemoryObject, FileMapping, AnonymousSharedMemory, XsiSharedMemory or WindowsSharedMemory',
      )
    }
    const target = source[mapTarget]()
    const opts = parse(optionsSchema, options, target.target)
    const readOnly = opts.readOnly ?? target.readOnly
    if (!readOnly && target.readOnly) {
      throw new ShmError('EREADONLY', `cannot map ${target.target} writable: it was opened read-only`, { target: target.target })
    }
    if (target.size === 0) {
      throw invalidArgument('source', target.target, 'an object whose size is not 0 (truncate it first)', { target: target.target })
    }
    const offset = opts.offset ?? 0
    if (offset >= target.size)
      throw invalidArgument('offset', offset, `an integer from 0 to ${target.size - 1} (the object has ${target.size} bytes)`, {
        target: target.target,
      })
    // No silent clamp to 4 GiB when size is left out: a region that quietly
    // covers only part of the object would look like the whole of it.
    const size = opts.size ?? target.size - offset
    if (size > MAX_VIEW_BYTES && opts.size === undefined) {
      throw invalidArgument(
        'size',
        size,
        `at most ${MAX_VIEW_BYTES} bytes per region: ${target.target} has ${target.size} bytes, map it in windows ({ offset, size })`,
        { target: target.target },
      )
    }
    checkSize(size, 'size', 1, Math.min(target.size - offset, MAX_VIEW_BYTES))
    this.size = size
    this.readOnly = readOnly
    this.offset = offset
    this.target = target.target
    const page = MappedRegion.pageSize
    const pageStart = Math.floor(offset / page) * page
    if (target.kind === 'xsi' && pageStart !== 0) {
      throw invalidArgument(
        'offset',
        offset,
        `an integer from 0 to ${Math.min(page, target.size) - 1}: XSI segments are attached whole, from their first page`,
        { target: target.target },
      )
    }
    const delta = offset - pageStart
    this.#mapping = mapTarget_(target, pageStart, size + delta, readOnly)
    this.#address = this.#mapping.base + BigInt(delta)
    this.#buffer = viewAt(this.#address, size)
    releaseWhenCollected.register(this.#buffer, this.#mapping)
  }

  static get pageSize(): number {
    if (pageSizeCache === undefined) pageSizeCache = process.platform === 'win32' ? 65536 : posix().sysconf(SC_PAGESIZE)
    return pageSizeCache
  }

  /** An ArrayBuffer over the window: reads and writes go to the shared pages. */
  get buffer(): ArrayBuffer {
    if (this.#buffer === undefined) throw closedError(this.target)
    return this.#buffer
  }

  /** The window's address in this process (differs in every process: store offsets, not this). */
  get address(): bigint {
    if (this.#buffer === undefined) throw closedError(this.target)
    return this.#address
  }

  get closed(): boolean {
    return this.#buffer === undefined
  }

  /**
   * Writes dirty pages of `[offset, offset + size)` back to the object
   * (msync): with `{ async: true }` it only schedules the writeback
   * (MS_ASYNC) and returns at once; `flushAsync` waits for it without
   * blocking the event loop.
   */
  flush(offset = 0, size?: number, options?: { async?: boolean }): void {
    const range = this.flushRange(offset, size)
    if (range === undefined) return
    if (this.#mapping.kind === 'windows') {
      if (!kernel32().FlushViewOfFile(range.start, range.length))
        throw windowsError('FlushViewOfFile', kernel32().GetLastError(), this.target)
      return
    }
    if (posix().msync(range.start, range.length, options?.async ? MS_ASYNC : MS_SYNC) !== 0)
      throw osError('msync', posix().errno(), this.target)
  }

  /**
   * Writes dirty pages back like `flush()` and resolves once they are
   * written, running the msync on a worker thread so the event loop is never
   * blocked by the disk.
   */
  async flushAsync(offset = 0, size?: number): Promise<void> {
    const range = this.flushRange(offset, size)
    if (range === undefined) return
    if (this.#mapping.kind === 'windows') return this.flush(offset, size)
    if ((await posix().msyncAsync(range.start, range.length, MS_SYNC)) === 0) return
    // errno belongs to the worker thread: ask again here to learn why; if
    // the retry succeeds the first writeback failed all the same (EIO).
    if (posix().msync(range.start, range.length, MS_SYNC) !== 0) throw osError('msync', posix().errno(), this.target)
    throw osError('msync', constants.errno.EIO, this.target)
  }

  /** The page-aligned range msync takes for `[offset, offset + size)`, or undefined when there is nothing to write. */
  private flushRange(offset: number, size: number | undefined): { start: bigint; length: number } | undefined {
    if (this.#buffer === undefined) throw closedError(this.target)
    checkSize(offset, 'offset', 0, this.size)
    const length = size ?? this.size - offset
    checkSize(length, 'size', 0, this.size - offset)
    if (length === 0 || this.#mapping.kind === 'xsi') return undefined // System V memory has no backing file to write to
    const page = MappedRegion.pageSize
    const start = this.#address + BigInt(offset)
    const alignedStart = (start / BigInt(page)) * BigInt(page)
    return { start: alignedStart, length: Number(start - alignedStart) + length }
  }

  /**
   * Unmaps the object. ArrayBuffers and TypedArrays obtained before stay safe:
   * the range is atomically replaced by private zero pages (mmap MAP_FIXED),
   * so a stale access reads zeros instead of hitting an unmapped page
   * (SIGSEGV). koffi's views cannot be detached (structuredClone with
   * `transfer` leaves them intact in koffi 3.3), so replacement is the only
   * safe way. The replacement is one syscall: a munmap-then-mmap would leave
   * a window in which another thread's mmap could land under the stale view.
   * For XSI memory the replacement is the detach (the kernel drops the
   * attachment as for shmdt), so it covers the whole attachment.
   */
  close(): void {
    if (this.#buffer === undefined) return
    this.#buffer = undefined
    const mapping = this.#mapping
    // Windows cannot replace a view atomically: it stays mapped (and the
    // object alive) until the buffer is collected.
    if (mapping.kind === 'windows') return
    const p = posix()
    // If the replacement fails, the stale views keep the real pages (no
    // crash) and the collection of the buffer releases them.
    p.mmap(mapping.base, mapping.length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close()
  }
}

function mapTarget_(target: MapTarget, pageStart: number, length: number, readOnly: boolean): Mapping {
  if (target.kind === 'windows') return mapWindowsView(target.handle, pageStart, length, readOnly, target.target)
  if (target.kind === 'windows-file') {
    // A file (a mapped file, or the file that emulates a shared memory object,
    // as Boost does): map it through an unnamed file mapping of its handle.
    // The view keeps the mapping alive, so its handle can go at once.
    const k = kernel32()
    const mapping = k.CreateFileMappingW(target.handle, null, readOnly ? PAGE_WRITECOPY : PAGE_READWRITE, 0, 0, null)
    if (mapping === null || mapping === 0n) throw windowsError('CreateFileMappingW', k.GetLastError(), target.target)
    try {
      return mapWindowsView(mapping, pageStart, length, readOnly, target.target)
    } finally {
      k.CloseHandle(mapping)
    }
  }
  const p = posix()
  if (target.kind === 'xsi') {
    // A read-only attach would turn a stray write into SIGSEGV: attach
    // writable when permitted (the API still refuses writes; unlike a file,
    // System V memory has no private copy-on-write mapping), else read-only.
    let base = p.shmat(target.shmid, null, 0)
    if (base === MAP_FAILED && readOnly) base = p.shmat(target.shmid, null, SHM_RDONLY)
    if (base === MAP_FAILED) throw osError('shmat', p.errno(), target.target)
    // The kernel attaches the whole segment, rounded up to pages.
    const page = MappedRegion.pageSize
    return { kind: 'xsi', base, length: Math.ceil(target.size / page) * page }
  }
  // Read-only: a private mapping of a read-only descriptor. Writes are refused
  // by the API; a stray raw write lands in a private copy-on-write page
  // instead of killing the process, and never reaches the shared object.
  const flags = readOnly ? MAP_PRIVATE : MAP_SHARED
  const base = p.mmap(null, length, PROT_READ | PROT_WRITE, flags, target.fd, pageStart)
  if (base === MAP_FAILED) throw osError('mmap', p.errno(), target.target)
  return { kind: 'fd', base, length }
}

/**
 * Read-only views are copy-on-write (FILE_MAP_COPY), the Windows twin of
 * MAP_PRIVATE: a stray write stays in this process instead of faulting.
 */
function mapWindowsView(mapping: bigint, pageStart: number, length: number, readOnly: boolean, target: string): Mapping {
  const k = kernel32()
  const high = Math.floor(pageStart / 2 ** 32)
  const low = pageStart % 2 ** 32
  let base = k.MapViewOfFile(mapping, readOnly ? FILE_MAP_COPY : FILE_MAP_ALL_ACCESS, high, low, length)
  if ((base === null || base === 0n) && readOnly) base = k.MapViewOfFile(mapping, FILE_MAP_READ, high, low, length)
  if (base === null || base === 0n) throw windowsError('MapViewOfFile', k.GetLastError(), target)
  return { kind: 'windows', base, length }
}
