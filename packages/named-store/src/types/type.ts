import { invalidArgument, ShmError, type ShmErrorIssue } from '@shmkit/errors'
import type { SegmentMemory } from './memory.js'

/** Where a value is inside an `init` argument, as in {@link ShmError.issues}. */
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
  /** Writes zeros over the object (what `store` of `undefined` does too). */
  zero(mem: SegmentMemory, offset: number): void
  /** The plain JS value at `offset` (a copy). */
  read(mem: SegmentMemory, offset: number): I
  /** A live view of the object at `offset`. */
  view(mem: SegmentMemory, offset: number): V
  /**
   * True when the object keeps data in other blocks of the segment (`t.str()`,
   * `t.vector`, `t.map`, or a struct/array holding one): writing it allocates,
   * and destroying it must free those blocks.
   */
  readonly ownsHeap?: boolean
  /** Frees the blocks the object keeps out of line (inside a heap operation); its own bytes become garbage. */
  release?(mem: SegmentMemory, offset: number): void
  /** Reads inside a container's validated window: no validation of its own, may throw on torn bytes. */
  readUnchecked?(mem: SegmentMemory, offset: number): I
  /** Bytes the object keeps out of line (a cache's `maxBytes` accounting). */
  heapBytes?(mem: SegmentMemory, offset: number): number
  /** Phantom: what `init` accepts. */
  readonly __init?: I
}

/** What `construct`/`find` return for the type `T`: its live view. */
export type ViewOf<T> = T extends Type<infer V, unknown> ? V : never
/** What `init` (and a view's `value`) takes for the type `T`. */
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

/**
 * What a valid value's `validate` returns: shared, so that the setters on hot
 * paths allocate nothing when the value is fine. Frozen, so a caller that
 * pushed into it would fail loudly instead of poisoning every later check.
 */
export const NO_ISSUES: ShmErrorIssue[] = Object.freeze([]) as unknown as ShmErrorIssue[]
/** The path setters validate under first; the real path is only built for the error. */
export const NO_PATH: Path = Object.freeze([]) as unknown as Path

const MAX_LISTED_ISSUES = 5

/** `pos.x`, `tags[1]`: an issue's place inside the value, without the leading argument name. */
function renderPath(path: Path): string {
  let out = ''
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`
  return out
}

/**
 * The EINVAL for a value `type` refuses, e.g.
 * `invalid init: pos.x: expected an integer from -2147483648 to 2147483647, got 1.5`;
 * `issues` carry full paths starting with `what`.
 */
export function invalidValue(type: Type, value: unknown, what: string): ShmError {
  const issues = type.validate(value, [what])
  const listed = issues.slice(0, MAX_LISTED_ISSUES).map((issue) => {
    const inner = renderPath(issue.path.slice(1))
    return inner === '' ? issue.message : `${inner}: ${issue.message}`
  })
  const more = issues.length > MAX_LISTED_ISSUES ? ` (and ${issues.length - MAX_LISTED_ISSUES} more)` : ''
  return new ShmError('EINVAL', `invalid ${what}: ${listed.join('; ')}${more}`, { issues })
}

/** Throws EINVAL whose message names each problem by its path, e.g. `invalid init: pos.x: ...`. */
export function validateInit(type: Type, value: unknown, what = 'init'): void {
  if (type.validate(value, NO_PATH).length !== 0) throw invalidValue(type, value, what)
}

/** A count or byte length a type constructor takes: EINVAL naming `what` unless an integer in range. */
export function checkCount(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max)
    throw invalidArgument(what, value, `an integer from ${min} to ${max}`)
  return value
}

/** EINVAL unless an object of `type` fits at `offset`, aligned, inside the buffer. */
export function assertFits(mem: SegmentMemory, offset: number, type: Type): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset % type.align !== 0 || offset + type.size > mem.u8.byteLength) {
    throw invalidArgument('offset', offset, `a multiple of ${type.align} from 0 to ${mem.u8.byteLength - type.size} for ${type.name}`, {
      target: mem.target,
    })
  }
}
