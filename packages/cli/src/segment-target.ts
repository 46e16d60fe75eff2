import { FileMapping, SharedMemoryObject, XsiSharedMemory, type MappableObject } from '@shmkit/ffi-shm'
import { ManagedMappedFile, ManagedSharedMemory, ManagedXsiSharedMemory, type SegmentManager } from '@shmkit/named-store'
import { UsageError } from './cli-error.js'

/** Which segment a command is about: a POSIX name, a mapped file, or an XSI key. */
export type SegmentTarget = { kind: 'posix'; name: string } | { kind: 'file'; path: string } | { kind: 'xsi'; key: number }

export interface TargetOptions {
  file?: string
  xsi?: string
}

/** Exactly one of NAME, --file PATH, --xsi KEY. */
export function resolveTarget(name: string | undefined, options: TargetOptions): SegmentTarget {
  const given = [name !== undefined, options.file !== undefined, options.xsi !== undefined].filter(Boolean).length
  if (given !== 1) throw new UsageError(`give exactly one of a segment NAME, --file PATH or --xsi KEY (got ${given})`)
  if (options.file !== undefined) return { kind: 'file', path: options.file }
  if (options.xsi !== undefined) return { kind: 'xsi', key: parseXsiKey(options.xsi) }
  return { kind: 'posix', name: name as string }
}

/**
 * An XSI key as ipcs prints it (`0x0001e240`) or in decimal, negative keys
 * included (ftok can return them). Anything else is a usage error rather than
 * a key that silently becomes NaN or 0 (IPC_PRIVATE).
 */
export function parseXsiKey(text: string): number {
  const trimmed = text.trim()
  let key: number
  if (/^0x[0-9a-f]{1,8}$/i.test(trimmed)) key = Number.parseInt(trimmed.slice(2), 16)
  else if (/^-?[0-9]{1,10}$/.test(trimmed)) key = Number.parseInt(trimmed, 10)
  else throw new UsageError(`invalid XSI key ${JSON.stringify(text)}: expected 0x followed by up to 8 hex digits, or a decimal integer`)
  if (key < -(2 ** 31) || key >= 2 ** 32) throw new UsageError(`invalid XSI key ${JSON.stringify(text)}: expected a 32-bit value`)
  if (key === 0) throw new UsageError('invalid XSI key 0: that is IPC_PRIVATE, which names no shared segment')
  return key
}

/** How a target is shown in tables: the name, the path, or the key in hex. */
export function targetLabel(target: SegmentTarget): string {
  switch (target.kind) {
    case 'posix':
      return target.name
    case 'file':
      return target.path
    case 'xsi':
      return `0x${(target.key >>> 0).toString(16).padStart(8, '0')}`
  }
}

/** How a target is named in sentences, as the library names it. */
export function targetDescription(target: SegmentTarget): string {
  switch (target.kind) {
    case 'posix':
      return `shared memory "${target.name}"`
    case 'file':
      return `file "${target.path}"`
    case 'xsi':
      return `XSI shared memory key ${targetLabel(target)}`
  }
}

/** The raw object behind a target, opened read-only; the caller closes it. */
export function openRawObject(target: SegmentTarget): MappableObject & { readonly size: number; close(): void } {
  switch (target.kind) {
    case 'posix':
      return SharedMemoryObject.open(target.name, { readOnly: true })
    case 'file':
      return new FileMapping(target.path, { readOnly: true })
    case 'xsi':
      return XsiSharedMemory.open(target.key, { readOnly: true })
  }
}

/** The managed segment behind a target, read-only: the CLI never writes to one. */
export function openManagedReadOnly(target: SegmentTarget, timeoutMs: number): SegmentManager {
  const options = { readOnly: true, timeoutMs }
  switch (target.kind) {
    case 'posix':
      return ManagedSharedMemory.open(target.name, options)
    case 'file':
      return ManagedMappedFile.open(target.path, options)
    case 'xsi':
      return ManagedXsiSharedMemory.open(target.key, options)
  }
}

/** Removes the object behind a target; false if it was already gone. */
export function removeTarget(target: SegmentTarget): boolean {
  switch (target.kind) {
    case 'posix':
      return ManagedSharedMemory.remove(target.name)
    case 'file':
      return ManagedMappedFile.remove(target.path)
    case 'xsi':
      return ManagedXsiSharedMemory.remove(target.key)
  }
}
