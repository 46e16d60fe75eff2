import { ManagedExternalBuffer, SegmentHeader, t as types } from '@shmkit/named-store'

export const SEGMENT_BYTES = 128 * 1024
export const P = types.struct({ a: types.int32, b: types.float64, s: types.string(12) })

/** A segment image with objects, holes, raw blocks, an array and an anonymous object. */
export function baseSegment(): ArrayBuffer {
  const buffer = new ArrayBuffer(SEGMENT_BYTES)
  const seg = new ManagedExternalBuffer(buffer)
  for (let i = 0; i < 120; i++) seg.construct(`n${i}`, i % 2 === 0 ? types.int32 : P, i % 2 === 0 ? i : { a: i, b: i / 2, s: `s${i}` })
  seg.constructArray('arr', types.uint16, 50, 3)
  for (let i = 0; i < 120; i += 3) seg.destroy(`n${i}`)
  for (let i = 0; i < 10; i++) seg.allocate(32 + i * 40)
  seg.anonymous(P)
  seg.close()
  return buffer
}

export type Mutation = (u8: Uint8Array, u32: Uint32Array, rand: () => number) => string

/** Ways to corrupt a segment image, anywhere in it: header, journal, allocator, table, records, objects. */
export const mutations: Mutation[] = [
  (u8, _u32, rand) => {
    const n = 1 + (rand() % 16)
    for (let i = 0; i < n; i++) {
      const at = rand() % u8.length
      u8[at] = (u8[at] ?? 0) ^ (1 << (rand() % 8))
    }
    return `${n} bit flips`
  },
  (u8) => {
    u8.fill(0, 0, 128)
    return 'zeroed header'
  },
  (_u8, u32, rand) => {
    u32[rand() % 32] = rand() * 2
    return 'random header word'
  },
  (_u8, u32, rand) => {
    const at = 2048 + (rand() % (u32.length - 2048))
    u32[at] = rand() % 3 === 0 ? 0xffffff00 : rand() % 3 === 0 ? at * 4 : rand() % 200_000
    return 'offset past the end / self-pointer'
  },
  (_u8, u32, rand) => {
    // Point a name-table slot (16 bytes of table header, then [hash, record] pairs) at an arbitrary place.
    const table = u32[SegmentHeader.TABLE_OFFSET >> 2] ?? 0
    const capacity = u32[SegmentHeader.TABLE_CAPACITY >> 2] ?? 0
    if (capacity > 0) u32[((table + 16) >> 2) + (rand() % capacity) * 2 + 1] = (rand() % 60_000) & ~15
    return 'table slot redirected'
  },
  (_u8, u32, rand) => {
    // Copy one word over another: duplicated links make cycles and overlaps.
    const from = 2048 + (rand() % (u32.length - 2048))
    const to = 2048 + (rand() % (u32.length - 2048))
    u32[to] = u32[from] ?? 0
    return 'copied word (cycle/overlap)'
  },
  (_u8, u32, rand) => {
    u32[SegmentHeader.JOURNAL_COUNT >> 2] = 1 + (rand() % 50)
    return 'stale journal entries'
  },
  (_u8, u32, rand) => {
    u32[SegmentHeader.GENERATION >> 2] = rand() | 1
    return 'index generation left odd'
  },
]
