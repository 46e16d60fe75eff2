import { invalidArgument, ShmError, type ShmErrorIssue } from '@shmkit/errors'
import type { SegmentMemory } from './memory.js'

export type Path = (string | number)[]

/**
 * A layout of bytes in a segment, and how to see them from JS. Every type
 * has a canonical `name` (stored with each object, shown by `names()`) and a
 * 64-bit fingerprint of that name, compared on every `find`.
 */
export interface Type<V = unknown, I = unknown> {
  readonly kind: string
  readonly size: number
  readonly align: number
  readonly name: string
  readonly fingerprintLo: number
  readonly fingerprintHi: number
  /** Problems with `value` as an init value of this type, located under `path`. */
  validate(value: unknown, path: Path): ShmErrorIssue[]
  /** Writes a validated value at `offset`. */
  store(mem: SegmentMemory, offset: number, value: unknown): void
  /** The plain JS value at `offset` (a copy). */
  read(mem: SegmentMemory, offset: number): I
  /** A live view of the object at `offset`. */
  view(mem: SegmentMemory, offset: number): V
  /** Phantom: what `init` accepts. */
  readonly __init?: I
}

export type ViewOf<T> = T extends Type<infer V, unknown> ? V : never
export type ValueOf<T> = T extends Type<unknown, infer I> ? I : never

/** FNV-1a 64 of the canonical name, as two 32-bit halves. */
export function fingerprint(name: string): { lo: number; hi: number } {
  let h = 0xcbf29ce484222325n
  for (const byte of new TextEncoder().encode(name)) {
    h ^= BigInt(byte)
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn
  }
  return { lo: Number(h & 0xffffffffn), hi: Number(h >> 32n) }
}

/** Throws EINVAL whose message names each problem by its path, e.g. `invalid init.pos.x: ...`. */
export function validateInit(type: Type, value: unknown, what = 'init'): void {
  const issues = type.validate(value, [what])
  if (issues.length === 0) return
  const listed = issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.')}: ${i.message}`)
    .join('; ')
  throw new ShmError('EINVAL', `invalid ${listed}${issues.length > 5 ? ` (and ${issues.length - 5} more)` : ''}`, { issues })
}

/** EINVAL unless an object of `type` fits at `offset`, aligned, inside the buffer. */
export function assertFits(mem: SegmentMemory, offset: number, type: Type): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset % type.align !== 0 || offset + type.size > mem.u8.byteLength) {
    throw invalidArgument('offset', offset, `a multiple of ${type.align} from 0 to ${mem.u8.byteLength - type.size} for ${type.name}`, { target: mem.target })
  }
}

export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 37) + '...' : value)
  if (typeof value === 'bigint') return `${value}n`
  if (value === null || value === undefined || typeof value !== 'object') return String(value)
  return Array.isArray(value) ? `an array of ${value.length}` : `a ${(value as object).constructor?.name ?? 'object'}`
}
