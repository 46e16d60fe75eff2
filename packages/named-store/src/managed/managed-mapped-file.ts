import { z } from 'zod'
import { ShmError } from '@shmkit/errors'
import { FileMapping, MappedRegion } from '@shmkit/ffi-shm'
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

const targetOf = (path: string): string => `file "${path}"`
const flushOptionsSchema = z.object({ async: z.boolean().optional() }).strict()

/** A managed segment in a regular file: it outlives reboots. Boost's `managed_mapped_file`. */
export class ManagedMappedFile extends SegmentManager {
  readonly #region: MappedRegion

  private constructor(
    readonly path: string,
    backing: SegmentBacking,
    options: Pick<CreateOptions, 'lock' | 'sizeCheck' | 'growBy' | 'read'>,
    region: MappedRegion,
  ) {
    super(backing, managerOptions(options))
    this.#region = region
  }

  /**
   * Writes the segment's modified pages to the file (msync), Boost's
   * `flush()`: when it returns they are on disk. `{ async: true }` only
   * schedules the writeback and returns at once (MS_ASYNC). ECLOSED after close().
   */
  flush(options?: { async?: boolean }): void {
    const { async = false } = parseOptions(flushOptionsSchema, options, 'options', targetOf(this.path))
    this.#region.flush(0, undefined, { async })
  }

  /** Like `flush()`, but the msync runs on a worker thread: the promise resolves once the pages are on disk, and the event loop never waits for the disk. */
  flushAsync(): Promise<void> {
    return this.#region.flushAsync()
  }

  /**
   * Creates the file (EEXIST if it exists) with `size` bytes and formats it,
   * all through the one descriptor that O_EXCL created: the path is never
   * opened again, so a symlink swapped in meanwhile redirects nothing.
   */
  static create(path: string, size: number, options?: CreateOptions): ManagedMappedFile {
    const opts = parseOptions(createOptionsSchema, options, 'options', targetOf(String(path)))
    checkPath(path)
    checkSegmentSize(size)
    const file = FileMapping.create(path, opts.mode === undefined ? {} : { mode: opts.mode })
    try {
      let region: MappedRegion | undefined
      const backing = createBacking(file, size, targetOf(path), () => (region = new MappedRegion(file)), objectSizeFor(size, opts.maxSize))
      return new ManagedMappedFile(path, backing, opts, region as MappedRegion)
    } catch (e) {
      // Remove what we created, and only that: the path may name something else by now.
      file.close()
      if (file.isAt(path)) FileMapping.remove(path)
      throw e
    }
  }

  /** Opens and validates an existing segment file; ENOENT if there is none, ECORRUPT/EVERSION for other bytes. */
  static open(path: string, options?: OpenOptions): ManagedMappedFile {
    return ManagedMappedFile.openChecked(path, options)
  }

  /** open, with `check` run on the descriptor before anything is mapped. */
  private static openChecked(path: string, options: OpenOptions | undefined, check?: (fd: number | undefined) => void): ManagedMappedFile {
    const opts = parseOptions(openOptionsSchema, options, 'options', targetOf(String(path)))
    checkPath(path)
    const readOnly = opts.readOnly ?? false
    const file = new FileMapping(path, { readOnly })
    try {
      check?.(file.descriptor)
    } catch (e) {
      file.close()
      throw e
    }
    let region: MappedRegion | undefined
    const backing = openBacking(
      file,
      targetOf(path),
      opts.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS,
      () => (region = new MappedRegion(file, { readOnly })),
    )
    return new ManagedMappedFile(path, backing, opts, region as MappedRegion)
  }

  /** Opens the segment file, or creates it with `size` bytes if it does not exist. */
  static openOrCreate(path: string, size: number, options?: OpenOrCreateOptions): ManagedMappedFile {
    const opts = parseOptions(openOrCreateOptionsSchema, options, 'options', targetOf(String(path)))
    checkSegmentSize(size)
    return openOrCreateWith(
      () => ManagedMappedFile.create(path, size, createPartOf(opts)),
      () =>
        ManagedMappedFile.openChecked(
          path,
          reopenOptions(opts),
          opts.trustExisting ? undefined : (fd) => checkAdoptable(fd, opts.mode ?? 0o600, targetOf(path)),
        ),
      targetOf(path),
    )
  }

  /**
   * Grows the segment file by `extraBytes` while no process has it open
   * (Boost's static `grow`): the file is extended with the new bytes reserved
   * (ENOSPC if the disk is full), then the segment takes them in. Returns the
   * new size. To grow a segment others are using, see `grow` on a handle.
   */
  static grow(path: string, extraBytes: number): number {
    checkPath(path)
    return growOffline(
      () => ManagedMappedFile.open(path),
      () => new FileMapping(path),
      extraBytes,
      targetOf(path),
    )
  }

  /**
   * Drops the segment's free tail while no process has it open (Boost's
   * static `shrink_to_fit`) and truncates the file to the new size, which is
   * returned. Processes that still map it would lose those pages under them.
   */
  static shrinkToFit(path: string): number {
    checkPath(path)
    return shrinkOffline(
      () => ManagedMappedFile.open(path),
      (seg) => seg.shrinkRange(),
      () => new FileMapping(path),
    )
  }

  /** Deletes the file; false if it did not exist. */
  static remove(path: string): boolean {
    return FileMapping.remove(path)
  }
}

function checkPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) {
    throw new ShmError(
      'EINVAL',
      `invalid path: got ${typeof path === 'string' ? JSON.stringify(path) : typeof path}, expected a non-empty file path`,
      {
        issues: [{ path: ['path'], message: 'expected a non-empty file path' }],
      },
    )
  }
}
