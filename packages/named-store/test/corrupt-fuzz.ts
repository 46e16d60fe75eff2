// Thousands of segments with bytes changed at random: every operation ends
// with an answer or a ShmError, never another exception, a crash or a hang.
import t from 'tap'
import { ManagedExternalBuffer, SegmentHeader, ShmError, t as types } from '@shmkit/named-store'

const CASES = Number(process.env.SHMKIT_FUZZ_CASES ?? 3000)
const P = types.struct({ a: types.int32, b: types.float64, s: types.string(12) })

function baseSegment(): ArrayBuffer {
  const buffer = new ArrayBuffer(128 * 1024)
  const seg = new ManagedExternalBuffer(buffer)
  for (let i = 0; i < 120; i++) seg.construct(`n${i}`, i % 2 === 0 ? types.int32 : P, i % 2 === 0 ? i : { a: i, b: i / 2, s: `s${i}` })
  seg.constructArray('arr', types.uint16, 50, 3)
  for (let i = 0; i < 120; i += 3) seg.destroy(`n${i}`)
  for (let i = 0; i < 10; i++) seg.allocate(32 + i * 40)
  seg.anonymous(P)
  seg.close()
  return buffer
}

type Mutation = (u8: Uint8Array, u32: Uint32Array, rand: () => number) => string

const used = 40 * 1024 // where the objects, the table and the allocator metadata live
const mutations: Mutation[] = [
  (u8, _u32, rand) => {
    const n = 1 + (rand() % 16)
    for (let i = 0; i < n; i++) {
      const at = rand() % used
      u8[at] = (u8[at] ?? 0) ^ (1 << rand() % 8)
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
    const at = (8192 + (rand() % (used - 8192))) >> 2
    u32[at] = rand() % 3 === 0 ? 0xffffff00 : rand() % 3 === 0 ? at * 4 : rand() % 200_000
    return 'offset past the end / self-pointer'
  },
  (_u8, u32, rand) => {
    // Point a name-table slot at an arbitrary place.
    const table = u32[SegmentHeader.TABLE_OFFSET >> 2] ?? 0
    const capacity = u32[SegmentHeader.TABLE_CAPACITY >> 2] ?? 0
    if (capacity > 0) u32[(table >> 2) + (rand() % capacity) * 2 + 1] = (rand() % 60_000) & ~15
    return 'table slot redirected'
  },
  (_u8, u32, rand) => {
    // Copy one metadata word over another: duplicated links make cycles and overlaps.
    const from = (8192 + (rand() % (used - 8192))) >> 2
    const to = (8192 + (rand() % (used - 8192))) >> 2
    u32[to] = u32[from] ?? 0
    return 'copied word (cycle/overlap)'
  },
  (_u8, u32, rand) => {
    u32[SegmentHeader.JOURNAL_COUNT >> 2] = 1 + (rand() % 50)
    return 'stale journal entries'
  },
]

t.test(`${CASES} corrupted segments: answers or ShmError, nothing else`, async (t) => {
  const base = baseSegment()
  let seed = 987654321
  const rand = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff)
  const outcomes = new Map<string, number>()
  const bump = (k: string): void => {
    outcomes.set(k, (outcomes.get(k) ?? 0) + 1)
  }
  let foreign = 0
  let slowest = 0
  for (let i = 0; i < CASES; i++) {
    const copy = base.slice(0)
    const mutation = mutations[rand() % mutations.length] as Mutation
    const what = mutation(new Uint8Array(copy), new Uint32Array(copy), rand)
    const t0 = performance.now()
    const step = (label: string, fn: () => unknown): boolean => {
      try {
        fn()
        bump(`${label}: ok`)
        return true
      } catch (e) {
        if (e instanceof ShmError) {
          bump(`${label}: ${e.code}`)
          return e.code !== 'ECORRUPT' && e.code !== 'EVERSION'
        }
        foreign++
        if (foreign <= 5) t.fail(`case ${i} (${what}), ${label}: ${(e as Error)?.stack ?? String(e)}`)
        return false
      }
    }
    let seg: ManagedExternalBuffer | undefined
    if (!step('open', () => (seg = new ManagedExternalBuffer(copy, { lock: { timeoutMs: 200 } })))) continue
    const s = seg as ManagedExternalBuffer
    step('checkSanity', () => s.checkSanity())
    step('find', () => s.find(`n${1 + (rand() % 119)}`, types.int32))
    step('find struct', () => s.find(`n${1 + (rand() % 119)}`, P)?.s)
    step('names', () => [...s.names()].length)
    step('destroy', () => s.destroy(`n${1 + (rand() % 119)}`))
    step('construct', () => s.construct(`fresh${i}`, P, { a: 1, b: 2, s: 'x' }))
    step('allocate', () => s.deallocate(s.allocate(1 + (rand() % 3000))))
    step('stats', () => s.stats())
    slowest = Math.max(slowest, performance.now() - t0)
  }
  t.equal(foreign, 0, 'no exception other than ShmError')
  t.comment(`slowest case: ${slowest.toFixed(1)} ms; outcomes: ${JSON.stringify(Object.fromEntries([...outcomes].sort()))}`)
})
