/** What a record in the index stands for; part of the hash and the key. */
export const RecordKind = {
  NAMED: 1,
  UNIQUE: 2,
  ANONYMOUS: 3,
} as const
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind]

/**
 * FNV-1a over the name's UTF-16 code units, seeded by the record kind. Every
 * process computes it from the JS string, so it never has to be stored by
 * encoding; it is never 0, which marks an empty table slot's hash.
 */
export function hashName(name: string, kind: RecordKind): number {
  let h = (0x811c9dc5 ^ kind) >>> 0
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  // A final avalanche so that names differing in their last character still
  // spread over the low bits the table indexes with.
  h ^= h >>> 15
  h = Math.imul(h, 0x2c1b3c6d)
  h ^= h >>> 12
  return h >>> 0 || 1
}
