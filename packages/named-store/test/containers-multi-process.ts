// Several processes read and write the same map, cache and vector at once:
// readers take no lock and must never see a torn or freed value (counted,
// must be 0); the map ends with exactly what each writer wrote last.
// SHMKIT_SOAK_SECONDS lengthens the run (pnpm soak).
import t from 'tap'
import { ManagedSharedMemory, t as types } from '@shmkit/named-store'
import { runFixture, segmentName } from './helpers/segments.js'

const SECONDS = Number(process.env.SHMKIT_SOAK_SECONDS ?? 3)
const Entry = types.struct({ a: types.float64, b: types.float64, label: types.str() })
const Pair = types.struct({ a: types.float64, b: types.float64 })
const entryOf = (n: number): { a: number; b: number; label: string } => ({ a: n, b: -n, label: `n=${n}`.padEnd(8 + (n % 40), '.') })

t.test(
  `2 writers and 2 lock-free readers on one map, cache and vector for ${SECONDS} s: 0 torn reads`,
  { timeout: 120_000 + SECONDS * 4000 },
  async (t) => {
    const name = segmentName(t)
    const seg = ManagedSharedMemory.create(name, 64 << 20)
    t.teardown(() => seg.close())
    const map = seg.construct('map', types.map(types.str(), Entry))
    const cache = seg.construct('cache', types.map(types.str(), types.json(), { maxEntries: 200 }))
    const vector = seg.construct('vector', types.vector(Pair))
    const roles = ['writer', 'writer', 'reader', 'reader']
    const results = await Promise.all(
      roles.map((role, id) =>
        runFixture('container-child.ts', [role, name, String(id), String(SECONDS)], { timeoutMs: 60_000 + SECONDS * 4000 }),
      ),
    )
    let reads = 0
    let hits = 0
    let torn = 0
    for (const [id, r] of results.entries()) {
      t.equal(r.code, 0, `${roles[id]} ${id} exited cleanly${r.code === 0 ? '' : ': ' + r.stderr.slice(-2000)}`)
      if (r.code !== 0) continue
      const out = JSON.parse(r.stdout) as {
        reads?: number
        hits?: number
        torn?: number
        ops?: number
        last?: Record<string, number | null>
      }
      if (out.last !== undefined) {
        let wrong = 0
        for (const [key, n] of Object.entries(out.last)) {
          const v = map.get(key)
          if (n === null ? v !== undefined : JSON.stringify(v) !== JSON.stringify(entryOf(n))) wrong++
        }
        t.equal(wrong, 0, `writer ${id}: each of its ${Object.keys(out.last).length} keys holds what it wrote last (${out.ops} operations)`)
      } else {
        reads += out.reads ?? 0
        hits += out.hits ?? 0
        torn += out.torn ?? 0
      }
    }
    t.ok(hits > 100, `readers found values (${hits} hits in ${reads} reads)`)
    t.equal(torn, 0, `no reader saw a torn or freed value in ${reads} reads`)
    t.ok(cache.size <= 200, `the cache kept to maxEntries (${cache.size})`)
    t.ok(
      vector.toArray().every((p) => p.a !== undefined && p.b === -p.a),
      'the vector holds only whole elements',
    )
    t.ok(seg.checkSanity(), 'checkSanity holds')
    for (const n of ['map', 'cache', 'vector']) t.ok(seg.destroy(n))
    t.ok(seg.allMemoryDeallocated(), 'destroying the containers frees every byte')
  },
)
