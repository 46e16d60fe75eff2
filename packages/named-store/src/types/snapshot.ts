import { ArrayType, BytesType, StructType, type Fields } from './composites.js'
import type { Type } from './type.js'

/**
 * A copy of an init value that validation and storing can both read without
 * touching the caller's objects again: iterables (generators included) are
 * drained once, each getter is read once, byte buffers are copied. Taken
 * before the segment lock, so no caller code runs while an operation holds
 * it — a getter that calls back into the segment runs before, not inside.
 *
 * An array's iterable is drained to at most one item past the array's
 * length, enough for validation to say it is too long: an endless generator
 * stops there.
 */
export function snapshotInit(type: Type, value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (type instanceof StructType) return snapshotStruct(type as StructType<Fields>, value)
  if (type instanceof ArrayType) return snapshotArray(type as ArrayType<Type>, value)
  if (type instanceof BytesType) return copyBytes(value)
  return value
}

function snapshotStruct(type: StructType<Fields>, value: object): unknown {
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return value
  const fields = new Map(type.fields.map((f) => [f.name, f.type]))
  // No prototype: a field named like an Object.prototype member stays a plain own key.
  const out = Object.create(null) as Record<string, unknown>
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key]
    const fieldType = fields.get(key)
    out[key] = fieldType === undefined ? v : snapshotInit(fieldType, v)
  }
  return out
}

function snapshotArray(type: ArrayType<Type>, value: object): unknown {
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return copyBytes(value)
  let items: unknown[]
  if (Array.isArray(value)) {
    // One value of the element type fills every element: keep it whole.
    if (type.element.validate(value, []).length === 0) return snapshotInit(type.element, value)
    items = value.length > type.length ? value.slice(0, type.length + 1) : value.slice()
  } else if (Symbol.iterator in value) {
    items = []
    for (const item of value as Iterable<unknown>) {
      items.push(item)
      if (items.length > type.length) break
    }
  } else {
    return snapshotInit(type.element, value)
  }
  for (let i = 0; i < items.length; i++) items[i] = snapshotInit(type.element, items[i])
  return items
}

function copyBytes(value: object): unknown {
  if (value instanceof ArrayBuffer) return value.slice(0)
  if (ArrayBuffer.isView(value)) return value instanceof DataView ? value : (value as Uint8Array).slice()
  if (Array.isArray(value)) return value.slice()
  return value
}
