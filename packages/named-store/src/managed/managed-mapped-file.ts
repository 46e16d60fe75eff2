import { ShmError } from '@shmkit/errors'
import { FileMapping, MappedRegion } from '@shmkit/ffi-shm'
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
import { checkAdoptable } from './adopt-existing.js'

const targetOf = (path: string): string => `file "${path}"`

/** A managed segment in a regular file: it outlives reboots. Boost's `managed_mapped_file`. */
export class ManagedMappedFile extends SegmentManager {
  private constructor(
    readonly path: string,
    backing: SegmentBacking,
    options: { lock?: CreateOptions['lock']; sizeCheck?: CreateOptions['sizeCheck'] },
  ) {
    super(backing, managerOptions(options))
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
      file.truncate(size)
      return new ManagedMappedFile(path, createBacking(file, size, targetOf(path), () => new MappedRegion(file)), opts)
    } catch (e) {
      // Remove what we created, and only that: the path may name something else by now.
      file.close()
      if (file.isAt(path)) FileMapping.remove(path)
      throw e
    }
  }

  static open(path: string, options?: OpenOptions): ManagedMappedFile {
    return ManagedMappedFile.openChecked(path, options)
  }

  /** open, with `check` run on the descriptor before anything is mapped. */
  private static openChecked(path: string, options: OpenOptions | undefined, check?: (fd: number) => void): ManagedMappedFile {
    const opts = parseOptions(openOptionsSchema, options, 'options', targetOf(String(path)))
    checkPath(path)
    const readOnly = opts.readOnly ?? false
    const file = new FileMapping(path, { readOnly })
    try {
      check?.(file.fd)
    } catch (e) {
      file.close()
      throw e
    }
    const backing = openBacking(file, targetOf(path), opts.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS, () => new MappedRegion(file, { readOnly }))
    return new ManagedMappedFile(path, backing, opts)
  }

  static openOrCreate(path: string, size: number, options?: OpenOrCreateOptions): ManagedMappedFile {
    const opts = parseOptions(openOrCreateOptionsSchema, options, 'options', targetOf(String(path)))
    checkSegmentSize(size)
    return openOrCreateWith(
      () => ManagedMappedFile.create(path, size, createPartOf(opts)),
      () => ManagedMappedFile.openChecked(path, reopenOptions(opts), opts.trustExisting ? undefined : (fd) => checkAdoptable(fd, opts.mode ?? 0o600, targetOf(path))),
      targetOf(path),
    )
  }

  static remove(path: string): boolean {
    return FileMapping.remove(path)
  }
}

function checkPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path.length === 0 || path.includes('\0')) {
    throw new ShmError('EINVAL', `invalid path: got ${typeof path === 'string' ? JSON.stringify(path) : typeof path}, expected a non-empty file path`, {
      issues: [{ path: ['path'], message: 'expected a non-empty file path' }],
    })
  }
}
