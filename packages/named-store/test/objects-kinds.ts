import t from 'tap'
import { ManagedHeapMemory, t as types } from '@shmkit/named-store'

t.test('constructArray: one value into every element, or one per element', async (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  t.teardown(() => seg.close())
  const sevens = seg.constructArray('sevens', types.int32, 5, 7)
  t.equal(sevens.length, 5)
  t.same([...sevens.typed], [7, 7, 7, 7, 7])
  const squares = seg.constructArray('squares', types.uint16, 4, [0, 1, 4, 9])
  t.same([...squares.typed], [0, 1, 4, 9])
  const partial = seg.constructArray('partial', types.float64, 4, new Set([1.5, 2.5]))
  t.same([...partial.typed], [1.5, 2.5, 0, 0], 'a short iterable leaves the rest zeroed')
  t.throws(() => seg.constructArray('long', types.int8, 2, [1, 2, 3]), { name: 'ShmError', code: 'EINVAL' })
  const P = types.struct({ a: types.int8, b: types.float32 })
  const ps = seg.constructArray('ps', P, 3, { a: 1, b: 0.5 })
  t.equal(ps.get(2).a, 1)
  t.equal(ps.get(2).b, 0.5)
  const found = seg.findArray('squares', types.uint16)
  t.equal(found?.length, 4)
  t.equal(found?.get(3), 9)
  t.equal(seg.find('squares', types.array(types.uint16, 4))?.get(2), 4, 'find with the full array type works too')
  t.equal(seg.findArray('nothing', types.uint16), undefined)
})

t.test('unique instances: one per type', async (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  t.teardown(() => seg.close())
  const Config = types.struct({ workers: types.uint8, verbose: types.bool })
  const c = seg.unique(Config, { workers: 4, verbose: true })
  t.equal(seg.findUnique(Config)?.workers, 4)
  t.equal(seg.findUnique(Config)?.offset, c.offset)
  t.throws(() => seg.unique(Config), { name: 'ShmError', code: 'EEXIST' })
  t.equal(seg.find(Config.name, Config), undefined, 'unique instances do not live among the names')
  t.equal(seg.numUniqueObjects, 1)
  t.equal(seg.destroyUnique(Config), true)
  t.equal(seg.destroyUnique(Config), false)
  t.equal(seg.findUnique(Config), undefined)
  t.ok(seg.allMemoryDeallocated())
})

t.test('anonymous objects: reached by offset, freed with destroyPtr', async (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  t.teardown(() => seg.close())
  const Node = types.struct({ value: types.int32, next: types.ptr(types.int32) })
  const tail = seg.anonymous(Node, { value: 2, next: 0 })
  const head = seg.construct('head', Node, { value: 1, next: tail.offset })
  t.equal(seg.numNamedObjects, 1)
  const next = seg.at(head.next, Node)
  t.equal(next.value, 2)
  t.equal(next.next, 0)
  next.value = 5
  t.equal(tail.value, 5)
  seg.destroyPtr(tail)
  t.throws(() => seg.destroyPtr(tail), { name: 'ShmError', code: 'EINVAL' }, 'a second destroyPtr is refused')
  seg.destroyPtr(head.offset)
  t.equal(seg.numNamedObjects, 0, 'destroyPtr of a named object removes its name')
  t.ok(seg.allMemoryDeallocated())
  t.ok(seg.checkSanity())
})

t.test('raw allocate/deallocate; a constructed object cannot be freed raw', async (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  t.teardown(() => seg.close())
  const free0 = seg.freeMemory
  const a = seg.allocate(100)
  const b = seg.allocate(64, { align: 256 })
  t.equal(b % 256, 0)
  seg.at(a, types.bytes(100)).typed.fill(9)
  seg.deallocate(a)
  seg.deallocate(b)
  t.throws(() => seg.deallocate(b), { name: 'ShmError', code: 'EINVAL' }, 'double free is refused')
  t.equal(seg.freeMemory, free0)
  seg.construct('obj', types.int32)
  const record = [...seg.names()][0]
  t.ok(record)
  t.throws(() => seg.deallocate(record!.offset), { name: 'ShmError', code: 'EINVAL' })
})

t.test('withLock runs the callback and nests operations', async (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  t.teardown(() => seg.close())
  const out = seg.withLock((s) => {
    const c = s.construct('c', types.uint32, 1)
    c.add(2)
    return s.find('c', types.uint32)?.value
  })
  t.equal(out, 3)
  t.throws(
    () =>
      seg.withLock(() => {
        seg.construct('d', types.int32)
        throw new Error('boom')
      }),
    /boom/,
  )
  t.ok(seg.find('d', types.int32), 'operations that completed before the throw stay')
  seg.construct('after', types.int32, 1)
  t.equal(seg.find('after', types.int32)?.value, 1, 'the lock was released')
})
