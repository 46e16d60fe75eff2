import { MappedRegion, SharedMemoryObject } from '@shmkit/ffi-shm'
import { SegmentManager, type SegmentBacking } from '../segment-manager.js'
import { createBacking, openBacking, openOrCreateWith } from './mapped-backing.js'
import {
  checkSegmentSize,
  createOptionsSchema,
  DEFAULT_OPEN_TIMEOUT_MS,
  createPartOf,
  managerOptions,
  reopenOptions,
  openOptionsSchema,
  openOrCreateOptionsSchema,
  parseOptions,
  type CreateOptions,
  type OpenOptions,
  type OpenOrCreateOptions,
} from './options.js'

const targetOf = (name: string): string => `shared memory "${name}"`

/**
 * A managed segment in a POSIX shared memory object (`shm_open("/" + name)`),
 * Boost's `managed_shared_memory`.
 */
export class ManagedSharedMemory extends SegmentManager {
  private constructor(
    readonly name: string,
    backing: SegmentBacking,
    options: { lock?: CreateOptions['lock']; sizeCheck?: CreateOptions['sizeCheck']; read?: CreateOptions['read'] },
  ) {
    super(backing, managerOptions(options))
  }

  /** Creates and formats a new segment of `size` bytes; EEXIST if the name is taken. */
  static create(name: string, size: number, options?: CreateOptions): ManagedSharedMemory {
    const opts = parseOptions(createOptionsSchema, options, 'options', targetOf(name))
    checkSegmentSize(size)
    const shm = SharedMemoryObject.create(name, opts.mode === undefined ? {} : { mode: opts.mode })
    try {
      shm.truncate(size)
    } catch (e) {
      shm.close()
      SharedMemoryObject.remove(name)
      throw e
    }
    try {
      return new ManagedSharedMemory(name, createBacking(shm, size, targetOf(name), () => new MappedRegion(shm)), opts)
    } catch (e) {
      SharedMemoryObject.remove(name)
      throw e
    }
  }

  /** Opens an existing segment; ENOENT if there is none, ECORRUPT/EVERSION if it is not ours. */
  static open(name: string, options?: OpenOptions): ManagedSharedMemory {
    const opts = parseOptions(openOptionsSchema, options, 'options', targetOf(name))
    const readOnly = opts.readOnly ?? false
    const shm = SharedMemoryObject.open(name, { readOnly })
    const backing = openBacking(shm, targetOf(name), opts.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS, () => new MappedRegion(shm, { readOnly }))
    return new ManagedSharedMemory(name, backing, opts)
  }

  /** Opens the segment, creating it with `size` bytes if it does not exist yet. */
  static openOrCreate(name: string, size: number, options?: OpenOrCreateOptions): ManagedSharedMemory {
    const opts = parseOptions(openOrCreateOptionsSchema, options, 'options', targetOf(name))
    checkSegmentSize(size)
    return openOrCreateWith(
      () => ManagedSharedMemory.create(name, size, createPartOf(opts)),
      () => ManagedSharedMemory.open(name, reopenOptions(opts)),
      targetOf(name),
    )
  }

  /** Removes the name; processes that have it open keep their mapping. */
  static remove(name: string): boolean {
    return SharedMemoryObject.remove(name)
  }
}
