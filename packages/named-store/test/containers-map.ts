// t.map(key, value): every operation against a JS Map (fast-check), key and
// value kinds, cache mode (LRU eviction by entries and bytes, TTL), bad input.
import t from 'tap'
import fc from 'fast-check'
import { ManagedHeapMemory, ManagedSharedMemory, t as types } from '@shmkit/named-store'
import { segmentName } from './helpers/segments.js'

const heap = (t: { teardown(fn: () => void): void }, size = 8 << 20): ManagedHeapMemory => {
  const seg = new ManagedHeapMemory(size)
  t.teardown(() => seg.close())
  return seg
}

type Op<K, V> =
  | { op: 'set'; key: K; value: V }
  | { op: 'get'; key: K }
  | { op: 'has'; key: K }
  | { op: 'delete'; key: K }
  | { op: 'update'; key: K; value: V | undefined }
  | { op: 'getOrSet'; key: K; value: V }
  | { op: 'clear' }

function ops<K, V>(key: fc.Arbitrary<K>, value: fc.Arbitrary<V>): fc.Arbitrary<Op<K, V>[]> {
  return fc.array(
    fc.oneof(
      { weight: 6, arbitrary: fc.record({ op: fc.constant('set' as const), key, value }) },
      { weight: 4, arbitrary: fc.record({ op: fc.constant('get' as const), key }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('has' as const), key }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), key }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('update' as const), key, value: fc.option(value, { nil: undefined }) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('getOrSet' as const), key, value }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
    ),
    { maxLength: 80 },
  )
}

interface AnyMap {
  get(k: unknown): unknown
  has(k: unknown): boolean
  set(k: unknown, v: unknown): unknown
  delete(k: unknown): boolean
  update(k: unknown, fn: (old: unknown) => unknown): unknown
  getOrSet(k: unknown, v: unknown): unknown
  clear(): void
  entries(): [unknown, unknown][]
  size: number
}

function runModel<K, V>(
  seg: ManagedHeapMemory,
  mapType: ReturnType<typeof types.map>,
  key: fc.Arbitrary<K>,
  value: fc.Arbitrary<V>,
  norm: (x: unknown) => string = (x) =>
    JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? [...v] : v)),
): void {
  fc.assert(
    fc.property(ops(key, value), (list) => {
      const m = seg.construct('m', mapType) as unknown as AnyMap
      const model = new Map<string, [unknown, unknown]>()
      const same = (a: unknown, b: unknown): boolean => norm(a) === norm(b)
      for (const op of list) {
        const id = op.op === 'clear' ? '' : norm(op.key)
        switch (op.op) {
          case 'set':
            m.set(op.key, op.value)
            model.set(id, [op.key, op.value])
            break
          case 'get':
            if (!same(m.get(op.key), model.get(id)?.[1])) return false
            break
          case 'has':
            if (m.has(op.key) !== model.has(id)) return false
            break
          case 'delete':
            if (m.delete(op.key) !== model.delete(id)) return false
            break
          case 'update': {
            let seen: unknown = 'not called'
            const out = m.update(op.key, (old) => ((seen = old), op.value))
            if (!same(seen, model.get(id)?.[1]) || !same(out, op.value)) return false
            if (op.value === undefined) model.delete(id)
            else model.set(id, [op.key, op.value])
            break
          }
          case 'getOrSet': {
            const expected = model.has(id) ? model.get(id)?.[1] : op.value
            if (!model.has(id)) model.set(id, [op.key, op.value])
            if (!same(m.getOrSet(op.key, op.value), expected)) return false
            break
          }
          case 'clear':
            m.clear()
            model.clear()
            break
        }
        if (m.size !== model.size) return false
      }
      const entries = m
        .entries()
        .map(([k, v]) => norm([k, v]))
        .sort()
      const expected = [...model.values()].map(([k, v]) => norm([k, v])).sort()
      if (norm(entries) !== norm(expected)) return false
      seg.destroy('m')
      return seg.allMemoryDeallocated() && seg.checkSanity()
    }),
    { numRuns: 60 },
  )
}

const smallKey = fc.constantFrom('a', 'b', 'c', 'key_1', 'key_2', 'é', '😀', '', 'a'.repeat(40))

t.test('model: map(str, float64) behaves as a Map', async (t) => {
  runModel(heap(t), types.map(types.str(), types.float64), fc.oneof(smallKey, fc.string({ maxLength: 12 })), fc.double({ noNaN: true }))
  t.pass()
})

t.test('model: map(int32, str) and map(uint64, json) behave as Maps', async (t) => {
  runModel(heap(t), types.map(types.int32, types.str()), fc.integer({ min: -5, max: 40 }), fc.string({ maxLength: 20 }))
  runModel(heap(t), types.map(types.uint64, types.json()), fc.bigInt({ min: 0n, max: 50n }), fc.jsonValue({ maxDepth: 2 }))
  t.pass()
})

t.test('model: map(bytes, struct) behaves as a Map', async (t) => {
  const Value = types.struct({ n: types.int32, name: types.str() })
  runModel(
    heap(t),
    types.map(types.bytes(), Value),
    fc.uint8Array({ maxLength: 6 }).map((b) => b),
    fc.record({ n: fc.integer({ min: 0, max: 9 }), name: fc.string({ maxLength: 5 }) }),
  )
  t.pass()
})

t.test('many entries: growth, lookups, deletes, and destroy in bounded steps', async (t) => {
  const seg = heap(t, 64 << 20)
  const m = seg.construct('big', types.map(types.str(), types.float64))
  for (let i = 0; i < 20_000; i++) m.set(`key_${i}`, i * 0.5)
  t.equal(m.size, 20_000)
  let wrong = 0
  for (let i = 0; i < 20_000; i++) if (m.get(`key_${i}`) !== i * 0.5) wrong++
  t.equal(wrong, 0)
  for (let i = 0; i < 20_000; i += 2) m.delete(`key_${i}`)
  t.equal(m.size, 10_000)
  t.equal(m.get('key_2'), undefined)
  t.equal(m.get('key_3'), 1.5)
  t.ok(m.stats().capacity >= 16_384)
  t.ok(seg.checkSanity())
  t.ok(seg.destroy('big'))
  t.ok(seg.allMemoryDeallocated(), 'every entry and the table are freed')
})

t.test('a map as a struct field, iteration and JSON', async (t) => {
  const seg = heap(t)
  const Registry = types.struct({ version: types.uint32, workers: types.map(types.str(), types.json()) })
  const r = seg.construct('registry', Registry, { version: 1, workers: [['w1', { pid: 10 }]] })
  r.workers.set('w2', { pid: 11 })
  t.same(r.workers.get('w1'), { pid: 10 })
  t.same(Object.fromEntries(r.workers), { w1: { pid: 10 }, w2: { pid: 11 } })
  t.same(JSON.parse(JSON.stringify(seg.find('registry', Registry))), { version: 1, workers: { w1: { pid: 10 }, w2: { pid: 11 } } })
  t.same(r.workers.keys().sort(), ['w1', 'w2'])
  const byInt = seg.construct(
    'byInt',
    types.map(types.int32, types.float64),
    new Map([
      [1, 1.5],
      [2, 2.5],
    ]),
  )
  t.same(
    new Map(byInt.toJSON() as [number, number][]),
    new Map([
      [1, 1.5],
      [2, 2.5],
    ]),
    'other keys: a list of [key, value] pairs',
  )
  t.ok(seg.destroy('registry'))
  t.ok(seg.destroy('byInt'))
  t.ok(seg.allMemoryDeallocated())
})

t.test('cache: maxEntries evicts the least recently used', async (t) => {
  const seg = heap(t)
  const cache = seg.construct('cache', types.map(types.str(), types.int32, { maxEntries: 3 }))
  cache.set('a', 1).set('b', 2).set('c', 3)
  t.equal(cache.get('a'), 1, 'reading a makes it the most recent')
  cache.set('d', 4)
  t.same(cache.keys().sort(), ['a', 'c', 'd'], 'b was the least recently used')
  cache.set('c', 30)
  cache.set('e', 5)
  t.same(cache.keys().sort(), ['c', 'd', 'e'], 'a, then read, was older than the rewritten c')
  t.equal(cache.stats().evictions, 2)
  t.equal(cache.size, 3)
  // Exact LRU against a model, for a small cache (every read moves the entry).
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 6 })), { maxLength: 60 }), (steps) => {
      const m = seg.construct('lru', types.map(types.int32, types.int32, { maxEntries: 4 }))
      const order: number[] = []
      for (const [write, k] of steps) {
        if (write) {
          m.set(k, k)
          order.splice(order.indexOf(k) >>> 0, order.includes(k) ? 1 : 0)
          order.push(k)
          if (order.length > 4) order.shift()
        } else {
          const got = m.get(k)
          if ((got !== undefined) !== order.includes(k)) return false
          if (got !== undefined) order.splice(order.indexOf(k), 1), order.push(k)
        }
      }
      const ok = JSON.stringify(m.keys().sort()) === JSON.stringify([...order].sort())
      seg.destroy('lru')
      return ok
    }),
    { numRuns: 100 },
  )
  t.ok(seg.destroy('cache'))
  t.ok(seg.allMemoryDeallocated())
})

t.test('cache: maxBytes counts entries and their out-of-line values', async (t) => {
  const seg = heap(t)
  const cache = seg.construct('pages', types.map(types.str(), types.str(), { maxBytes: 4096 }))
  for (let i = 0; i < 50; i++) cache.set(`page-${i}`, 'x'.repeat(500))
  const stats = cache.stats()
  t.ok(stats.bytes <= 4096, `bytes ${stats.bytes} within maxBytes`)
  t.ok(stats.size >= 5 && stats.size < 10, `holds ${stats.size} pages of ~560 bytes`)
  t.equal(cache.get('page-49')?.length, 500, 'the newest is kept')
  t.equal(cache.get('page-0'), undefined, 'the oldest went')
  cache.set('huge', 'y'.repeat(10_000))
  t.equal(cache.get('huge'), undefined, 'a value bigger than the whole budget is not kept')
  t.ok(cache.stats().bytes <= 4096)
  t.ok(seg.destroy('pages'))
  t.ok(seg.allMemoryDeallocated())
})

t.test('cache: per-entry TTL', async (t) => {
  const seg = heap(t)
  const cache = seg.construct('ttl', types.map(types.str(), types.json(), { ttl: 60_000 }))
  // Long enough that a loaded machine still reads it before it expires; the check after waits past it.
  cache.set('short', 'gone soon', { ttl: 2000 })
  cache.set('long', 'stays')
  t.equal(cache.get('short'), 'gone soon')
  await new Promise((resolve) => setTimeout(resolve, 2200))
  t.equal(cache.get('short'), undefined, 'expired entries read as absent')
  t.equal(cache.has('short'), false)
  t.equal(cache.get('long'), 'stays')
  t.same(cache.keys(), ['long'], 'and are skipped by iteration')
  t.equal(cache.size, 2, 'size counts it until it is purged')
  t.equal(cache.purgeExpired(), 1)
  t.equal(cache.size, 1)
  t.equal(cache.getOrSet('short', 'again'), 'again')
  t.throws(() => cache.set('x', 1, { ttl: -1 }), { code: 'EINVAL', message: /invalid options/ })
  t.ok(seg.destroy('ttl'))
  t.ok(seg.allMemoryDeallocated())
})

t.test('update and getOrSet run their callback once, atomically', async (t) => {
  const seg = heap(t)
  const counts = seg.construct('counts', types.map(types.str(), types.uint32))
  for (let i = 0; i < 10; i++) counts.update('hits', (n) => (n ?? 0) + 1)
  t.equal(counts.get('hits'), 10)
  let calls = 0
  t.equal(
    counts.getOrSet('fresh', () => (calls++, 5)),
    5,
  )
  t.equal(
    counts.getOrSet('fresh', () => (calls++, 6)),
    5,
  )
  t.equal(calls, 1)
  t.throws(() => counts.update('hits', () => -1), {
    code: 'EINVAL',
    message: /^invalid value: expected an integer from 0 to 4294967295, got -1/,
  })
  t.equal(counts.get('hits'), 10, 'a refused update changes nothing')
  t.throws(
    () =>
      counts.update('hits', () => {
        throw new Error('callback failed')
      }),
    /callback failed/,
  )
  t.equal(counts.get('hits'), 10)
  t.equal(
    counts.update('hits', () => undefined),
    undefined,
  )
  t.equal(counts.has('hits'), false, 'returning undefined deletes')
})

t.test('bad input: ETYPE, EINVAL with the path, ENOMEM with figures and the map unchanged', async (t) => {
  const seg = heap(t, 512 << 10)
  const m = seg.construct('m', types.map(types.str(), types.float64), [['a', 1]])
  t.throws(() => seg.find('m', types.map(types.str(), types.float32)), {
    name: 'ShmError',
    code: 'ETYPE',
    message: /"m" in .* is map\(str,float64\), not map\(str,float32\)/,
  })
  t.throws(() => m.set(5 as never, 1), { name: 'ShmError', code: 'EINVAL', message: /^invalid key: expected a string key, got 5/ })
  t.throws(() => m.set('b', 'x' as never), { code: 'EINVAL', message: /^invalid value: expected a number, got "x"/ })
  t.throws(
    () =>
      seg.construct('n', types.map(types.str(), types.int8), [
        ['a', 1],
        ['b', 300],
      ]),
    { code: 'EINVAL', message: /^invalid init: \[1\]\[1\]: expected an integer from -128 to 127, got 300/ },
  )
  t.throws(() => types.map(types.float64, types.int32), {
    code: 'EINVAL',
    message: /invalid key: got "float64", expected t\.str\(\), t\.bytes\(\) or an integer type/,
  })
  t.throws(() => types.map(types.str(), types.map(types.str(), types.int32)), { code: 'EINVAL', message: /containers do not nest yet/ })
  t.throws(() => types.map(types.str(), types.int32, { maxEntries: 0 }), { code: 'EINVAL', message: /options/ })
  t.throws(() => types.map(types.str(), types.int32, { bogus: 1 } as never), { code: 'EINVAL' })
  t.throws(() => m.get('x'.repeat(70_000)), { code: 'EINVAL', message: /at most 65535 UTF-8 bytes/ })
  const free = seg.freeMemory
  let filled = 0
  t.throws(
    () => {
      for (; ; filled++) m.set(`key_${filled}`, filled)
    },
    { name: 'ShmError', code: 'ENOMEM', message: /is full: cannot allocate \d+ bytes: \d+ bytes free/ },
  )
  t.equal(m.size, filled + 1, 'the failed set added nothing')
  t.equal(m.get(`key_${filled}`), undefined)
  t.equal(m.get(`key_${filled - 1}`), filled - 1)
  t.ok(seg.checkSanity())
  m.clear()
  m.set('a', 1)
  t.ok(seg.freeMemory < free + 1 && seg.checkSanity())
})

t.test('read-only handles read maps and refuse writes', async (t) => {
  const name = segmentName(t)
  const seg = ManagedSharedMemory.create(name, 1 << 20)
  t.teardown(() => seg.close())
  const m = seg.construct('m', types.map(types.str(), types.str(), { maxEntries: 10 }))
  m.set('k', 'v')
  const ro = ManagedSharedMemory.open(name, { readOnly: true })
  t.teardown(() => ro.close())
  const r = ro.find('m', types.map(types.str(), types.str()))
  t.equal(r?.get('k'), 'v', 'a read-only reader reads (and does not try to move the entry)')
  m.set('k', 'w')
  t.same(r?.entries(), [['k', 'w']])
  t.throws(() => r?.set('a', 'b'), { code: 'EREADONLY' })
  t.throws(() => r?.delete('k'), { code: 'EREADONLY' })
})

t.test('a rolled-back write leaves the container readable without the lock (read-only handles too)', async (t) => {
  // A set that fails mid-write (ENOMEM after it began) is rolled back; the
  // container's generation must end even and new, or every later lock-free
  // read would find it odd: a read-only handle would answer ETIMEDOUT forever.
  const name = segmentName(t)
  const seg = ManagedSharedMemory.create(name, 1 << 20)
  t.teardown(() => seg.close())
  const m = seg.construct('m', types.map(types.str(), types.str()))
  const v = seg.construct('v', types.vector(types.str()))
  m.set('k', 'before')
  v.push('one')
  const ro = ManagedSharedMemory.open(name, { readOnly: true })
  t.teardown(() => ro.close())
  const rm = ro.find('m', types.map(types.str(), types.str()))
  const rv = ro.find('v', types.vector(types.str()))
  t.throws(() => m.set('k', 'x'.repeat(2 << 20)), { code: 'ENOMEM' })
  t.throws(() => v.push('x'.repeat(2 << 20)), { code: 'ENOMEM' })
  const started = performance.now()
  t.equal(rm?.get('k'), 'before', 'the read-only handle reads the value the failed set left')
  t.same(rv?.toArray(), ['one'])
  t.ok(performance.now() - started < 1000, 'without waiting out a writer that is not there')
  // The next write still publishes: the read-only handle sees it.
  m.set('k', 'after')
  v.push('two')
  t.equal(rm?.get('k'), 'after')
  t.same(rv?.toArray(), ['one', 'two'])
})
