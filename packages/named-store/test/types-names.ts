import t from 'tap'
import fc from 'fast-check'
import { fingerprint, t as types, typeFromName, type Fields, type Type } from '@shmkit/named-store'

const fp = (type: Type): string => `${type.fingerprintHi.toString(16)}:${type.fingerprintLo.toString(16)}`

const everyKind: Type[] = [
  types.int8,
  types.uint8,
  types.int16,
  types.uint16,
  types.int32,
  types.uint32,
  types.int64,
  types.uint64,
  types.float32,
  types.float64,
  types.bool,
  types.string(8),
  types.bytes(4),
  types.ptr(types.float64),
  types.array(types.array(types.int8, 2), 3),
  types.struct({
    a: types.int32,
    b: types.struct({ c: types.string(4), d: types.array(types.bool, 2) }),
    e: types.ptr(types.struct({ z: types.int8 })),
  }),
]

t.test('canonical names', async (t) => {
  const Point = types.struct({ x: types.float64, y: types.float64, tag: types.string(16), next: types.ptr(types.int32) })
  t.equal(Point.name, 'struct{x:float64,y:float64,tag:string(16),next:ptr(int32)}')
  t.equal(types.array(types.uint32, 100).name, 'array(uint32,100)')
  t.equal(types.bytes(7).name, 'bytes(7)')
  t.equal(types.ptr(types.array(types.bool, 2)).name, 'ptr(array(bool,2))')
  t.equal(Point.kind, 'struct')
  t.equal(types.array(types.uint32, 100).kind, 'array')
})

t.test('fingerprints: FNV-1a 64 of the name, equal for equal types, different otherwise', async (t) => {
  // FNV-1a 64 test vectors: "" and "a"
  t.same(fingerprint(''), { hi: 0xcbf29ce4, lo: 0x84222325 })
  t.same(fingerprint('a'), { hi: 0xaf63dc4c, lo: 0x8601ec8c })
  for (const type of everyKind) t.same({ lo: type.fingerprintLo, hi: type.fingerprintHi }, fingerprint(type.name), type.name)
  const a = types.struct({ x: types.float64, tag: types.string(16) })
  const b = types.struct({ x: types.float64, tag: types.string(16) })
  t.not(a, b, 'two separately built types')
  t.equal(fp(a), fp(b), 'same layout, same fingerprint')
  const seen = new Map<string, string>()
  const variants: Type[] = [
    ...everyKind,
    types.struct({ x: types.float64, tag: types.string(17) }),
    types.struct({ tag: types.string(16), x: types.float64 }),
    types.struct({ y: types.float64, tag: types.string(16) }),
    types.array(types.uint32, 99),
    types.array(types.int32, 100),
    types.ptr(types.int32),
    types.bytes(8),
  ]
  for (const type of variants) {
    t.notOk(seen.has(fp(type)), `${type.name} has a fingerprint of its own`)
    seen.set(fp(type), type.name)
  }
  t.notOk(seen.has(fp(a)), `and none equals ${a.name}'s`)
})

t.test('typeFromName rebuilds every type', async (t) => {
  for (const type of everyKind) {
    const parsed = typeFromName(type.name)
    t.equal(parsed.name, type.name)
    t.equal(parsed.size, type.size)
    t.equal(parsed.align, type.align)
    t.equal(fp(parsed), fp(type))
  }
  const parsed = typeFromName('struct{p:struct{x:float64},n:array(int16,3)}') as unknown as { fields: { name: string; offset: number }[] }
  t.same(
    parsed.fields.map((f) => [f.name, f.offset]),
    [
      ['p', 0],
      ['n', 8],
    ],
  )
})

t.test('typeFromName round-trips random types', async (t) => {
  const typeArbitrary = fc.letrec<{ type: Type }>((tie) => ({
    type: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom<Type>(types.int8, types.uint16, types.int32, types.uint64, types.float32, types.float64, types.bool),
      fc.integer({ min: 1, max: 300 }).map((n): Type => types.string(n)),
      fc.integer({ min: 1, max: 300 }).map((n): Type => types.bytes(n)),
      tie('type').map((target): Type => types.ptr(target)),
      fc.tuple(tie('type'), fc.integer({ min: 1, max: 5 })).map(([element, n]): Type => types.array(element, n)),
      fc
        .uniqueArray(fc.tuple(fc.stringMatching(/^[a-z_$][\w$]{0,6}$/), tie('type')), {
          minLength: 1,
          maxLength: 4,
          selector: ([name]) => name,
        })
        .filter((fields) =>
          fields.every(
            ([name]) => !['offset', 'mem', 'toJSON', 'constructor', 'prototype', 'valueOf', 'toString', 'hasOwnProperty'].includes(name),
          ),
        )
        .map((fields): Type => types.struct(Object.fromEntries(fields) as Fields)),
    ),
  })).type
  fc.assert(
    fc.property(typeArbitrary, (type) => {
      const parsed = typeFromName(type.name)
      return parsed.name === type.name && parsed.size === type.size && parsed.align === type.align && fp(parsed) === fp(type)
    }),
    { numRuns: 300, seed: 7 },
  )
  t.pass('300 random types parsed back to the same layout')
})

t.test('typeFromName refuses junk with EINVAL, quickly', async (t) => {
  const junk = [
    '',
    'int33',
    'Int32',
    ' int32',
    'int8 ',
    'int8int8',
    'struct{',
    'struct{}',
    'struct{a:int8,}',
    'struct{a:int8',
    'struct{:int8}',
    'struct{a:int8,a:int8}',
    'struct{offset:int8}',
    'struct{__proto__:int8}',
    'struct{1a:int8}',
    'array(int8)',
    'array(int8,0)',
    'array(int8,-1)',
    'array(int8,1.5)',
    'array(,2)',
    'array(float64,536870913)',
    'string(x)',
    'string(0)',
    'string(08)',
    'string(16777217)',
    'string(99999999999)',
    'bytes(0)',
    'bytes(4294967297)',
    'ptr()',
    'ptr(ptr(',
    'ptr(int8',
    '('.repeat(100),
    'ptr('.repeat(5000) + 'int8' + ')'.repeat(5000),
    'x'.repeat(70000),
    'struct{a:array(array(array(float64,65536),65536),2)}',
  ]
  for (const name of junk) {
    t.throws(
      () => typeFromName(name),
      { name: 'ShmError', code: 'EINVAL', message: /invalid name: .*expected a canonical type name/ },
      JSON.stringify(name.slice(0, 40)),
    )
  }
  t.throws(() => typeFromName('string(08)'), { code: 'EINVAL', message: /not canonical, that is string\(8\)/ })
  t.throws(() => typeFromName('struct{a:int8,a:int8}'), { code: 'EINVAL', message: /field "a" twice/ })
  t.throws(() => typeFromName(42 as unknown as string), { name: 'ShmError', code: 'EINVAL' })
})
