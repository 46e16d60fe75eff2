import { describe, invalidArgument, type ShmErrorIssue } from '@shmkit/errors'
import { ScalarType } from '../types/scalars.js'
import { isType } from '../types/composites.js'
import { NO_ISSUES, type Path, type Type } from '../types/type.js'

/** The longest key, in bytes: keys are compared byte for byte on every probe. */
export const MAX_KEY_BYTES = 65535

/** Every key is encoded here before it is hashed and compared: one buffer, no allocation per lookup. */
export const keyScratch = new Uint8Array(MAX_KEY_BYTES * 3 + 8)
const scratchView = new DataView(keyScratch.buffer)
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** How a map's key type becomes bytes and back. */
export interface KeyCodec<K> {
  readonly name: string
  validate(key: unknown, path: Path): ShmErrorIssue[]
  /** Encodes a validated key into keyScratch; returns its byte length. */
  encode(key: unknown): number
  decode(bytes: Uint8Array): K
}

const strCodec: KeyCodec<string> = {
  name: 'str',
  validate(key, path) {
    if (typeof key !== 'string') return [{ path, message: `expected a string key, got ${describe(key)}` }]
    if (key.length * 3 > MAX_KEY_BYTES && Buffer.byteLength(key) > MAX_KEY_BYTES)
      return [{ path, message: `expected a key of at most ${MAX_KEY_BYTES} UTF-8 bytes, got ${Buffer.byteLength(key)}` }]
    return NO_ISSUES
  },
  encode(key) {
    const s = key as string
    const n = s.length
    // ASCII keys (the usual kind) without the encoder's call overhead.
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) return encoder.encodeInto(s, keyScratch).written
      keyScratch[i] = c
    }
    return n
  },
  decode: (bytes) => decoder.decode(bytes),
}

const bytesCodec: KeyCodec<Uint8Array> = {
  name: 'bytes',
  validate(key, path) {
    if (!(key instanceof Uint8Array)) return [{ path, message: `expected a Uint8Array key, got ${describe(key)}` }]
    if (key.length > MAX_KEY_BYTES) return [{ path, message: `expected a key of at most ${MAX_KEY_BYTES} bytes, got ${key.length}` }]
    return NO_ISSUES
  },
  encode(key) {
    keyScratch.set(key as Uint8Array)
    return (key as Uint8Array).length
  },
  decode: (bytes) => bytes.slice(),
}

function numberCodec(type: ScalarType<unknown, unknown>): KeyCodec<number> {
  return {
    name: type.name,
    validate(key, path) {
      const problem = type.check(key)
      return problem === undefined ? NO_ISSUES : [{ path, message: `expected ${problem}, got ${describe(key)}` }]
    },
    encode(key) {
      scratchView.setFloat64(0, key as number, true)
      return 8
    },
    decode: (bytes) => new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, true),
  }
}

function bigintCodec(type: ScalarType<unknown, unknown>): KeyCodec<bigint> {
  const signed = type.name === 'int64'
  return {
    name: type.name,
    validate(key, path) {
      const problem = type.check(key)
      return problem === undefined ? NO_ISSUES : [{ path, message: `expected ${problem}, got ${describe(key)}` }]
    },
    encode(key) {
      const big = typeof key === 'bigint' ? key : BigInt(key as number)
      if (signed) scratchView.setBigInt64(0, big, true)
      else scratchView.setBigUint64(0, big, true)
      return 8
    },
    decode: (bytes) => {
      const view = new DataView(bytes.buffer, bytes.byteOffset, 8)
      return signed ? view.getBigInt64(0, true) : view.getBigUint64(0, true)
    },
  }
}

/** The codec of a key type: `t.str()`, `t.bytes()` or an integer type; EINVAL for anything else. */
export function keyCodecOf(type: unknown): KeyCodec<unknown> {
  if (isType(type)) {
    if (type.kind === 'str') return strCodec as KeyCodec<unknown>
    if (type.kind === 'varbytes') return bytesCodec as KeyCodec<unknown>
    if (type instanceof ScalarType && type.kind === 'int') return numberCodec(type as ScalarType<unknown, unknown>) as KeyCodec<unknown>
    if (type instanceof ScalarType && type.kind === 'bigint') return bigintCodec(type as ScalarType<unknown, unknown>) as KeyCodec<unknown>
  }
  throw invalidArgument('key', isType(type) ? (type as Type).name : type, 't.str(), t.bytes() or an integer type (t.int8 ... t.uint64)')
}

/** Seeded FNV-1a over the key's bytes, finished with murmur3's mixer: a per-map seed keeps chosen keys from colliding everywhere. */
export function hashKey(length: number, seed: number): number {
  let h = (seed ^ length) | 0
  for (let i = 0; i < length; i++) h = Math.imul(h ^ (keyScratch[i] as number), 0x01000193)
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}
