/** What a record in the index stands for; part of the hash and the key. */
export const RecordKind = {
  NAMED: 1,
  UNIQUE: 2,
  ANONYMOUS: 3,
} as const
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind]

/** A segment's name-hash key: the header's two seed words. */
export interface HashKey {
  readonly k0: number
  readonly k1: number
}

/**
 * The name table's hash: HalfSipHash-1-3 (Aumasson and Bernstein's SipHash on
 * 32-bit words, the variant Linux uses as `hsiphash` for its hash tables),
 * keyed with the segment's random 64-bit seed. Why this one:
 * - keyed: whoever picks names (user input, say) cannot compute which names
 *   share a table slot without the segment's seed, so they cannot pile names
 *   into one probe run (the unseeded FNV this replaces could be flooded
 *   with names found by brute force in seconds);
 * - 32-bit add/rotate/xor only: JS does those natively, no BigInt and no
 *   64-bit emulation, so a lookup pays tens of nanoseconds, and only on a
 *   find-cache miss (the per-handle cache uses `cacheHash`).
 * The message is the kind as one little-endian word followed by the name's
 * UTF-16LE code units, hashed straight from the JS string (no encoding):
 * exactly HalfSipHash of those bytes, so any language can recompute it.
 */
export function hashName(name: string, kind: RecordKind, key: HashKey): number {
  return halfSipHash13(name, kind, key.k0, key.k1)
}

function halfSipHash13(name: string, kind: number, k0: number, k1: number): number {
  let v0 = k0 | 0
  let v1 = k1 | 0
  let v2 = (0x6c796765 ^ k0) | 0
  let v3 = (0x74656462 ^ k1) | 0
  const units = name.length
  const bytes = 4 + units * 2
  // First word: the kind.
  let m = kind | 0
  v3 ^= m
  // One SipRound (c = 1), inlined.
  v0 = (v0 + v1) | 0
  v1 = (v1 << 5) | (v1 >>> 27)
  v1 ^= v0
  v0 = (v0 << 16) | (v0 >>> 16)
  v2 = (v2 + v3) | 0
  v3 = (v3 << 8) | (v3 >>> 24)
  v3 ^= v2
  v0 = (v0 + v3) | 0
  v3 = (v3 << 7) | (v3 >>> 25)
  v3 ^= v0
  v2 = (v2 + v1) | 0
  v1 = (v1 << 13) | (v1 >>> 19)
  v1 ^= v2
  v2 = (v2 << 16) | (v2 >>> 16)
  v0 ^= m
  let i = 0
  for (; i + 1 < units; i += 2) {
    m = name.charCodeAt(i) | (name.charCodeAt(i + 1) << 16)
    v3 ^= m
    v0 = (v0 + v1) | 0
    v1 = (v1 << 5) | (v1 >>> 27)
    v1 ^= v0
    v0 = (v0 << 16) | (v0 >>> 16)
    v2 = (v2 + v3) | 0
    v3 = (v3 << 8) | (v3 >>> 24)
    v3 ^= v2
    v0 = (v0 + v3) | 0
    v3 = (v3 << 7) | (v3 >>> 25)
    v3 ^= v0
    v2 = (v2 + v1) | 0
    v1 = (v1 << 13) | (v1 >>> 19)
    v1 ^= v2
    v2 = (v2 << 16) | (v2 >>> 16)
    v0 ^= m
  }
  // Last block: the length byte on top, an odd last code unit in the low half.
  const b = ((bytes & 0xff) << 24) | (i < units ? name.charCodeAt(i) : 0)
  v3 ^= b
  v0 = (v0 + v1) | 0
  v1 = (v1 << 5) | (v1 >>> 27)
  v1 ^= v0
  v0 = (v0 << 16) | (v0 >>> 16)
  v2 = (v2 + v3) | 0
  v3 = (v3 << 8) | (v3 >>> 24)
  v3 ^= v2
  v0 = (v0 + v3) | 0
  v3 = (v3 << 7) | (v3 >>> 25)
  v3 ^= v0
  v2 = (v2 + v1) | 0
  v1 = (v1 << 13) | (v1 >>> 19)
  v1 ^= v2
  v2 = (v2 << 16) | (v2 >>> 16)
  v0 ^= b
  v2 ^= 0xff
  for (let r = 0; r < 3; r++) {
    v0 = (v0 + v1) | 0
    v1 = (v1 << 5) | (v1 >>> 27)
    v1 ^= v0
    v0 = (v0 << 16) | (v0 >>> 16)
    v2 = (v2 + v3) | 0
    v3 = (v3 << 8) | (v3 >>> 24)
    v3 ^= v2
    v0 = (v0 + v3) | 0
    v3 = (v3 << 7) | (v3 >>> 25)
    v3 ^= v0
    v2 = (v2 + v1) | 0
    v1 = (v1 << 13) | (v1 >>> 19)
    v1 ^= v2
    v2 = (v2 << 16) | (v2 >>> 16)
  }
  return (v1 ^ v3) >>> 0
}

/**
 * HalfSipHash-c-d with a 32-bit result over bytes, straight from the
 * reference; the tests check it against the published HalfSipHash-2-4 vectors
 * and `hashName` against it.
 */
export function halfSipHashBytes(bytes: Uint8Array, k0: number, k1: number, c: number, d: number): number {
  const v = new Int32Array([k0, k1, 0x6c796765 ^ k0, 0x74656462 ^ k1])
  const round = (): void => {
    let [v0, v1, v2, v3] = v as unknown as [number, number, number, number]
    v0 = (v0 + v1) | 0
    v1 = (v1 << 5) | (v1 >>> 27)
    v1 ^= v0
    v0 = (v0 << 16) | (v0 >>> 16)
    v2 = (v2 + v3) | 0
    v3 = (v3 << 8) | (v3 >>> 24)
    v3 ^= v2
    v0 = (v0 + v3) | 0
    v3 = (v3 << 7) | (v3 >>> 25)
    v3 ^= v0
    v2 = (v2 + v1) | 0
    v1 = (v1 << 13) | (v1 >>> 19)
    v1 ^= v2
    v2 = (v2 << 16) | (v2 >>> 16)
    v.set([v0, v1, v2, v3])
  }
  const whole = bytes.length - (bytes.length % 4)
  const absorb = (m: number): void => {
    v[3] = (v[3] ?? 0) ^ m
    for (let r = 0; r < c; r++) round()
    v[0] = (v[0] ?? 0) ^ m
  }
  for (let i = 0; i < whole; i += 4)
    absorb((bytes[i] ?? 0) | ((bytes[i + 1] ?? 0) << 8) | ((bytes[i + 2] ?? 0) << 16) | ((bytes[i + 3] ?? 0) << 24))
  let b = (bytes.length & 0xff) << 24
  for (let i = whole; i < bytes.length; i++) b |= (bytes[i] ?? 0) << (8 * (i - whole))
  absorb(b)
  v[2] = (v[2] ?? 0) ^ 0xff
  for (let r = 0; r < d; r++) round()
  return ((v[1] ?? 0) ^ (v[3] ?? 0)) >>> 0
}

/**
 * FNV-1a over the name's code units with a final avalanche: the slot of the
 * per-handle find cache. It is local to one handle, so a name chosen to
 * collide there costs that handle a cache miss, nothing more; the segment's
 * table never sees it.
 */
export function cacheHash(name: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 15
  h = Math.imul(h, 0x2c1b3c6d)
  h ^= h >>> 12
  return h >>> 0
}
