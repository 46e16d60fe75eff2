import { z } from 'zod'
import { invalidArgument, ShmError } from '@shmkit/errors'
import { IPC_CREAT, IPC_EXCL, IPC_RMID, IPC_STAT, posix } from './bindings/posix.js'
import { osError } from './errors.js'
import { mapTarget, type MapTarget, type MappableObject } from './map-source.js'
import { checkSize, modeSchema, parse } from './validate.js'

/** Offset of shm_segsz in struct shmid_ds on 64-bit Linux (after struct ipc_perm). */
const SHM_SEGSZ_OFFSET = 48
const createSchema = z.object({ mode: modeSchema.optional() }).strict()
const openSchema = z.object({ readOnly: z.boolean().optional() }).strict()

function describe(key: number): string {
  return `XSI shared memory key 0x${(key >>> 0).toString(16)}`
}

function checkKey(key: unknown): number {
  if (typeof key !== 'number' || !Number.isInteger(key) || key < -(2 ** 31) || key >= 2 ** 32) {
    throw invalidArgument('key', key, 'a 32-bit key from xsiKey(path, id), or 0 (IPC_PRIVATE)')
  }
  return key | 0
}

/** A System V IPC key for an existing file and a project id 1..255 (ftok). */
export function xsiKey(path: string, id: number): number {
  if (typeof path !== 'string' || path.length === 0 || path.includes('\0'))
    throw invalidArgument('path', path, 'the path of an existing file')
  if (!Number.isInteger(id) || id < 1 || id > 255) throw invalidArgument('id', id, 'an integer from 1 to 255')
  const key = posix().ftok(path, id)
  if (key === -1) throw osError('ftok', posix().errno(), `"${path}"`)
  return key
}

/** A System V shared memory segment (shmget): Boost's `xsi_shared_memory`. */
export class XsiSharedMemory implements MappableObject {
  readonly key: number
  readonly shmid: number
  readonly readOnly: boolean

  private constructor(key: number, shmid: number, readOnly: boolean) {
    this.key = key
    this.shmid = shmid
    this.readOnly = readOnly
  }

  /** Creates a zero-filled segment of `size` bytes; EEXIST if the key is taken. */
  static create(key: number, size: number, options?: { mode?: number }): XsiSharedMemory {
    const k = checkKey(key)
    checkSize(size, 'size', 1)
    const { mode = 0o600 } = parse(createSchema, options, describe(k))
    const shmid = posix().shmget(k, size, IPC_CREAT | IPC_EXCL | mode)
    if (shmid < 0) throw osError('shmget', posix().errno(), describe(k))
    return new XsiSharedMemory(k, shmid, false)
  }

  /** Opens the segment with this key; ENOENT if there is none. */
  static open(key: number, options?: { readOnly?: boolean }): XsiSharedMemory {
    const k = checkKey(key)
    const { readOnly = false } = parse(openSchema, options, describe(k))
    // shmget(IPC_PRIVATE, 0, 0) would try to create an empty segment: say what is wrong instead.
    if (k === 0) throw invalidArgument('key', key, 'the key of an existing segment: IPC_PRIVATE (0) segments have no key to open them by')
    const shmid = posix().shmget(k, 0, 0)
    if (shmid < 0) throw osError('shmget', posix().errno(), describe(k))
    return new XsiSharedMemory(k, shmid, readOnly)
  }

  /** Marks the segment for removal once every process detached it; false if it is already gone. */
  static remove(shmid: number): boolean {
    if (!Number.isInteger(shmid) || shmid < 0) throw invalidArgument('shmid', shmid, 'a non-negative shmid')
    if (posix().shmctl(shmid, IPC_RMID, null) === 0) return true
    const e = osError('shmctl(IPC_RMID)', posix().errno(), `XSI shmid ${shmid}`)
    if (e.code === 'EINVAL' || e.code === 'EIDRM') return false
    throw e
  }

  get size(): number {
    const info = new Uint8Array(256)
    if (posix().shmctl(this.shmid, IPC_STAT, info) !== 0) throw osError('shmctl(IPC_STAT)', posix().errno(), describe(this.key))
    const size = Number(new DataView(info.buffer).getBigUint64(SHM_SEGSZ_OFFSET, true))
    if (!Number.isSafeInteger(size)) throw new ShmError('EINVAL', `${describe(this.key)} reports a size shmkit cannot map`)
    return size
  }

  /** Nothing to release: an XSI segment is not a descriptor. Kept for symmetry and `using`. */
  close(): void {}

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close()
  }

  /** What `new MappedRegion(this)` maps (an internal protocol between the object kinds and MappedRegion). */
  [mapTarget](): MapTarget {
    return { kind: 'xsi', shmid: this.shmid, size: this.size, readOnly: this.readOnly, target: describe(this.key) }
  }
}
