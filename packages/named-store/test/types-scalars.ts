import t from 'tap'
import { createSegmentMemory, t as types, type ScalarView, type Type } from '@shmkit/named-store'

const memory = (bytes = 256) => createSegmentMemory(new ArrayBuffer(bytes), { readOnly: false, target: 'test memory' })

type ScalarCase = { type: Type<ScalarView<unknown>, unknown>; good: unknown[]; bad: unknown[]; expected: RegExp }

const cases: Record<string, ScalarCase> = {
  int8: {
    type: types.int8,
    good: [-128, 127, 0, -1],
    bad: [128, -129, 1.5, '1', 1n, NaN, null],
    expected: /expected an integer from -128 to 127/,
  },
  uint8: { type: types.uint8, good: [0, 255, 7], bad: [256, -1, 0.5], expected: /expected an integer from 0 to 255/ },
  int16: { type: types.int16, good: [-32768, 32767], bad: [32768, -32769], expected: /expected an integer from -32768 to 32767/ },
  uint16: { type: types.uint16, good: [0, 65535], bad: [65536, -1], expected: /expected an integer from 0 to 65535/ },
  int32: {
    type: types.int32,
    good: [-(2 ** 31), 2 ** 31 - 1],
    bad: [2 ** 31, -(2 ** 31) - 1, 1.5, Infinity],
    expected: /expected an integer from -2147483648 to 2147483647/,
  },
  uint32: { type: types.uint32, good: [0, 2 ** 32 - 1], bad: [2 ** 32, -1], expected: /expected an integer from 0 to 4294967295/ },
  int64: {
    type: types.int64,
    good: [-(2n ** 63n), 2n ** 63n - 1n, 0n, -5n],
    bad: [2n ** 63n, -(2n ** 63n) - 1n, 1.5, 2 ** 53, '5'],
    expected: /expected a bigint \(or safe integer\) from -9223372036854775808 to 9223372036854775807/,
  },
  uint64: {
    type: types.uint64,
    good: [0n, 2n ** 64n - 1n],
    bad: [-1n, 2n ** 64n, -1],
    expected: /expected a bigint \(or safe integer\) from 0 to 18446744073709551615/,
  },
  float32: { type: types.float32, good: [1.5, -0.25, Infinity, -Infinity, 0], bad: ['1', 1n, undefined], expected: /expected a number/ },
  float64: {
    type: types.float64,
    good: [Math.PI, -1e300, Number.MIN_VALUE, Number.MAX_VALUE, -0],
    bad: [true, {}],
    expected: /expected a number/,
  },
  bool: { type: types.bool, good: [true, false], bad: [0, 1, 'true'], expected: /expected a boolean/ },
}

t.test('every scalar type holds its limits through .value', async (t) => {
  const mem = memory()
  for (const [name, { type, good }] of Object.entries(cases)) {
    const view = type.view(mem, 64)
    t.equal(view.offset, 64)
    for (const value of good) {
      view.value = value
      t.equal(view.value, value, `${name} holds ${String(value)}`)
      t.equal(type.read(mem, 64), value, `${name} read() agrees`)
    }
  }
})

t.test('values out of range are refused before anything is written', async (t) => {
  const mem = memory()
  for (const [name, { type, good, bad, expected }] of Object.entries(cases)) {
    const view = type.view(mem, 128)
    view.value = good[0]
    for (const value of bad) {
      t.throws(
        () => {
          view.value = value
        },
        { name: 'ShmError', code: 'EINVAL', message: new RegExp(`^invalid value: ${expected.source}, got `) },
        `${name} refuses ${typeof value === 'bigint' ? `${value}n` : String(value)}`,
      )
      t.equal(view.value, good[0], `${name} is unchanged`)
      t.not(type.validate(value, ['v']).length, 0)
    }
  }
})

t.test('64-bit integers take safe-integer numbers and read back bigints', async (t) => {
  const mem = memory()
  const view = types.int64.view(mem, 0)
  view.value = -42 as unknown as bigint
  t.equal(view.value, -42n)
  types.uint64.store(mem, 8, 2 ** 53 - 1)
  t.equal(types.uint64.read(mem, 8), 2n ** 53n - 1n)
})

t.test('float32 rounds as a C float does; NaN survives', async (t) => {
  const mem = memory()
  const f = types.float32.view(mem, 0)
  f.value = 0.1
  t.equal(f.value, Math.fround(0.1))
  f.value = NaN
  t.ok(Number.isNaN(f.value))
})

t.test('store(undefined) and zero() write zeros; views are live over the bytes', async (t) => {
  const mem = memory()
  mem.u8.fill(0xff)
  for (const [name, { type }] of Object.entries(cases)) {
    type.store(mem, 64, undefined)
    t.same([...mem.u8.subarray(64, 64 + type.size)], new Array(type.size).fill(0), `${name} store(undefined)`)
    mem.u8.fill(0xff, 64, 72)
    type.zero(mem, 64)
    t.same([...mem.u8.subarray(64, 64 + type.size)], new Array(type.size).fill(0), `${name} zero()`)
  }
  t.equal(mem.u8[72], 0xff, 'nothing past the object')
  const v = types.uint16.view(mem, 32)
  mem.u8[32] = 0x34
  mem.u8[33] = 0x12
  t.equal(v.value, 0x1234, 'a write to the bytes shows through the view (little-endian)')
  mem.u8[40] = 2
  t.equal(types.bool.view(mem, 40).value, true, 'any non-zero byte is true')
})

t.test('toJSON: numbers as numbers, 64-bit integers as decimal strings', async (t) => {
  const mem = memory()
  const big = types.uint64.view(mem, 0)
  big.value = 2n ** 64n - 1n
  t.equal(JSON.stringify({ big }), '{"big":"18446744073709551615"}')
  const small = types.int16.view(mem, 8)
  small.value = -3
  t.equal(JSON.stringify(small), '-3')
  const flag = types.bool.view(mem, 10)
  flag.value = true
  t.equal(JSON.stringify(flag), 'true')
})
