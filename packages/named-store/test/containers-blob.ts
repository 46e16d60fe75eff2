// t.str(), t.bytes() and t.json(): variable-length values stored out of line,
// as named objects, struct fields and array elements; replaced as a whole,
// freed on destroy, refused with typed errors.
import t from 'tap'
import fc from 'fast-check'
import { createSegmentMemory, ManagedHeapMemory, ManagedSharedMemory, t as types } from '@shmkit/named-store'
import { segmentName } from './helpers/segments.js'

const heap = (t: { teardown(fn: () => void): void }, size = 1 << 20): ManagedHeapMemory => {
  const seg = new ManagedHeapMemory(size)
  t.teardown(() => seg.close())
  return seg
}

t.test('t.str(): any length, replaced as a whole, freed on destroy', async (t) => {
  const seg = heap(t)
  const free0 = seg.freeMemory
  const s = seg.construct('greeting', types.str(), 'héllo')
  t.equal(s.value, 'héllo')
  t.equal(s.byteLength, 6)
  const long = 'x'.repeat(100_000)
  s.value = long
  t.equal(seg.find('greeting', types.str())?.value, long, 'another view sees the new value')
  s.value = ''
  t.equal(s.value, '')
  t.equal(s.byteLength, 0)
  s.value = '😀'
  t.same(s.toJSON(), '😀')
  t.ok(seg.destroy('greeting'))
  t.equal(seg.freeMemory, free0, 'destroy frees the out-of-line block too')
  t.ok(seg.allMemoryDeallocated())
  t.ok(seg.checkSanity())
})

t.test('t.bytes() and t.json()', async (t) => {
  const seg = heap(t)
  const b = seg.construct('blob', types.bytes(), new Uint8Array([1, 2, 3]))
  t.same([...b.value], [1, 2, 3])
  b.value = new Uint8Array([9, 8])
  t.same([...b.value], [9, 8])
  const copy = b.value
  copy[0] = 0
  t.same([...b.value], [9, 8], 'a read is a copy')
  t.equal(types.bytes(4).name, 'bytes(4)', 't.bytes(n) is still the fixed kind')
  const j = seg.construct('config', types.json(), { a: [1, 'two', { three: null }], b: true })
  t.same(j.value, { a: [1, 'two', { three: null }], b: true })
  j.value = 42
  t.equal(j.value, 42)
  t.equal(seg.construct('nothing', types.json()).value, null, 'an empty json slot reads null')
  for (const name of ['blob', 'config', 'nothing']) seg.destroy(name)
  t.ok(seg.allMemoryDeallocated())
})

t.test('as struct fields and array elements', async (t) => {
  const seg = heap(t)
  const User = types.struct({ id: types.uint32, name: types.str(), meta: types.json(), avatar: types.bytes() })
  const u = seg.construct('user', User, { id: 7, name: 'Ada', meta: { langs: ['en'] } })
  t.equal(u.name, 'Ada')
  t.same(u.meta, { langs: ['en'] })
  t.same([...u.avatar], [], 'a missing field is empty')
  u.name = 'Ada Lovelace'
  t.equal(seg.find('user', User)?.name, 'Ada Lovelace')
  t.same(User.read((seg as unknown as { mem: never }).mem, u.offset), {
    id: 7,
    name: 'Ada Lovelace',
    meta: { langs: ['en'] },
    avatar: new Uint8Array(0),
  })
  const Outer = types.struct({ inner: User })
  const o = seg.construct('outer', Outer, { inner: { id: 1, name: 'a' } })
  // Replacing a nested struct frees the strings it held.
  const before = seg.freeMemory
  const v = o.inner
  v.name = 'b'
  t.equal(seg.freeMemory, before, 'same-size replacement reuses the space')
  const names = seg.constructArray('names', types.str(), 3, ['x', 'yy', 'zzz'])
  t.same([...names], ['x', 'yy', 'zzz'])
  names.set(1, 'changed')
  t.equal(names.get(1), 'changed')
  for (const name of ['user', 'outer', 'names']) t.ok(seg.destroy(name))
  t.ok(seg.allMemoryDeallocated(), 'every string of every field and element is freed with its object')
  t.ok(seg.checkSanity())
})

t.test('model: any sequence of writes reads back the last, and leaks nothing', async (t) => {
  const seg = heap(t, 4 << 20)
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 300 })), { maxLength: 30 }),
      fc.array(fc.jsonValue(), { maxLength: 10 }),
      (strings, jsons) => {
        const s = seg.construct('s', types.str())
        const j = seg.construct('j', types.json())
        for (const value of strings) {
          s.value = value
          if (s.value !== value) return false
        }
        for (const value of jsons) {
          j.value = value as never
          if (JSON.stringify(j.value) !== JSON.stringify(value)) return false
        }
        seg.destroy('s')
        seg.destroy('j')
        return seg.allMemoryDeallocated() && seg.checkSanity()
      },
    ),
    { numRuns: 60 },
  )
  t.pass('fast-check found no difference')
})

t.test('bad input: EINVAL with the path, ETYPE, ENOMEM with figures and the value unchanged', async (t) => {
  const seg = heap(t, 256 << 10)
  const User = types.struct({ name: types.str(), meta: types.json() })
  t.throws(() => seg.construct('u', User, { name: 5 }), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /^invalid init: name: expected a string, got 5/,
  })
  const cyclic: Record<string, unknown> = {}
  cyclic.self = cyclic
  t.throws(() => seg.construct('u', User, { meta: cyclic }), {
    code: 'EINVAL',
    message: /^invalid init: meta: expected a JSON value, got one JSON.stringify refuses/,
  })
  t.throws(() => seg.construct('u', User, { meta: 10n }), { code: 'EINVAL', message: /meta: expected a JSON value/ })
  t.throws(() => seg.construct('b', types.bytes(), [1, 300]), {
    code: 'EINVAL',
    message: /^invalid init: \[1\]: expected a byte \(0\.\.255\), got 300/,
  })
  t.equal(seg.numNamedObjects, 0, 'nothing was constructed')
  const s = seg.construct('s', types.str(), 'kept')
  t.throws(() => seg.find('s', types.json()), { name: 'ShmError', code: 'ETYPE', message: /"s" in .* is str, not json/ })
  const free = seg.freeMemory
  t.throws(
    () => {
      s.value = 'y'.repeat(1 << 20)
    },
    { name: 'ShmError', code: 'ENOMEM', message: /is full: cannot allocate 1048580 bytes/ },
  )
  t.equal(s.value, 'kept', 'the old value survives a failed write')
  t.equal(seg.freeMemory, free, 'and no byte leaked')
  const bare = createSegmentMemory(new ArrayBuffer(64), { readOnly: false, target: 'bare memory' })
  t.throws(() => (types.str().view(bare, 0).value = 'x'), {
    code: 'EINVAL',
    message: /str keeps its data out of line: it lives only in a managed segment/,
  })
  t.ok(seg.checkSanity())
})

t.test('read-only handles read out-of-line values and refuse writes', async (t) => {
  const name = segmentName(t)
  const seg = ManagedSharedMemory.create(name, 1 << 20)
  t.teardown(() => seg.close())
  seg.construct('s', types.str(), 'shared text')
  const ro = ManagedSharedMemory.open(name, { readOnly: true })
  t.teardown(() => ro.close())
  const view = ro.find('s', types.str())
  t.equal(view?.value, 'shared text')
  t.throws(
    () => {
      if (view) view.value = 'no'
    },
    { name: 'ShmError', code: 'EREADONLY' },
  )
  seg.find('s', types.str())!.value = 'updated'
  t.equal(view?.value, 'updated', 'a read-only view follows the writer')
})
