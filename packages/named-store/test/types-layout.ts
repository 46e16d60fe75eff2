import t from 'tap'
import { createSegmentMemory, t as types, typeFromName } from '@shmkit/named-store'

t.test('sizes, alignments and C padding', async (t) => {
  const cases: [string, { size: number; align: number }, number, number][] = [
    ['int8', types.int8, 1, 1],
    ['uint16', types.uint16, 2, 2],
    ['int32', types.int32, 4, 4],
    ['int64', types.int64, 8, 8],
    ['float32', types.float32, 4, 4],
    ['float64', types.float64, 8, 8],
    ['bool', types.bool, 1, 1],
    ['string(5)', types.string(5), 12, 4],
    ['bytes(3)', types.bytes(3), 3, 1],
    ['ptr', types.ptr(types.int32), 4, 4],
    ['array', types.array(types.int16, 3), 6, 2],
  ]
  for (const [name, type, size, align] of cases) {
    t.equal(type.size, size, `${name} size`)
    t.equal(type.align, align, `${name} align`)
  }
  // struct { char a; double b; short c; } is 24 bytes, b at 8, c at 16 — as a C compiler lays it out.
  const S = types.struct({ a: types.int8, b: types.float64, c: types.int16 })
  t.equal(S.size, 24)
  t.equal(S.align, 8)
  t.same(S.fields.map((f) => f.offset), [0, 8, 16])
  const Nested = types.struct({ x: types.uint8, inner: S, y: types.uint8 })
  t.same(Nested.fields.map((f) => f.offset), [0, 8, 32])
  t.equal(Nested.size, 40)
})

t.test('canonical names and fingerprints', async (t) => {
  const P = types.struct({ x: types.float64, tag: types.string(16), next: types.ptr(types.int32) })
  t.equal(P.name, 'struct{x:float64,tag:string(16),next:ptr(int32)}')
  t.equal(types.array(types.uint32, 100).name, 'array(uint32,100)')
  const P2 = types.struct({ x: types.float64, tag: types.string(16), next: types.ptr(types.int32) })
  t.equal(P2.fingerprintLo, P.fingerprintLo)
  t.equal(P2.fingerprintHi, P.fingerprintHi)
  const other = types.struct({ x: types.float64, tag: types.string(17), next: types.ptr(types.int32) })
  t.not(`${other.fingerprintLo}:${other.fingerprintHi}`, `${P.fingerprintLo}:${P.fingerprintHi}`)
  t.not(types.int32.fingerprintLo, types.uint32.fingerprintLo)
})

t.test('typeFromName round-trips every type and refuses junk', async (t) => {
  const all = [
    types.int8, types.uint8, types.int16, types.uint16, types.int32, types.uint32, types.int64, types.uint64, types.float32, types.float64, types.bool,
    types.string(8), types.bytes(4), types.ptr(types.float64), types.array(types.array(types.int8, 2), 3),
    types.struct({ a: types.int32, b: types.struct({ c: types.string(4), d: types.array(types.bool, 2) }), e: types.ptr(types.struct({ z: types.int8 })) }),
  ]
  for (const type of all) {
    const parsed = typeFromName(type.name)
    t.equal(parsed.name, type.name)
    t.equal(parsed.size, type.size)
    t.equal(parsed.fingerprintLo, type.fingerprintLo)
  }
  for (const junk of ['', 'int33', 'struct{', 'array(int8)', 'string(x)', 'struct{a:int8,}', 'int8 ', 'ptr(ptr(', '('.repeat(100)]) {
    t.throws(() => typeFromName(junk), { name: 'ShmError', code: 'EINVAL' }, JSON.stringify(junk))
  }
})

t.test('bad type arguments', async (t) => {
  t.throws(() => types.string(0), { name: 'ShmError', code: 'EINVAL', message: /invalid maxBytes/ })
  t.throws(() => types.bytes(-1), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => types.array(types.int8, 1.5), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => types.array({} as typeof types.int8, 1), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => types.struct({ offset: types.int8 }), { name: 'ShmError', code: 'EINVAL', message: /offset/ })
  t.throws(() => types.struct({ 'bad name': types.int8 }), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => types.struct({ a: 5 as unknown as typeof types.int8 }), { name: 'ShmError', code: 'EINVAL' })
  t.ok(createSegmentMemory(new ArrayBuffer(64), { readOnly: false, target: 't' }).u64.length === 8)
})
