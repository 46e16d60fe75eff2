import t from 'tap'
import { createSegmentMemory, t as types } from '@shmkit/named-store'

const memory = () => createSegmentMemory(new ArrayBuffer(4096), { readOnly: false, target: 'test memory' })

t.test('get and set are bounds-checked with the allowed range', async (t) => {
  const mem = memory()
  const a = types.array(types.int16, 4).view(mem, 32)
  t.equal(a.length, 4)
  t.equal(a.offset, 32)
  a.set(3, -5)
  t.equal(a.get(3), -5)
  for (const index of [4, -1, 1.5, NaN, '0', 2 ** 32]) {
    t.throws(
      () => a.get(index as number),
      { name: 'ShmError', code: 'EINVAL', message: /^invalid index: got .*, expected an integer from 0 to 3$/ },
      `get(${String(index)})`,
    )
    t.throws(() => a.set(index as number, 1), { name: 'ShmError', code: 'EINVAL', message: /^invalid index/ }, `set(${String(index)})`)
  }
  t.throws(() => a.set(0, 1e6), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /^invalid \[0\]: expected an integer from -32768 to 32767, got 1000000$/,
  })
  t.same(mem.u8.subarray(40, 48), new Uint8Array(8), 'nothing written past the array')
})

t.test('.typed is a zero-copy TypedArray of the element type', async (t) => {
  const mem = memory()
  const kinds = [
    [types.int8, Int8Array],
    [types.uint8, Uint8Array],
    [types.int16, Int16Array],
    [types.uint16, Uint16Array],
    [types.int32, Int32Array],
    [types.uint32, Uint32Array],
    [types.int64, BigInt64Array],
    [types.uint64, BigUint64Array],
    [types.float32, Float32Array],
    [types.float64, Float64Array],
  ] as const
  for (const [element, Typed] of kinds) {
    const view = types.array(element, 5).view(mem, 64)
    const typed = view.typed
    t.type(typed, Typed, `${element.name} elements`)
    t.equal(typed.length, 5)
    t.equal(typed.buffer, mem.buffer, 'over the segment buffer itself')
    t.equal(typed.byteOffset, 64)
  }
  const a = types.array(types.uint32, 100).view(mem, 1024)
  a.typed[3] = 9
  t.equal(a.get(3), 9, 'a write through .typed is seen by get')
  a.set(4, 10)
  t.equal(a.typed[4], 10, 'a write through set is seen by .typed')
  t.throws(() => types.array(types.string(4), 2).view(mem, 0).typed, {
    name: 'ShmError',
    code: 'EINVAL',
    message: /\.typed needs a numeric element type/,
  })
  t.throws(() => types.array(types.bool, 2).view(mem, 0).typed, { name: 'ShmError', code: 'EINVAL' })
})

t.test('iteration and toJSON', async (t) => {
  const mem = memory()
  const a = types.array(types.int64, 3).view(mem, 0)
  a.set(0, -1n)
  a.set(2, 2n ** 40n)
  t.same([...a], [-1n, 0n, 2n ** 40n])
  t.equal(JSON.stringify(a), '["-1","0","1099511627776"]')
})

t.test('arrays of structs, strings and arrays', async (t) => {
  const mem = memory()
  const Point = types.struct({ x: types.float64, y: types.float64 })
  const points = types.array(Point, 3).view(mem, 0)
  const p1 = points.get(1)
  p1.x = 1.5
  t.equal(p1.offset, Point.size, 'a struct element is a view at its offset')
  points.set(2, { y: -2 })
  t.same(JSON.parse(JSON.stringify(points)), [
    { x: 0, y: 0 },
    { x: 1.5, y: 0 },
    { x: 0, y: -2 },
  ])
  t.throws(() => points.set(0, { z: 1 } as never), { name: 'ShmError', code: 'EINVAL', message: /^invalid \[0\]: z: unknown field/ })
  const names = types.array(types.string(5), 2).view(mem, 256)
  names.set(1, 'ab')
  t.same([...names], ['', 'ab'], 'strings come back as strings')
  const grid = types.array(types.array(types.uint8, 2), 2).view(mem, 512)
  grid.get(1).set(0, 7)
  t.same(JSON.parse(JSON.stringify(grid)), [
    [0, 0],
    [7, 0],
  ])
})

t.test('init: an iterable gives one value per element, one value fills them all', async (t) => {
  const mem = memory()
  const A = types.array(types.uint8, 4)
  mem.u8.fill(0xee, 0, 16)
  A.store(mem, 0, [1, 2])
  t.same([...mem.u8.subarray(0, 5)], [1, 2, 0, 0, 0xee], 'the rest is zero, nothing past the end')
  A.store(mem, 0, new Set([9, 8, 7, 6]))
  t.same(A.read(mem, 0), [9, 8, 7, 6])
  A.store(mem, 0, 5)
  t.same(A.read(mem, 0), [5, 5, 5, 5])
  const S = types.array(types.struct({ a: types.int8 }), 2)
  S.store(mem, 8, { a: 3 })
  t.same(S.read(mem, 8), [{ a: 3 }, { a: 3 }])
  const strings = types.array(types.string(4), 2)
  t.same(strings.validate('abc', []), [], 'a string is one value, not an iterable of characters')
  strings.store(mem, 32, 'abc')
  t.same(strings.read(mem, 32), ['abc', 'abc'])
  function* endless(): Generator<number> {
    for (;;) yield 1
  }
  t.same(
    A.validate(endless(), ['init']),
    [{ path: ['init'], message: 'expected at most 4 elements' }],
    'an endless iterable stops at the length',
  )
  t.same(A.validate('1234', ['init']).length, 1)
})

t.test('bad array definitions are refused', async (t) => {
  t.throws(() => types.array(types.int8, 0), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /invalid length: got 0, expected an integer from 1 to 4294967296/,
  })
  t.throws(() => types.array(types.int8, 1.5), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => types.array(types.float64, 2 ** 29 + 1), { name: 'ShmError', code: 'EINVAL', message: /from 1 to 536870912/ })
  t.throws(() => types.array({} as typeof types.int8, 1), { name: 'ShmError', code: 'EINVAL', message: /invalid element/ })
})
