import { MappedRegion, SharedMemoryObject } from '@shmkit/ffi-shm'
import { SegmentManager, type SegmentBacking } from '../segment-manager.js'
import { createBacking, openBacking, openOrCreateWith } from './mapped-backing.js'
import { growOffline, shrinkOffline } from './offline-resize.js'
import {
  checkSegmentSize,
  createOptionsSchema,
  DEFAULT_OPEN_TIMEOUT_MS,
  createPartOf,
  managerOptions,
  objectSizeFor,
  reopenOptions,
  openOptionsSchema,
  openOrCreateOptionsSchema,
  parseOptions,
  type CreateOptions,
  type OpenOptions,
  type OpenOrCreateOptions,
} from './options.js'
import { checkAdoptable } from './adopt-existing.js'

const targetOf = (name: string): string => `shared memory "${name}"`

/**
 * A managed segment in a POSIX shared memory object (`shm_open("/" + name)`),
 * Boost's `managed_shared_memory`.
 */
export class ManagedSharedMemory extends SegmentManager {
  private constructor(
    readonly name: string,
    backing: SegmentBacking,
    options: Pick<CreateOptions, 'lock' | 'sizeCheck' | 'growBy' | 'read'>,
  ) {
    super(backing, managerOptions(options))
  }

  /** Creates and formats a new segment of `size` bytes; EEXIST if the name is taken. */
  static create(name: string, size: number, options?: CreateOptions): ManagedSharedMemory {
    const opts = parseOptions(createOptionsSchema, options, 'options', targetOf(name))
    checkSegmentSize(size)
    const shm = SharedMemoryObject.create(name, opts.mode === undefined ? {} : { mode: opts.mode })
    try {
      // createBacking sizes the object with its storage reserved, then formats it.
      const objectSize = objectSizeFor(size, opts.maxSize)
      return new ManagedSharedMemory(
        name,
        createBacking(shm, size, targetOf(name), () => new MappedRegion(shm), objectSize),
        opts,
      )
    } catch (e) {
      SharedMemoryObject.remove(name)
      throw e
    }
  }

  /** Opens an existing segment; ENOENT if there is none, ECORRUPT/EVERSION if it is not ours. */
  static open(name: string, options?: OpenOptions): ManagedSharedMemory {
    return ManagedSharedMemory.openChecked(name, options)
  }

  /** open, with `check` run on the descriptor before anything is mapped. */
  private static openChecked(
    name: string,
    options: OpenOptions | undefined,
    check?: (fd: number | undefined) => void,
  ): ManagedSharedMemory {
    const opts = parseOptions(openOptionsSchema, options, 'options', targetOf(name))
    const readOnly = opts.readOnly ?? false
    const shm = SharedMemoryObject.open(name, { readOnly })
    try {
      check?.(shm.descriptor)
    } catch (e) {
      shm.close()
      throw e
    }
    const backing = openBacking(shm, targetOf(name), opts.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS, () => new MappedRegion(shm, { readOnly }))
    return new ManagedSharedMemory(name, backing, opts)
  }

  /** Opens the segment, creating it with `size` bytes if it does not exist yet. */
  static openOrCreate(name: string, size: number, options?: OpenOrCreateOptions): ManagedSharedMemory {
    const opts = parseOptions(openOrCreateOptionsSchema, options, 'options', targetOf(name))
    checkSegmentSize(size)
    return openOrCreateWith(
      () => ManagedSharedMemory.create(name, size, createPartOf(opts)),
      () =>
        ManagedSharedMemory.openChecked(
          name,
          reopenOptions(opts),
          opts.trustExisting ? undefined : (fd) => checkAdoptable(fd, opts.mode ?? 0o600, targetOf(name)),
        ),
      targetOf(name),
    )
  }

  /**
   * Grows the segment by `extraBytes` while no process has it open (Boost's
   * static `grow`): the object is extended with the new bytes reserved
   * (ENOSPC if they do not fit), then the segment takes them in. Returns the
   * new size. To grow a segment others are using, see `grow` on a handle.
   */
  static grow(name: string, extraBytes: number): number {
    return growOffline(
      () => ManagedSharedMemory.open(name),
      () => SharedMemoryObject.open(name),
      extraBytes,
      targetOf(name),
    )
  }

  /**
   * Drops the segment's free tail while no process has it open (Boost's
   * static `shrink_to_fit`): the object is truncated to the new size, which
   * is returned. Processes that still map it would lose those pages under them.
   */
  static shrinkToFit(name: string): number {
    return shrinkOffline(
      () => ManagedSharedMemory.open(name),
      (seg) => seg.shrinkRange(),
      () => SharedMemoryObject.open(name),
    )
  }

  /** Removes the name; processes that have it open keep their mapping. */
  static remove(name: string): boolean {
    return SharedMemoryObject.remove(name)
  }
}
