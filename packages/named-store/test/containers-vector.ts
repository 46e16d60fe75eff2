// t.vector(elem): every operation against a JS array (fast-check), the typed
// view across reallocations, struct and out-of-line elements, bad input.
import t from 'tap'
import fc from 'fast-check'
import { ManagedHeapMemory, ManagedSharedMemory, t as types } from '@shmkit/named-store'
import { segmentName } from './helpers/segments.js'

const heap = (t: { teardown(fn: () => void): void }, size = 4 << 20): ManagedHeapMemory => {
  const seg = new ManagedHeapMemory(size)
  t.teardown(() => seg.close())
  return seg
}

type Op =
  | { op: 'push'; values: number[] }
  | { op: 'pop' }
  | { op: 'set'; index: number; value: number }
  | { op: 'get'; index: number }
  | { op: 'truncate'; length: number }
  | { op: 'clear' }
  | { op: 'reserve'; capacity: number }

const opArb = <V>(value: fc.Arbitrary<V>): fc.Arbitrary<Op> =>
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({ op: fc.constant('push' as const), values: fc.array(value as fc.Arbitrary<never>, { maxLength: 40 }) }),
    },
    fc.record({ op: fc.constant('pop' as const) }),
    { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), index: fc.nat(60), value: value as fc.Arbitrary<never> }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('get' as const), index: fc.nat(60) }) },
    fc.record({ op: fc.constant('truncate' as const), length: fc.nat(60) }),
    fc.record({ op: fc.constant('clear' as const) }),
    fc.record({ op: fc.constant('reserve' as const), capacity: fc.nat(200) }),
  )

function runModel<V>(
  seg: ManagedHeapMemory,
  elem: Parameters<typeof types.vector>[0],
  value: fc.Arbitrary<V>,
  eq: (a: unknown, b: unknown) => boolean,
): void {
  fc.assert(
    fc.property(fc.array(opArb(value), { maxLength: 40 }), (ops) => {
      const v = seg.construct('v', types.vector(elem)) as unknown as {
        push(...x: unknown[]): number
        pop(): unknown
        set(i: number, x: unknown): void
        get(i: number): unknown
        truncate(n: number): void
        clear(): void
        reserve(n: number): void
        toArray(): unknown[]
        length: number
        capacity: number
      }
      const model: unknown[] = []
      for (const op of ops) {
        switch (op.op) {
          case 'push':
            if (v.push(...op.values) !== model.push(...op.values)) return false
            break
          case 'pop':
            if (!eq(v.pop(), model.pop())) return false
            break
          case 'set':
            if (op.index < model.length) {
              v.set(op.index, op.value)
              model[op.index] = op.value
            } else {
              try {
                v.set(op.index, op.value)
                return false
              } catch (e) {
                if ((e as { code?: string }).code !== 'EINVAL') throw e
              }
            }
            break
          case 'get':
            if (!eq(v.get(op.index), model[op.index])) return false
            break
          case 'truncate':
            v.truncate(op.length)
            if (op.length < model.length) model.length = op.length
            break
          case 'clear':
            v.clear()
            model.length = 0
            break
          case 'reserve':
            v.reserve(op.capacity)
            if (v.capacity < op.capacity) return false
            break
        }
        if (v.length !== model.length || v.capacity < v.length) return false
      }
      const all = v.toArray()
      if (all.length !== model.length || !all.every((x, i) => eq(x, model[i]))) return false
      seg.destroy('v')
      return seg.allMemoryDeallocated() && seg.checkSanity()
    }),
    { numRuns: 80 },
  )
}

t.test('model: vector(float64) behaves as an array', async (t) => {
  runModel(heap(t), types.float64, fc.double(), (a, b) => Object.is(a, b))
  t.pass()
})

t.test('model: vector(int32) behaves as an array', async (t) => {
  runModel(heap(t), types.int32, fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (a, b) => a === b)
  t.pass()
})

t.test('model: vector(str()) behaves as an array and frees every string', async (t) => {
  runModel(heap(t, 16 << 20), types.str(), fc.string({ maxLength: 30 }), (a, b) => a === b)
  t.pass()
})

t.test('model: vector(struct with a string) returns copies', async (t) => {
  const Item = types.struct({ id: types.int32, label: types.str() })
  runModel(
    heap(t, 16 << 20),
    Item,
    fc.record({ id: fc.integer({ min: 0, max: 1000 }), label: fc.string({ maxLength: 10 }) }),
    (a, b) => JSON.stringify(a) === JSON.stringify(b),
  )
  t.pass()
})

t.test('typed view: zero-copy, and a view from before a growth keeps its old storage', async (t) => {
  const seg = heap(t)
  const v = seg.construct('samples', types.vector(types.float64), [1, 2, 3])
  const before = v.typed
  t.type(before, Float64Array)
  t.same([...before], [1, 2, 3])
  before[1] = 20
  t.equal(v.get(1), 20, 'zero-copy: a store through .typed is the element')
  const capacity = v.capacity
  const pushed: number[] = []
  for (let i = 0; v.capacity === capacity; i++) pushed.push(i), v.push(100 + i)
  t.ok(v.capacity > capacity, 'the vector grew into new storage')
  v.set(0, -1)
  // Allocate and scribble over as much as we can: the retired storage must not be handed out.
  const filler = seg.constructArray('filler', types.uint8, 64 * 1024, 0xee)
  t.same([...before], [1, 20, 3], 'the old view still reads the values of its time, never reused memory')
  const after = v.typed
  t.equal(after.length, v.length)
  t.equal(after[0], -1)
  t.not(after.byteOffset, before.byteOffset)
  t.ok(filler)
  seg.destroy('filler')
  seg.destroy('samples')
  t.ok(seg.allMemoryDeallocated(), 'retired storage is freed with the vector')
  t.throws(() => seg.construct('s', types.vector(types.str())).typed, { code: 'EINVAL', message: /\.typed needs a numeric element type/ })
})

t.test('a vector as a struct field, iteration and JSON', async (t) => {
  const seg = heap(t)
  const Series = types.struct({ name: types.str(), points: types.vector(types.float64), tags: types.vector(types.str()) })
  const s = seg.construct('series', Series, { name: 'cpu', points: [0.5, 0.25], tags: ['a', 'b'] })
  s.points.push(0.125)
  t.same([...s.points], [0.5, 0.25, 0.125])
  t.same(s.tags.toJSON(), ['a', 'b'])
  t.same(JSON.parse(JSON.stringify(seg.find('series', Series))), { name: 'cpu', points: [0.5, 0.25, 0.125], tags: ['a', 'b'] })
  t.same(seg.find('series', Series)?.points.toArray(), [0.5, 0.25, 0.125])
  const big = seg.construct('big', types.vector(types.int64))
  big.push(1n, 2n ** 62n)
  t.same(big.toJSON(), ['1', String(2n ** 62n)])
  t.ok(seg.destroy('series'))
  t.ok(seg.destroy('big'))
  t.ok(seg.allMemoryDeallocated())
})

t.test('destroying a big vector of strings works in bounded steps', async (t) => {
  const seg = heap(t, 32 << 20)
  const v = seg.construct('many', types.vector(types.str()))
  const values = Array.from({ length: 5000 }, (_, i) => `value-${i}`)
  t.equal(v.push(...values), 5000)
  t.equal(v.get(4999), 'value-4999')
  t.ok(seg.destroy('many'))
  t.ok(seg.allMemoryDeallocated())
  t.ok(seg.checkSanity())
})

t.test('bad input: ETYPE, EINVAL with the path, ENOMEM with figures and the vector unchanged', async (t) => {
  const seg = heap(t, 256 << 10)
  const v = seg.construct('v', types.vector(types.int32), [1, 2])
  t.throws(() => seg.find('v', types.vector(types.float64)), {
    name: 'ShmError',
    code: 'ETYPE',
    message: /"v" in .* is vector\(int32\), not vector\(float64\)/,
  })
  t.throws(() => v.push(3, 1.5), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /^invalid \[1\]: expected an integer from -2147483648 to 2147483647, got 1\.5/,
  })
  t.same(v.toArray(), [1, 2], 'a refused push changes nothing')
  t.throws(() => seg.construct('w', types.vector(types.int32), [1, 'x']), {
    code: 'EINVAL',
    message: /^invalid init: \[1\]: expected an integer/,
  })
  t.throws(() => v.set(2, 5), { code: 'EINVAL', message: /invalid index: got 2, expected an integer from 0 to 1/ })
  t.throws(() => v.get(-1), { code: 'EINVAL', message: /invalid index: got -1/ })
  t.equal(v.get(2), undefined, 'past the end reads undefined, as an array')
  t.throws(() => v.reserve(-1), { code: 'EINVAL', message: /invalid capacity/ })
  t.throws(() => types.vector(types.vector(types.int32)), { code: 'EINVAL', message: /containers do not nest yet/ })
  t.throws(() => types.vector(types.array(types.uint8, 5000)), { code: 'EINVAL', message: /at most 1024 bytes/ })
  t.throws(() => types.vector({} as never), { code: 'EINVAL', message: /invalid element/ })
  const free = seg.freeMemory
  t.throws(() => v.reserve(1_000_000), {
    name: 'ShmError',
    code: 'ENOMEM',
    message: /is full: cannot allocate 4000016 bytes: \d+ bytes free/,
  })
  t.throws(() => v.push(...new Array<number>(100_000).fill(7)), { code: 'ENOMEM' })
  t.same(v.toArray(), [1, 2], 'the vector is unchanged')
  t.equal(seg.freeMemory, free, 'and nothing leaked')
  t.ok(seg.checkSanity())
})

t.test('read-only handles read vectors and refuse writes', async (t) => {
  const name = segmentName(t)
  const seg = ManagedSharedMemory.create(name, 1 << 20)
  t.teardown(() => seg.close())
  const v = seg.construct('v', types.vector(types.float64), [1.5])
  const ro = ManagedSharedMemory.open(name, { readOnly: true })
  t.teardown(() => ro.close())
  const r = ro.find('v', types.vector(types.float64))
  v.push(2.5, 3.5)
  t.same(r?.toArray(), [1.5, 2.5, 3.5])
  t.equal(r?.get(2), 3.5)
  t.throws(() => r?.push(1), { code: 'EREADONLY' })
  t.throws(() => r?.pop(), { code: 'EREADONLY' })
})
