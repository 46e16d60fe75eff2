import t from 'tap'
import { ManagedHeapMemory, ManagedSharedMemory, t as types } from '@shmkit/named-store'
import { segmentName } from './helpers/segments.js'

const Point = types.struct({ x: types.float64, y: types.float64, label: types.string(16) })

t.test('construct, find, destroy on a heap segment', async (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  t.teardown(() => seg.close())
  const free0 = seg.freeMemory
  const counter = seg.construct('counter', types.int32, 7)
  t.equal(counter.value, 7)
  t.equal(seg.numNamedObjects, 1)
  const again = seg.find('counter', types.int32)
  t.ok(again)
  t.equal(again?.value, 7)
  t.equal(again?.offset, counter.offset)
  counter.value = 9
  t.equal(seg.find('counter', types.int32)?.value, 9, 'find sees writes through another view')
  t.equal(seg.find('missing', types.int32), undefined)
  t.ok(seg.freeMemory < free0)
  t.equal(seg.destroy('counter'), true)
  t.equal(seg.destroy('counter'), false, 'a second destroy finds nothing')
  t.equal(seg.find('counter', types.int32), undefined, 'find after destroy (and its cache) misses')
  t.equal(seg.numNamedObjects, 0)
  t.equal(seg.freeMemory, free0, 'destroy gives every byte back')
  t.ok(seg.allMemoryDeallocated())
  t.ok(seg.checkSanity())
})

t.test('structs: fields are live accessors on the shared bytes', async (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  t.teardown(() => seg.close())
  const p = seg.construct('origin', Point, { x: 1.5, y: -2, label: 'héllo' })
  t.equal(p.x, 1.5)
  t.equal(p.y, -2)
  t.equal(p.label, 'héllo')
  p.x = 3
  const q = seg.find('origin', Point)
  t.equal(q?.x, 3)
  t.equal(q?.offset, p.offset)
})

t.test('without init an object is zeroed, even in reused memory', async (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  t.teardown(() => seg.close())
  seg.construct('a', types.float64, 123.25)
  seg.destroy('a')
  const b = seg.construct('b', types.float64)
  t.equal(b.value, 0)
})

t.test('findOrConstruct returns the existing object or builds one', async (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  t.teardown(() => seg.close())
  const a = seg.findOrConstruct('n', types.uint32, 5)
  t.equal(a.value, 5)
  const b = seg.findOrConstruct('n', types.uint32, 99)
  t.equal(b.value, 5, 'the init of a second call is ignored')
  t.equal(b.offset, a.offset)
  t.throws(() => seg.findOrConstruct('n', types.int16), { name: 'ShmError', code: 'ETYPE' })
})

t.test('names() lists every named object with type, count, offset and size', async (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  t.teardown(() => seg.close())
  const a = seg.construct('a', types.int64, 5n)
  const p = seg.construct('p', Point)
  const arr = seg.constructArray('arr', types.uint16, 10, 1)
  seg.anonymous(types.int32, 1)
  seg.unique(types.float32, 2)
  const list = [...seg.names()].sort((x, y) => x.name.localeCompare(y.name))
  t.same(list, [
    { name: 'a', type: 'int64', count: 1, offset: a.offset, byteLength: 8 },
    { name: 'arr', type: 'array(uint16,10)', count: 10, offset: arr.offset, byteLength: 20 },
    { name: 'p', type: Point.name, count: 1, offset: p.offset, byteLength: Point.size },
  ])
  t.equal(seg.numNamedObjects, 3)
  t.equal(seg.numUniqueObjects, 1)
})

t.test('many names: the index grows and shrinks back to nothing', async (t) => {
  const seg = new ManagedHeapMemory(16 << 20)
  t.teardown(() => seg.close())
  const free0 = seg.freeMemory
  const n = 20_000
  for (let i = 0; i < n; i++) seg.construct(`obj_${i}`, types.int32, i)
  t.equal(seg.numNamedObjects, n)
  let wrong = 0
  for (let i = 0; i < n; i++) if (seg.find(`obj_${i}`, types.int32)?.value !== i) wrong++
  t.equal(wrong, 0, 'every name finds its own value')
  t.ok(seg.checkSanity())
  let notDestroyed = 0
  for (let i = 0; i < n; i += 2) if (!seg.destroy(`obj_${i}`)) notDestroyed++
  t.equal(notDestroyed, 0, 'destroy finds every name')
  let lost = 0
  for (let i = 1; i < n; i += 2) if (seg.find(`obj_${i}`, types.int32)?.value !== i) lost++
  t.equal(lost, 0, 'deleting half keeps the other half reachable')
  for (let i = 1; i < n; i += 2) seg.destroy(`obj_${i}`)
  t.equal(seg.numNamedObjects, 0)
  t.equal(seg.freeMemory, free0)
  t.ok(seg.allMemoryDeallocated())
  t.ok(seg.checkSanity())
})

t.test('non-ASCII names round-trip', async (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  t.teardown(() => seg.close())
  seg.construct('zähler-数', types.int32, 1)
  t.equal(seg.find('zähler-数', types.int32)?.value, 1)
  t.equal(seg.find('zahler-数', types.int32), undefined)
  t.equal([...seg.names()][0]?.name, 'zähler-数')
})

t.test("a shared memory segment: a second handle sees the first one's objects", async (t) => {
  const name = segmentName(t)
  const a = ManagedSharedMemory.create(name, 1 << 20)
  t.teardown(() => a.close())
  a.construct('shared', Point, { x: 4, y: 5, label: 'p' })
  const b = ManagedSharedMemory.open(name)
  t.teardown(() => b.close())
  const p = b.find('shared', Point)
  t.equal(p?.x, 4)
  if (p) p.y = 42
  t.equal(a.find('shared', Point)?.y, 42)
  t.equal(b.destroy('shared'), true)
  t.equal(a.find('shared', Point), undefined, 'the first handle sees the destroy')
  t.ok(a.allMemoryDeallocated())
})
