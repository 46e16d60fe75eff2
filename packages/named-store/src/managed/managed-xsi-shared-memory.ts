import { ShmError } from '@shmkit/errors'
import { MappedRegion, XsiSharedMemory } from '@shmkit/ffi-shm'
import { SegmentManager, type SegmentBacking } from '../segment-manager.js'
import { createBacking, openBacking, openOrCreateWith } from './mapped-backing.js'
import {
  checkSegmentSize,
  createOptionsSchema,
  DEFAULT_OPEN_TIMEOUT_MS,
  createPartOf,
  managerOptions,
  openOptionsSchema,
  openOrCreateOptionsSchema,
  parseOptions,
  reopenOptions,
  type CreateOptions,
  type OpenOptions,
  type OpenOrCreateOptions,
} from './options.js'

const targetOf = (key: number): string => `XSI shared memory key 0x${(key >>> 0).toString(16)}`

/** A managed segment in System V shared memory, keyed by `xsiKey(path, id)`. Boost's `managed_xsi_shared_memory`. */
export class ManagedXsiSharedMemory extends SegmentManager {
  private constructor(
    readonly key: number,
    readonly shmid: number,
    backing: SegmentBacking,
    options: { lock?: CreateOptions['lock']; sizeCheck?: CreateOptions['sizeCheck']; read?: CreateOptions['read'] },
  ) {
    super(backing, managerOptions(options))
  }

  static create(key: number, size: number, options?: Omit<CreateOptions, 'mode'> & { mode?: number }): ManagedXsiSharedMemory {
    const opts = parseOptions(createOptionsSchema, options, 'options', targetOf(key))
    checkSegmentSize(size)
    const xsi = XsiSharedMemory.create(key, size, opts.mode === undefined ? {} : { mode: opts.mode })
    try {
      return new ManagedXsiSharedMemory(key, xsi.shmid, createBacking(xsi, size, targetOf(key), () => new MappedRegion(xsi)), opts)
    } catch (e) {
      XsiSharedMemory.remove(xsi.shmid)
      throw e
    }
  }

  static open(key: number, options?: OpenOptions): ManagedXsiSharedMemory {
    const opts = parseOptions(openOptionsSchema, options, 'options', targetOf(key))
    const readOnly = opts.readOnly ?? false
    const xsi = XsiSharedMemory.open(key, { readOnly })
    const backing = openBacking(xsi, targetOf(key), opts.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS, () => new MappedRegion(xsi, { readOnly }))
    return new ManagedXsiSharedMemory(key, xsi.shmid, backing, opts)
  }

  static openOrCreate(key: number, size: number, options?: OpenOrCreateOptions): ManagedXsiSharedMemory {
    const opts = parseOptions(openOrCreateOptionsSchema, options, 'options', targetOf(key))
    checkSegmentSize(size)
    return openOrCreateWith(
      () => ManagedXsiSharedMemory.create(key, size, createPartOf(opts)),
      () => ManagedXsiSharedMemory.open(key, reopenOptions(opts)),
      targetOf(key),
    )
  }

  /** Marks the segment for removal (IPC_RMID); false if no segment has this key. */
  static remove(key: number): boolean {
    let xsi: XsiSharedMemory
    try {
      xsi = XsiSharedMemory.open(key)
    } catch (e) {
      if (e instanceof ShmError && e.code === 'ENOENT') return false
      throw e
    }
    const shmid = xsi.shmid
    xsi.close()
    return XsiSharedMemory.remove(shmid)
  }
}
