import t from 'tap'
import { createSegmentMemory, t as types } from '@shmkit/named-store'

const memory = () => createSegmentMemory(new ArrayBuffer(1024), { readOnly: false, target: 'test memory' })

const Inner = types.struct({ n: types.uint16, flag: types.bool })
const Outer = types.struct({
  id: types.int64,
  inner: Inner,
  name: types.string(10),
  raw: types.bytes(4),
  list: types.array(types.float32, 3),
  next: types.ptr(Inner),
})

t.test('fields read and write values; nested structs and arrays are views', async (t) => {
  const mem = memory()
  Outer.store(mem, 64, { id: 5n, inner: { n: 7, flag: true }, name: 'héllo', raw: [1, 2, 3, 4], list: [0.5, 1.5], next: 128 })
  const v = Outer.view(mem, 64)
  t.equal(v.offset, 64)
  t.equal(v.id, 5n)
  t.equal(v.inner.n, 7)
  t.equal(v.inner.flag, true)
  t.equal(v.inner.offset, 64 + Outer.fields[1]!.offset, 'a nested view knows its absolute offset')
  t.equal(v.name, 'héllo')
  t.same([...v.raw.typed], [1, 2, 3, 4])
  t.same([...v.list.typed], [0.5, 1.5, 0], 'elements left out are zero')
  t.equal(v.next, 128)
  v.id = 2n ** 62n
  v.inner.n = 65535
  v.list.set(2, 2.5)
  t.same(Outer.read(mem, 64), {
    id: 2n ** 62n,
    inner: { n: 65535, flag: true },
    name: 'héllo',
    raw: new Uint8Array([1, 2, 3, 4]),
    list: [0.5, 1.5, 2.5],
    next: 128,
  })
})

t.test('assigning a plain value to a struct or array field writes it through', async (t) => {
  const mem = memory()
  const v = Outer.view(mem, 0)
  v.inner = { n: 9 } as unknown as typeof v.inner
  t.equal(v.inner.n, 9)
  t.equal(v.inner.flag, false, 'fields left out are zeroed')
  v.list = [1, 2, 3] as unknown as typeof v.list
  t.same([...v.list], [1, 2, 3])
  v.list = 4 as unknown as typeof v.list
  t.same([...v.list], [4, 4, 4], 'one value fills the array')
  v.raw = new Uint8Array([9]) as unknown as typeof v.raw
  t.same([...v.raw.typed], [9, 0, 0, 0])
  t.throws(
    () => {
      v.inner = { n: -1 } as unknown as typeof v.inner
    },
    { name: 'ShmError', code: 'EINVAL', message: /^invalid inner: n: expected an integer from 0 to 65535, got -1$/ },
  )
  t.throws(
    () => {
      v.inner = { bogus: 1 } as unknown as typeof v.inner
    },
    { name: 'ShmError', code: 'EINVAL', message: /^invalid inner: bogus: unknown field \(the fields are n, flag\)$/ },
  )
  t.equal(v.inner.n, 9, 'a refused value leaves the field as it was')
})

t.test('pointer fields hold offsets and take views', async (t) => {
  const mem = memory()
  const a = Outer.view(mem, 0)
  const b = Outer.view(mem, Outer.size)
  a.next = b.inner as unknown as number
  t.equal(a.next, b.inner.offset, 'a view is stored as its offset')
  t.equal(Inner.view(mem, a.next).n, b.inner.n, 'dereferenced by offset')
  a.next = 0
  t.equal(a.next, 0, 'null')
  t.throws(
    () => {
      a.next = -4
    },
    {
      name: 'ShmError',
      code: 'EINVAL',
      message: /^invalid next: expected an offset \(an integer from 0 to 4294967295\) or a view, got -4$/,
    },
  )
})

t.test('one view class per struct type: accessors on the prototype, none on the instance', async (t) => {
  const mem = memory()
  const first = Outer.view(mem, 0)
  const second = Outer.view(mem, Outer.size)
  t.equal(Object.getPrototypeOf(first), Object.getPrototypeOf(second))
  t.same(Object.keys(first).sort(), ['mem', 'offset'], 'an instance holds only its context and offset')
  t.ok(Object.getOwnPropertyDescriptor(Object.getPrototypeOf(first), 'id')?.get, 'fields are prototype accessors')
  const Other = types.struct({ id: types.int64 })
  t.not(Object.getPrototypeOf(Other.view(mem, 0)), Object.getPrototypeOf(first), 'another struct type, another class')
  first.id = 1n
  second.id = 2n
  t.equal(first.id, 1n)
  t.equal(second.id, 2n)
})

t.test('toJSON gives a plain snapshot', async (t) => {
  const mem = memory()
  Outer.store(mem, 0, { id: -1n, inner: { flag: true }, name: 'ß', raw: [255], list: [0.25], next: 8 })
  const v = Outer.view(mem, 0)
  t.same(JSON.parse(JSON.stringify(v)), {
    id: '-1',
    inner: { n: 0, flag: true },
    name: 'ß',
    raw: [255, 0, 0, 0],
    list: [0.25, 0, 0],
    next: 8,
  })
  const snapshot = v.toJSON()
  v.name = 'changed'
  t.equal(snapshot.name, 'ß', 'a snapshot is a copy')
  t.equal(JSON.stringify(v.inner), '{"n":0,"flag":true}')
})

t.test('store(undefined) zeroes the whole struct, padding included', async (t) => {
  const mem = memory()
  mem.u8.fill(0xaa)
  Outer.store(mem, 0, undefined)
  t.ok(mem.u8.subarray(0, Outer.size).every((b) => b === 0))
  t.equal(mem.u8[Outer.size], 0xaa, 'nothing past the struct')
  mem.u8.fill(0xaa)
  Outer.store(mem, 0, { id: 1n })
  t.ok(
    mem.u8.subarray(8, Outer.size).every((b) => b === 0),
    'fields left out and padding are zero',
  )
})

t.test('bad struct definitions are refused', async (t) => {
  t.throws(() => types.struct({}), { name: 'ShmError', code: 'EINVAL', message: /at least one field/ })
  for (const reserved of ['offset', 'mem', 'toJSON', 'constructor']) {
    t.throws(() => types.struct({ [reserved]: types.int8 }), {
      name: 'ShmError',
      code: 'EINVAL',
      message: new RegExp(`invalid fields\\.${reserved}`),
    })
  }
  t.throws(() => types.struct({ 'bad name': types.int8 }), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => types.struct({ a: 5 as unknown as typeof types.int8 }), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /invalid fields\.a: got 5, expected a shmkit type/,
  })
  t.throws(() => types.struct(null as unknown as Record<string, typeof types.int8>), { name: 'ShmError', code: 'EINVAL' })
  const huge = types.array(types.uint8, 2 ** 31)
  t.throws(() => types.struct({ a: huge, b: huge, c: types.int8 }), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /a struct of at most 4294967296 bytes/,
  })
})

t.test('views are typed from the layout (this file type-checks under tsc -b)', async (t) => {
  const mem = memory()
  const Point = types.struct({
    x: types.float64,
    y: types.float64,
    tag: types.string(16),
    next: types.ptr(types.int32),
    id: types.uint64,
    inner: Inner,
  })
  const p = Point.view(mem, 0)
  p.x = 3
  const x: number = p.x
  const tag: string = p.tag
  const next: number = p.next
  const id: bigint = p.id
  const n: number = p.inner.n
  const counter = types.int32.view(mem, 128)
  const previous: number = counter.add(1)
  const wide: bigint = types.int64.view(mem, 136).add(1)
  const typed: Uint32Array = types.array(types.uint32, 4).view(mem, 144).typed
  const element: number = types.array(types.uint32, 4).view(mem, 144).get(0)
  const nested: number = types.array(Inner, 2).view(mem, 160).get(1).n
  t.same([x, tag, next, id, n, previous, wide, typed.length, element, nested], [3, '', 0, 0n, 0, 0, 0n, 4, 0, 0])
})
