import { MAX_TYPE_SIZE } from './composites.js'
import { fingerprint, type Type } from './type.js'

/** Types already found sound: the check runs once per type object. */
const sound = new WeakSet<object>()

/**
 * Whether `value` may be handed to a segment as a type: it has a type's
 * methods, and the figures that reach the segment are sane — a size from 1
 * to 4 GiB, a power-of-two alignment, and the fingerprint of its own name (so
 * records written with it are found again by the real type, and a type that
 * lies about its name or size never reaches the segment). A look-alike such
 * as `{ size: -1 }` is refused with EINVAL, not a TypeError from deep inside.
 */
export function isSoundType(value: unknown): value is Type {
  if (value === null || typeof value !== 'object') return false
  if (sound.has(value)) return true
  const type = value as Partial<Type>
  const methods = ['validate', 'store', 'zero', 'read', 'view'] as const
  if (!methods.every((m) => typeof type[m] === 'function')) return false
  const { size, align, name } = type
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1 || size > MAX_TYPE_SIZE) return false
  if (typeof align !== 'number' || !Number.isSafeInteger(align) || align < 1 || align > 4096 || (align & (align - 1)) !== 0) return false
  if (typeof name !== 'string' || name.length === 0) return false
  const fp = fingerprint(name)
  if (type.fingerprintLo !== fp.lo || type.fingerprintHi !== fp.hi) return false
  sound.add(value)
  return true
}
