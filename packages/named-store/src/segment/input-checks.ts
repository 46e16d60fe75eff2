import { invalidArgument } from '@shmkit/errors'
import { MAX_NAME_BYTES } from '../index/record.js'
import { isSoundType } from '../types/sound-type.js'
import { snapshotInit, t, validateInit, type Type } from '../types/index.js'

// What the segment manager checks of its arguments before it takes the lock:
// every one of these throws EINVAL (with the argument named) or returns a
// value safe to hand to the segment.

const arrayTypes = new WeakMap<Type, Map<number, Type>>()

/** `t.array(element, count)`, cached per element type (a few recent counts): constructArray and findArray build one per call. */
export function arrayOf<T extends Type>(element: T, count: number): ReturnType<typeof t.array<T>> {
  let byCount = arrayTypes.get(element)
  if (byCount === undefined) {
    byCount = new Map()
    arrayTypes.set(element, byCount)
  }
  let type = byCount.get(count)
  if (type === undefined) {
    if (byCount.size > 64) byCount.clear()
    type = t.array(element, count)
    byCount.set(count, type)
  }
  return type as ReturnType<typeof t.array<T>>
}

/** `init` copied once (see snapshotInit) and validated; undefined stays undefined (zeros). */
export function snapshotValid(type: Type, init: unknown): unknown {
  if (init === undefined) return undefined
  const value = snapshotInit(type, init)
  validateInit(type, value, 'init')
  return value
}

/**
 * For lookups: a name too long to be stored is simply not found, so no
 * encoding is needed. An unpaired UTF-16 surrogate (not well-formed) has no
 * UTF-8 form: encoded, it becomes U+FFFD and two names would be one.
 */
export function checkLookupName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || !name.isWellFormed()) {
    throw invalidArgument('name', name, `a non-empty string of at most ${MAX_NAME_BYTES} UTF-8 bytes (valid Unicode: no lone surrogates)`)
  }
}

/** Validates a name to store; returns its UTF-8 byte length. */
export function checkName(name: unknown): number {
  checkLookupName(name)
  const bytes = utf8Length(name)
  if (bytes > MAX_NAME_BYTES)
    throw invalidArgument('name', name, `a non-empty string of at most ${MAX_NAME_BYTES} UTF-8 bytes (it has ${bytes})`)
  return bytes
}

/** UTF-8 length without encoding: ASCII names (the usual kind) in one pass. */
function utf8Length(name: string): number {
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) >= 0x80) return Buffer.byteLength(name)
  return name.length
}

export function checkType(type: unknown): asserts type is Type {
  if (!isSoundType(type)) throw invalidArgument('type', type, 'a shmkit type such as t.int32 or t.struct({...})')
}
