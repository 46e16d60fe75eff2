import t from 'tap'
import { ManagedSharedMemory, t as types } from '@shmkit/named-store'
import { runFixture, segmentName } from './helpers/segments.js'

t.test('a read-only handle finds and reads everything, and refuses every write', async (t) => {
  const name = segmentName(t)
  const seg = ManagedSharedMemory.create(name, 1 << 20)
  t.teardown(() => seg.close())
  const P = types.struct({ x: types.int32, tag: types.string(8) })
  seg.construct('p', P, { x: 3, tag: 'hi' })
  seg.constructArray('arr', types.int32, 4, [1, 2, 3, 4])
  const ro = ManagedSharedMemory.open(name, { readOnly: true })
  t.teardown(() => ro.close())
  t.equal(ro.readOnly, true)
  const p = ro.find('p', P)
  t.equal(p?.x, 3)
  t.equal(p?.tag, 'hi')
  t.same([...ro.names()].map((n) => n.name).sort(), ['arr', 'p'])
  t.ok(ro.checkSanity())
  const ro_err = { name: 'ShmError', code: 'EREADONLY' }
  t.throws(() => ro.construct('q', types.int32), ro_err)
  t.throws(() => ro.destroy('p'), ro_err)
  t.throws(() => ro.allocate(8), ro_err)
  t.throws(() => ro.withLock(() => 1), ro_err)
  t.throws(() => {
    if (p) p.x = 4
  }, ro_err)
  t.throws(() => ro.find('arr', types.array(types.int32, 4))?.set(0, 9), ro_err)
  seg.find('p', P)!.x = 10
  t.equal(p?.x, 10, 'writes by a writable handle are visible')
})

t.test('a stray write through a read-only .typed array does not crash and does not reach the segment', async (t) => {
  const name = segmentName(t)
  const seg = ManagedSharedMemory.create(name, 1 << 20)
  t.teardown(() => seg.close())
  seg.constructArray('arr', types.int32, 4, 7)
  const r = await runFixture('stray-write.ts', [name])
  t.equal(r.signal, null, 'the child was not killed by a signal')
  t.equal(r.code, 0, r.stderr)
  t.same([...seg.findArray('arr', types.int32)!.typed], [7, 7, 7, 7], 'the shared object is untouched')
})

t.test('.typed on a read-only handle is a copy: a write to it never makes the handle stale', (t) => {
  const name = segmentName(t)
  const seg = ManagedSharedMemory.create(name, 1 << 20)
  const ro = ManagedSharedMemory.open(name, { readOnly: true })
  t.teardown(() => (ro.close(), seg.close()))
  const arr = seg.constructArray('arr', types.int32, 4, 7)
  const view = ro.findArray('arr', types.int32)!
  view.typed[0] = 12345
  t.same([...view.typed], [7, 7, 7, 7], 'the write went to a copy')
  arr.set(0, 1)
  seg.construct('later', types.int32, 5)
  t.same([...ro.findArray('arr', types.int32)!.typed], [1, 7, 7, 7], "the read-only handle still follows the segment's writes")
  t.equal(ro.find('later', types.int32)?.value, 5, 'and finds objects constructed later')
  t.same([...arr.typed], [1, 7, 7, 7], 'the shared object never saw 12345')
  t.end()
})
