// The name table: a keyed hash (HalfSipHash-1-3, per-segment seed) and
// bounded journaled work per operation (tombstones), whatever the names.
import t, { type Test } from 'tap'
import { ManagedExternalBuffer, ManagedHeapMemory, SegmentHeader, type ShmError, t as types } from '@shmkit/named-store'
import { halfSipHashBytes, hashName, RecordKind } from '../src/index/name-hash.js'

const NAMES = Number(process.env.SHMKIT_NAMES ?? 200_000)

t.test('HalfSipHash matches the reference vectors, and hashName is HalfSipHash-1-3 of kind + UTF-16LE name', async (t) => {
  // vectors_hsip32 of the reference implementation: key 00..07, message 00..(n-1), HalfSipHash-2-4.
  const expected = [0x5b9f35a9, 0xb85a4727, 0x03a662fa, 0x04e7fe8a, 0x89466e2a, 0x69b6fac5, 0x23fc6358, 0xc563cf8b]
  for (const [n, hash] of expected.entries()) {
    t.equal(
      halfSipHashBytes(
        Uint8Array.from({ length: n }, (_, i) => i),
        0x03020100,
        0x07060504,
        2,
        4,
      ),
      hash,
      `vector ${n}`,
    )
  }
  const key = { k0: 0x12345678, k1: 0x9abcdef0 }
  for (const name of ['a', 'ab', 'abc', 'héllo wörld', '名前', 'x'.repeat(1000)]) {
    const bytes = new Uint8Array(4 + name.length * 2)
    const view = new DataView(bytes.buffer)
    view.setUint32(0, RecordKind.NAMED, true)
    for (let i = 0; i < name.length; i++) view.setUint16(4 + 2 * i, name.charCodeAt(i), true)
    t.equal(hashName(name, RecordKind.NAMED, key), halfSipHashBytes(bytes, key.k0, key.k1, 1, 3), `"${name.slice(0, 12)}"`)
  }
  t.not(
    hashName('same', RecordKind.NAMED, key),
    hashName('same', RecordKind.NAMED, { k0: key.k0 ^ 1, k1: key.k1 }),
    'the seed changes the hash',
  )
})

t.test('every segment gets its own random seed', async (t) => {
  const seeds = new Set<string>()
  for (let i = 0; i < 8; i++) {
    const buffer = new ArrayBuffer(1 << 16)
    new ManagedExternalBuffer(buffer).close()
    const u32 = new Uint32Array(buffer)
    seeds.add(`${u32[SegmentHeader.HASH_SEED_LO >> 2]}:${u32[SegmentHeader.HASH_SEED_HI >> 2]}`)
  }
  t.equal(seeds.size, 8)
})

/** The unseeded FNV-1a name hash the table used before (what anyone could aim at). */
function unseededHash(name: string, kind: number): number {
  let h = (0x811c9dc5 ^ kind) >>> 0
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 15
  h = Math.imul(h, 0x2c1b3c6d)
  h ^= h >>> 12
  return h >>> 0 || 1
}

/** `count` names whose hash agrees in the low `bits` bits: one probe run in any table up to 2^bits slots. */
function collidingNames(count: number, bits: number, hash: (name: string) => number): string[] {
  const mask = (1 << bits) - 1
  const out: string[] = []
  for (let i = 0; out.length < count; i++) {
    const name = `user-${i}`
    if ((hash(name) & mask) === 0) out.push(name)
  }
  return out
}

/** Constructs every name, destroys them in three orders, checks the segment after each phase. */
function churn(t: Test, seg: ManagedHeapMemory | ManagedExternalBuffer, names: string[]): void {
  const free = seg.freeMemory
  let failures = 0
  const attempt = (fn: () => unknown, what: string): void => {
    try {
      fn()
    } catch (e) {
      if (failures++ < 3) t.fail(`${what}: ${(e as ShmError).code} ${(e as Error).message}`)
    }
  }
  for (const order of [names, [...names].reverse(), names.filter((_, i) => i % 2 === 0).concat(names.filter((_, i) => i % 2 === 1))]) {
    for (const [i, name] of names.entries()) attempt(() => seg.construct(name, types.int32, i), `construct ${name}`)
    t.equal(seg.numNamedObjects, names.length)
    for (const [i, name] of names.entries()) if (seg.find(name, types.int32)?.value !== i) failures++
    // Destroy from the front of the probe run: backward-shift deletion journaled the whole run each time.
    for (const name of order) attempt(() => t.ok(seg.destroy(name) || failures++ < 0), `destroy ${name}`)
  }
  t.equal(failures, 0, 'every construct, find and destroy succeeded')
  t.same(seg.sanityReport(), { ok: true, problems: [] })
  t.equal(seg.freeMemory, free, 'all memory came back')
}

t.test('700 names colliding under the old unseeded hash: no operation outgrows the undo journal', async (t) => {
  const names = collidingNames(700, 12, (name) => unseededHash(name, RecordKind.NAMED))
  const seg = new ManagedHeapMemory(4 << 20)
  churn(t, seg, names)
})

t.test("700 names colliding under the segment's own seed (an attacker who read it): still bounded", async (t) => {
  const buffer = new ArrayBuffer(4 << 20)
  const seg = new ManagedExternalBuffer(buffer)
  const u32 = new Uint32Array(buffer)
  const key = { k0: u32[SegmentHeader.HASH_SEED_LO >> 2] ?? 0, k1: u32[SegmentHeader.HASH_SEED_HI >> 2] ?? 0 }
  const names = collidingNames(700, 12, (name) => hashName(name, RecordKind.NAMED, key))
  churn(t, seg, names)
})

t.test(
  `${NAMES.toLocaleString('en')} random names: construct, find, destroy half, find, destroy all`,
  { timeout: 1_800_000 },
  async (t) => {
    const seg = new ManagedHeapMemory(Math.max(8 << 20, NAMES * 160))
    const free = seg.freeMemory
    const names = Array.from({ length: NAMES }, () => Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2, 6))
    const unique = [...new Set(names)]
    let wrong = 0
    for (const [i, name] of unique.entries()) seg.construct(name, types.uint32, i)
    for (const [i, name] of unique.entries()) if (seg.find(name, types.uint32)?.value !== i) wrong++
    for (let i = 0; i < unique.length; i += 2) if (!seg.destroy(unique[i] as string)) wrong++
    for (const [i, name] of unique.entries()) if ((seg.find(name, types.uint32) === undefined) !== (i % 2 === 0)) wrong++
    t.equal(wrong, 0, 'every answer right')
    t.equal(seg.numNamedObjects, Math.floor(unique.length / 2))
    t.ok(seg.checkSanity())
    for (let i = 1; i < unique.length; i += 2) seg.destroy(unique[i] as string)
    t.equal(seg.numNamedObjects, 0)
    t.equal(seg.freeMemory, free, 'all memory came back')
  },
)
