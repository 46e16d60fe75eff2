import { closeSync, ftruncateSync, openSync, unlinkSync } from 'node:fs'
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

const targetOf = (path: string): string => `file "${path}"`

/** A managed segment in a regular file: it outlives reboots. Boost's `managed_mapped_file`. */
export class ManagedMappedFile extends SegmentManager {
  private constructor(
    readonly path: string,
    backing: SegmentBacking,
    options: { lock?: CreateOptions['lock']; sizeCheck?: CreateOptions['sizeCheck']; read?: CreateOptions['read'] },
  ) {
    super(backing, managerOptions(options))
  }

  /** Creates the file (EEXIST if it exists) with `size` bytes and formats it. */
  static create(path: string, size: number, options?: CreateOptions): ManagedMappedFile {
    const opts = parseOptions(createOptionsSchema, options, 'options', targetOf(String(path)))
    checkPath(path)
    checkSegmentSize(size)
    let fd: number
    try {
      fd = openSync(path, 'wx', opts.mode ?? 0o600)
    } catch (e) {
      throw fsError(e, path, 'open')
    }
    try {
      ftruncateSync(fd, size)
    } catch (e) {
      closeSync(fd)
      unlinkSync(path)
      throw fsError(e, path, 'ftruncate')
    } finally {
      // FileMapping reopens by path; this descriptor only created and sized the file.
    }
    closeSync(fd)
    try {
      const file = new FileMapping(path)
      return new ManagedMappedFile(path, createBacking(file, size, targetOf(path), () => new MappedRegion(file)), opts)
    } catch (e) {
      FileMapping.remove(path)
      throw e
    }
  }

  static open(path: string, options?: OpenOptions): ManagedMappedFile {
    const opts = parseOptions(openOptionsSchema, options, 'options', targetOf(String(path)))
    checkPath(path)
    const readOnly = opts.readOnly ?? false
    const file = new FileMapping(path, { readOnly })
    const backing = openBacking(file, targetOf(path), opts.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS, () => new MappedRegion(file, { readOnly }))
    return new ManagedMappedFile(path, backing, opts)
  }

  static openOrCreate(path: string, size: number, options?: OpenOrCreateOptions): ManagedMappedFile {
    const opts = parseOptions(openOrCreateOptionsSchema, options, 'options', targetOf(String(path)))
    checkSegmentSize(size)
    return openOrCreateWith(
      () => ManagedMappedFile.create(path, size, createPartOf(opts)),
      () => ManagedMappedFile.open(path, reopenOptions(opts)),
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

function fsError(e: unknown, path: string, syscall: string): ShmError {
  const err = e as NodeJS.ErrnoException
  const code = err.code ?? 'EIO'
  return new ShmError(code, `${syscall} ${targetOf(path)} failed: ${err.message}`, {
    target: targetOf(path),
    syscall,
    ...(typeof err.errno === 'number' ? { errno: -Math.abs(err.errno) === err.errno ? -err.errno : err.errno } : {}),
    cause: e,
  })
}
