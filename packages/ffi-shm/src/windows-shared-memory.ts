import { z } from 'zod'
import { ShmError } from '@shmkit/errors'
import {
  ERROR_ALREADY_EXISTS,
  FILE_MAP_ALL_ACCESS,
  FILE_MAP_READ,
  INVALID_HANDLE_VALUE,
  kernel32,
  PAGE_READWRITE,
} from './bindings/windows.js'
import { closedError, windowsError } from './errors.js'
import { mapTarget, type MapTarget, type MappableObject } from './map-source.js'
import { selectBackend } from './platform.js'
import { checkName, checkSize, parse } from './validate.js'

const openSchema = z.object({ readOnly: z.boolean().optional() }).strict()

/** MEMORY_BASIC_INFORMATION on 64-bit Windows: RegionSize is at byte 24. */
const REGION_SIZE_OFFSET = 24

function describe(name: string): string {
  return `Windows shared memory "${name}"`
}

function requireWindows(name: string): void {
  if (selectBackend() !== 'windows') {
    throw new ShmError('ENOTSUP', `${describe(name)}: native Windows shared memory exists only on Windows (this is ${process.platform})`, {
      hint: 'use SharedMemoryObject, which works everywhere',
    })
  }
}

/**
 * A named, paging-file-backed Windows file mapping: Boost's
 * `windows_shared_memory`. It disappears with its last handle (and its last
 * view). Tested under Wine (`pnpm test:windows`).
 */
export class WindowsSharedMemory implements MappableObject {
  #handle: bigint
  readonly name: string
  readonly readOnly: boolean
  #size: number

  private constructor(name: string, handle: bigint, readOnly: boolean, size: number) {
    this.name = name
    this.#handle = handle
    this.readOnly = readOnly
    this.#size = size
  }

  /** Creates a pagefile-backed mapping named `name` of `size` bytes (kernel32 `CreateFileMappingW`); EEXIST if it exists. */
  static create(name: string, size: number): WindowsSharedMemory {
    checkName(name)
    checkSize(size, 'size', 1)
    requireWindows(name)
    const k = kernel32()
    const handle = k.CreateFileMappingW(INVALID_HANDLE_VALUE, null, PAGE_READWRITE, Math.floor(size / 2 ** 32), size % 2 ** 32, name)
    if (handle === null || handle === 0n) throw windowsError('CreateFileMappingW', k.GetLastError(), describe(name))
    if (k.GetLastError() === ERROR_ALREADY_EXISTS) {
      k.CloseHandle(handle)
      throw new ShmError('EEXIST', `${describe(name)} already exists`, { syscall: 'CreateFileMappingW', target: describe(name) })
    }
    return new WindowsSharedMemory(name, handle, false, size)
  }

  /** Opens the mapping named `name` (`OpenFileMappingW`); ENOENT if there is none. */
  static open(name: string, options?: { readOnly?: boolean }): WindowsSharedMemory {
    checkName(name)
    const { readOnly = false } = parse(openSchema, options, describe(name))
    requireWindows(name)
    const k = kernel32()
    const handle = k.OpenFileMappingW(readOnly ? FILE_MAP_READ : FILE_MAP_ALL_ACCESS, false, name)
    if (handle === null || handle === 0n) {
      const e = windowsError('OpenFileMappingW', k.GetLastError(), describe(name))
      throw e.errno === 2
        ? new ShmError('ENOENT', `${describe(name)} does not exist`, { target: describe(name), errno: 2, syscall: 'OpenFileMappingW' })
        : e
    }
    // The size of an opened mapping: map it whole once and ask for the region's size.
    const view = k.MapViewOfFile(handle, FILE_MAP_READ, 0, 0, 0)
    if (view === null || view === 0n) {
      const error = windowsError('MapViewOfFile', k.GetLastError(), describe(name))
      k.CloseHandle(handle)
      throw error
    }
    const info = new Uint8Array(48)
    k.VirtualQuery(view, info, info.length)
    k.UnmapViewOfFile(view)
    const size = Number(new DataView(info.buffer).getBigUint64(REGION_SIZE_OFFSET, true))
    return new WindowsSharedMemory(name, handle, readOnly, size)
  }

  get size(): number {
    return this.#size
  }

  /** Closes this handle; Windows destroys the mapping with its last handle. */
  close(): void {
    if (this.#handle === 0n) return
    kernel32().CloseHandle(this.#handle)
    this.#handle = 0n
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close()
  }

  /** What `new MappedRegion(this)` maps (an internal protocol between the object kinds and MappedRegion). */
  [mapTarget](): MapTarget {
    if (this.#handle === 0n) throw closedError(describe(this.name))
    return { kind: 'windows', handle: this.#handle, size: this.#size, readOnly: this.readOnly, target: describe(this.name) }
  }
}
