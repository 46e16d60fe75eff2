import t from 'tap'
import { assertFits, createSegmentMemory, t as types, validateInit } from '@shmkit/named-store'

const Pos = types.struct({ x: types.int32, y: types.int32 })
const Shape = types.struct({
  pos: Pos,
  tags: types.array(types.uint8, 2),
  label: types.string(4),
  big: types.int64,
  points: types.array(Pos, 2),
})

t.test('init errors name the path inside the value', async (t) => {
  t.throws(() => validateInit(Shape, { pos: { x: 1.5 } }), {
    name: 'ShmError',
    code: 'EINVAL',
    message: 'invalid init: pos.x: expected an integer from -2147483648 to 2147483647, got 1.5',
    issues: [{ path: ['init', 'pos', 'x'], message: 'expected an integer from -2147483648 to 2147483647, got 1.5' }],
  })
  t.throws(() => validateInit(Shape, { tags: [1, 2, 3] }), { code: 'EINVAL', message: 'invalid init: tags: expected at most 2 elements' })
  t.throws(() => validateInit(Shape, { tags: [1, 300] }), {
    code: 'EINVAL',
    message: 'invalid init: tags[1]: expected an integer from 0 to 255, got 300',
  })
  t.throws(() => validateInit(Shape, { points: [{}, { y: 'a' }] }), {
    code: 'EINVAL',
    message: 'invalid init: points[1].y: expected an integer from -2147483648 to 2147483647, got "a"',
  })
  t.throws(() => validateInit(Shape, { nope: 1 }), {
    code: 'EINVAL',
    message: /^invalid init: nope: unknown field \(the fields are pos, tags, label, big, points\)$/,
  })
  t.throws(() => validateInit(Shape, { label: 'naïve' }), {
    code: 'EINVAL',
    message: 'invalid init: label: expected at most 4 UTF-8 bytes, got 6',
  })
  t.throws(() => validateInit(Shape, [1, 2]), {
    code: 'EINVAL',
    message: /^invalid init: expected an object with fields pos, tags, label, big, points, got an array of 2$/,
  })
  t.throws(() => validateInit(types.int32, 2 ** 31), {
    code: 'EINVAL',
    message: 'invalid init: expected an integer from -2147483648 to 2147483647, got 2147483648',
  })
  t.throws(() => validateInit(types.float64, '1', 'value'), { code: 'EINVAL', message: 'invalid value: expected a number, got "1"' })
})

t.test('every problem is reported, the message lists the first five', async (t) => {
  const Many = types.struct({ a: types.int8, b: types.int8, c: types.int8, d: types.int8, e: types.int8, f: types.int8 })
  const error = t.throws(() => validateInit(Many, { a: 1000, b: 1000, c: 1000, d: 1000, e: 1000, f: 1000 })) as unknown as {
    issues: unknown[]
    message: string
  }
  t.equal(error.issues.length, 6)
  t.match(error.message, /^invalid init: a: .*; e: expected an integer from -128 to 127, got 1000 \(and 1 more\)$/)
})

t.test('valid init values pass, missing struct fields included', async (t) => {
  t.doesNotThrow(() => validateInit(Shape, {}))
  t.doesNotThrow(() => validateInit(Shape, { pos: { x: -1 }, tags: new Uint8Array([1, 2]), label: 'abcd', big: 5, points: [{ x: 1 }] }))
  t.doesNotThrow(() => validateInit(types.int64, 2n ** 63n - 1n))
  t.doesNotThrow(() => validateInit(types.int64, -(2 ** 53) + 1), 'a safe-integer number for a 64-bit field')
  t.throws(() => validateInit(types.int64, 2 ** 53), { code: 'EINVAL', message: /expected a bigint \(or safe integer\)/ })
  t.doesNotThrow(() => validateInit(types.ptr(Pos), { offset: 64 }), 'a view (anything with an offset) for a pointer')
  t.doesNotThrow(() => validateInit(types.array(types.float32, 3), 1.5), 'one value for an array')
})

t.test('validate returns located issues without throwing', async (t) => {
  t.same(Shape.validate({ pos: { y: 'z' } }, ['root']), [
    { path: ['root', 'pos', 'y'], message: 'expected an integer from -2147483648 to 2147483647, got "z"' },
  ])
  t.same(Shape.validate({}, ['root']), [])
  const a = types.array(types.uint8, 100)
  const issues = a.validate(new Array(100).fill(-1), ['init'])
  t.equal(issues.length, 10, 'a thousand bad elements are not a thousand issues')
})

t.test('assertFits: aligned and inside the buffer', async (t) => {
  const mem = createSegmentMemory(new ArrayBuffer(64), { readOnly: false, target: 'test memory' })
  t.doesNotThrow(() => assertFits(mem, 60, types.int32))
  t.doesNotThrow(() => assertFits(mem, 0, types.array(types.uint8, 64)))
  t.throws(() => assertFits(mem, 3, types.int32), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /^invalid offset: got 3, expected a multiple of 4 from 0 to 60 for int32$/,
  })
  t.throws(() => assertFits(mem, 64, types.int8), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => assertFits(mem, 8, types.array(types.uint8, 57)), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => assertFits(mem, -8, types.int64), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => assertFits(mem, 1.5, types.int8), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => assertFits(mem, 0, types.array(types.uint8, 65)), { name: 'ShmError', code: 'EINVAL', target: 'test memory' })
})
