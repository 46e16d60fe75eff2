// Caller code never runs inside an operation: init values are copied (getters
// read once, iterables drained once) before the lock is taken.
import t from 'tap'
import { ManagedHeapMemory, ManagedSharedMemory, t as types } from '@shmkit/named-store'
import { segmentName } from './helpers/segments.js'

t.test('a getter that calls back into the segment runs before the operation, not inside it', (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  const free = seg.freeMemory
  let reads = 0
  const init = {
    get x(): number {
      reads++
      seg.construct(`inner${reads}`, types.int32, 1)
      return 5
    },
  }
  const outer = seg.construct('outer', types.struct({ x: types.int32 }), init)
  t.equal(outer.x, 5)
  t.equal(reads, 1, 'the getter was read once')
  t.equal(seg.find('inner1', types.int32)?.value, 1)
  t.ok(seg.checkSanity(), 'nothing half-applied')
  seg.destroy('outer')
  seg.destroy('inner1')
  t.equal(seg.freeMemory, free, 'every byte came back')
  t.ok(seg.allMemoryDeallocated())
  t.end()
})

t.test('one-shot iterables are consumed once and stored', (t) => {
  const name = segmentName(t)
  const seg = ManagedSharedMemory.create(name, 1 << 20)
  t.teardown(() => seg.close())
  function* three(): Generator<number> {
    yield 1
    yield 2
    yield 3
  }
  t.same(seg.construct('arr', types.array(types.int32, 3), three()).typed, [1, 2, 3], 'construct of an array type')
  t.same([...seg.constructArray('carr', types.int32, 3, three())].map(Number), [1, 2, 3], 'constructArray')
  const s = seg.construct('s', types.struct({ a: types.array(types.int32, 3) }), { a: three() })
  t.same(s.a.typed, [1, 2, 3], "a struct's array field")
  s.a = three() as never
  t.same(s.a.typed, [1, 2, 3], 'an array-field setter')
  const nested = seg.construct(
    'n',
    types.array(types.array(types.int32, 2), 2),
    [
      [1, 2],
      [3, 4],
    ].values(),
  )
  t.same(nested.get(1).typed, [3, 4], 'a nested array from an iterator')
  t.throws(() => seg.construct('long', types.array(types.int32, 2), three()), { code: 'EINVAL', message: /at most 2/ })
  t.equal(seg.find('long', types.array(types.int32, 2)), undefined)
  t.end()
})

t.test('an array filled from one value is filled in place', (t) => {
  const seg = new ManagedHeapMemory(16 << 20)
  const a = seg.constructArray('big', types.uint8, 12 << 20, 7)
  t.equal(a.length, 12 << 20)
  t.equal(a.get(0), 7)
  t.equal(a.get((12 << 20) - 1), 7)
  t.equal(a.typed.indexOf(0), -1, 'every element holds the value')
  const s = seg.constructArray('structs', types.struct({ x: types.int16, y: types.float64 }), 1000, { x: 3, y: 0.5 })
  t.same(s.get(999).toJSON(), { x: 3, y: 0.5 })
  t.end()
})

t.test("a segment operation from inside a container's callback is EBUSY, and neither is half-applied", (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  const m = seg.construct('m', types.map(types.str(), types.int32))
  m.set('a', 1)
  const free = seg.freeMemory
  t.throws(
    () =>
      m.update('a', (old) => {
        seg.construct('x', types.int32, 5)
        return (old ?? 0) + 1
      }),
    { name: 'ShmError', code: 'EBUSY', message: /inside another operation/ },
  )
  t.throws(() => m.getOrSet('b', () => seg.allocate(64)), { name: 'ShmError', code: 'EBUSY' })
  t.throws(() => m.update('a', () => seg.close() as never), { name: 'ShmError', code: 'EBUSY' })
  t.equal(m.get('a'), 1, 'the update rolled back')
  t.equal(m.get('b'), undefined)
  t.equal(seg.find('x', types.int32), undefined, 'the nested construct never happened')
  t.equal(seg.freeMemory, free, 'no bytes lost')
  t.ok(seg.checkSanity())
  seg.withLock(() => m.update('a', (old) => (old ?? 0) + 1))
  t.equal(m.get('a'), 2, 'inside withLock a container operation is still fine')
  t.end()
})
