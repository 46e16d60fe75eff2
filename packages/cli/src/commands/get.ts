import { ShmError } from '@shmkit/errors'
import { typeFromName, type SegmentManager, type Type } from '@shmkit/named-store'
import { ExitCode, UsageError } from '../cli-error.js'
import { printJson, type Output } from '../output.js'
import { openForReading } from '../open-for-reading.js'
import { targetDescription, type SegmentTarget } from '../segment-target.js'

/**
 * `shmkit get SEGMENT NAME [KEY]`: the value of a named object, decoded from
 * the type stored with it (read-only handle, lock-free validated reads). With
 * KEY: one entry of a map (string keys as given, integer keys as decimals) or
 * one element of a vector or array (an index).
 */
export function getCommand(target: SegmentTarget, name: string, key: string | undefined, output: Output): ExitCode {
  const segment = openForReading(target)
  try {
    const value = readValue(segment, target, name, key)
    if (output.json) printJson(output, value === undefined ? null : value)
    else output.out(typeof value === 'string' ? `${value}\n` : `${JSON.stringify(value, null, 2) ?? 'undefined'}\n`)
    return value === undefined ? ExitCode.FAILURE : ExitCode.OK
  } finally {
    segment.close()
  }
}

function readValue(segment: SegmentManager, target: SegmentTarget, name: string, key: string | undefined): unknown {
  const info = segment.names().find((o) => o.name === name)
  if (info === undefined)
    throw new ShmError('ENOENT', `${targetDescription(target)} holds no object named "${name}"`, { target: targetDescription(target) })
  const type = typeFromName(info.type)
  const view = segment.find(name, type) as unknown
  if (key === undefined) return toJson(view)
  if (type.kind === 'map') return entryOf(view as { get(k: unknown): unknown }, type, key)
  if (type.kind === 'vector' || type.kind === 'array') {
    const index = Number(key)
    if (!Number.isSafeInteger(index) || index < 0) throw new UsageError(`KEY of ${info.type} must be an index (0, 1, ...), got "${key}"`)
    const v = view as { length: number; get(i: number): unknown }
    if (index >= v.length) throw new ShmError('ENOENT', `"${name}" has ${v.length} elements: no index ${index}`)
    return toJson(v.get(index))
  }
  throw new UsageError(`"${name}" is ${info.type}: a KEY applies to maps, vectors and arrays only`)
}

function entryOf(map: { get(k: unknown): unknown }, type: Type, key: string): unknown {
  const keyType = (type as unknown as { key: Type }).key
  let k: unknown = key
  if (keyType.kind === 'int') k = Number(key)
  else if (keyType.kind === 'bigint') k = /^-?\d+$/.test(key) ? BigInt(key) : key
  else if (keyType.kind === 'varbytes') k = new Uint8Array(Buffer.from(key, 'hex'))
  const value = map.get(k)
  if (value === undefined) throw new ShmError('ENOENT', `no entry "${key}"`)
  return toJson(value)
}

/** A view's own JSON (containers, structs), or the plain value made JSON-safe. */
function toJson(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function')
    return (value as { toJSON(): unknown }).toJSON()
  if (typeof value === 'bigint') return String(value)
  if (value instanceof Uint8Array) return [...value]
  return value
}
