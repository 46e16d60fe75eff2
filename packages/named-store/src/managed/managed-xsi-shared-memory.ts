import { invalidArgument, ShmError } from '@shmkit/errors'
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
import { removeXsiOwnerFile, withOwnerFile } from './xsi-owner-file.js'

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

  /** Creates an XSI (System V) segment for `key` with `size` bytes and formats it; EEXIST if the key is taken. */
  static create(key: number, size: number, options?: Omit<CreateOptions, 'mode'> & { mode?: number }): ManagedXsiSharedMemory {
    const opts = parseOptions(createOptionsSchema, options, 'options', targetOf(key))
    checkKey(key)
    checkSegmentSize(size)
    if (opts.maxSize !== undefined && opts.maxSize !== size) {
      throw invalidArgument(
        'options.maxSize',
        opts.maxSize,
        `left out (or ${size}): a System V segment keeps the size shmget gave it, so it cannot grow`,
        { target: targetOf(key) },
      )
    }
    const xsi = XsiSharedMemory.create(key, size, opts.mode === undefined ? {} : { mode: opts.mode })
    try {
      return new ManagedXsiSharedMemory(
        key,
        xsi.shmid,
        createBacking(withOwnerFile(xsi, opts.mode ?? 0o600), size, targetOf(key), () => new MappedRegion(xsi)),
        opts,
      )
    } catch (e) {
      XsiSharedMemory.remove(xsi.shmid)
      removeXsiOwnerFile(xsi.shmid)
      throw e
    }
  }

  /** Opens and validates the XSI segment of `key`; ENOENT if there is none. */
  static open(key: number, options?: OpenOptions): ManagedXsiSharedMemory {
    const opts = parseOptions(openOptionsSchema, options, 'options', targetOf(key))
    const readOnly = opts.readOnly ?? false
    const xsi = XsiSharedMemory.open(key, { readOnly })
    const backing = openBacking(
      withOwnerFile(xsi, 0o600),
      targetOf(key),
      opts.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS,
      () => new MappedRegion(xsi, { readOnly }),
    )
    return new ManagedXsiSharedMemory(key, xsi.shmid, backing, opts)
  }

  /** Opens the XSI segment of `key`, or creates it with `size` bytes. */
  static openOrCreate(key: number, size: number, options?: OpenOrCreateOptions): ManagedXsiSharedMemory {
    const opts = parseOptions(openOrCreateOptionsSchema, options, 'options', targetOf(key))
    checkKey(key)
    checkSegmentSize(size)
    return openOrCreateWith(
      () => ManagedXsiSharedMemory.create(key, size, createPartOf(opts)),
      () => ManagedXsiSharedMemory.open(key, reopenOptions(opts)),
      targetOf(key),
    )
  }

  /** Marks the segment for removal (IPC_RMID); false if no segment has this key. */
  static remove(key: number): boolean {
    checkKey(key)
    let xsi: XsiSharedMemory
    try {
      xsi = XsiSharedMemory.open(key)
    } catch (e) {
      if (e instanceof ShmError && e.code === 'ENOENT') return false
      throw e
    }
    const shmid = xsi.shmid
    xsi.close()
    const removed = XsiSharedMemory.remove(shmid)
    removeXsiOwnerFile(shmid)
    return removed
  }
}

/**
 * Key 0 is IPC_PRIVATE: every create would make a new segment that no key
 * can ever open or remove again — a leak per call. Managed segments need a key.
 */
function checkKey(key: unknown): void {
  if (key === 0)
    throw invalidArgument('key', key, 'a nonzero key from xsiKey(path, id): IPC_PRIVATE (0) segments cannot be opened or removed by key')
}
