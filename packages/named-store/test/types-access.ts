import t from 'tap'
import { createSegmentMemory, refreshSegmentMemory, t as types } from '@shmkit/named-store'

const Item = types.struct({
  id: types.int32,
  name: types.string(8),
  raw: types.bytes(2),
  list: types.array(types.uint16, 2),
  next: types.ptr(types.int32),
})

t.test('a read-only context reads everything and writes nothing (EREADONLY)', async (t) => {
  const buffer = new ArrayBuffer(128)
  const writable = createSegmentMemory(buffer, { readOnly: false, target: 'rw memory' })
  Item.store(writable, 0, { id: 7, name: 'seven', raw: [1, 2], list: [3, 4], next: 64 })
  const mem = createSegmentMemory(buffer, { readOnly: true, target: 'ro memory' })
  const item = Item.view(mem, 0)
  t.same(JSON.parse(JSON.stringify(item)), { id: 7, name: 'seven', raw: [1, 2], list: [3, 4], next: 64 })
  const counter = types.int32.view(mem, 64)
  const wide = types.uint64.view(mem, 72)
  const refused = { name: 'ShmError', code: 'EREADONLY', message: /^ro memory was opened read-only/ }
  const writes: [string, () => unknown][] = [
    ['scalar value', () => (counter.value = 1)],
    ['add', () => counter.add(1)],
    ['compareExchange', () => counter.compareExchange(0, 1)],
    ['64-bit add', () => wide.add(1n)],
    ['64-bit value', () => (wide.value = 1n)],
    ['struct field', () => (item.id = 1)],
    ['string field', () => (item.name = 'x')],
    ['pointer field', () => (item.next = 0)],
    ['nested array set', () => item.list.set(0, 1)],
    ['bytes value', () => (item.raw.value = new Uint8Array(2))],
    ['string view', () => (types.string(8).view(mem, 4).value = 'x')],
    ['bool', () => (types.bool.view(mem, 0).value = true)],
    ['float', () => (types.float64.view(mem, 0).value = 1)],
    ['struct element of an array', () => types.array(Item, 1).view(mem, 0).set(0, {})],
  ]
  for (const [what, write] of writes) t.throws(write, refused, what)
  t.same(JSON.parse(JSON.stringify(item)), { id: 7, name: 'seven', raw: [1, 2], list: [3, 4], next: 64 }, 'nothing changed')
  t.throws(
    () => {
      counter.value = 1.5
    },
    refused,
    'read-only is reported before the value is even looked at',
  )
})

t.test('a closed context refuses reads and writes (ECLOSED)', async (t) => {
  const mem = createSegmentMemory(new ArrayBuffer(128), { readOnly: false, target: 'test memory' })
  const item = Item.view(mem, 0)
  const counter = types.int32.view(mem, 64)
  const array = types.array(types.uint8, 4).view(mem, 80)
  const bytes = types.bytes(4).view(mem, 84)
  const text = types.string(4).view(mem, 88)
  mem.closed = true
  const closed = { name: 'ShmError', code: 'ECLOSED', message: /^test memory is closed$/ }
  const uses: [string, () => unknown][] = [
    ['struct field read', () => item.id],
    ['nested view', () => item.list],
    ['struct field write', () => (item.id = 1)],
    ['toJSON', () => JSON.stringify(item)],
    ['scalar read', () => counter.value],
    ['scalar write', () => (counter.value = 1)],
    ['add', () => counter.add(1)],
    ['compareExchange', () => counter.compareExchange(0, 1)],
    ['array get', () => array.get(0)],
    ['array set', () => array.set(0, 1)],
    ['array .typed', () => array.typed],
    ['array iteration', () => [...array]],
    ['bytes .typed', () => bytes.typed],
    ['bytes .value', () => bytes.value],
    ['string read', () => text.value],
  ]
  for (const [what, use] of uses) t.throws(use, closed, what)
  const ro = createSegmentMemory(new ArrayBuffer(8), { readOnly: true, target: 'ro memory' })
  ro.closed = true
  t.throws(() => (types.int8.view(ro, 0).value = 1), { code: 'ECLOSED' }, 'closed wins over read-only')
})

t.test('refreshSegmentMemory moves every view to the new buffer', async (t) => {
  const mem = createSegmentMemory(new ArrayBuffer(64), { readOnly: false, target: 'test memory' })
  const counter = types.int32.view(mem, 8)
  counter.value = 5
  const bigger = new ArrayBuffer(128)
  new Uint8Array(bigger).set(new Uint8Array(mem.buffer))
  refreshSegmentMemory(mem, bigger)
  t.equal(mem.buffer, bigger)
  t.equal(mem.u32.length, 32)
  t.equal(counter.value, 5, 'an old view reads the new mapping')
  counter.add(1)
  t.equal(new Int32Array(bigger)[2], 6, 'and writes it')
  const odd = createSegmentMemory(new ArrayBuffer(13), { readOnly: false, target: 'odd' })
  t.same([odd.u16.length, odd.u32.length, odd.f64.length, odd.i64.length], [6, 3, 1, 1], 'whole-buffer arrays round down')
  t.throws(() => createSegmentMemory({} as ArrayBuffer, { readOnly: false, target: 'x' }), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /invalid buffer/,
  })
  t.throws(() => createSegmentMemory(new ArrayBuffer(8), { readOnly: 'no' } as never), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /invalid options/,
  })
})
