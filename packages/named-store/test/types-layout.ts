import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { t as types, type Type, type StructType, type Fields } from '@shmkit/named-store'

type AnyType = Type & { kind: string; fields?: readonly { name: string; type: Type; offset: number }[] }

t.test('scalars, strings, bytes, pointers and arrays: sizes and alignments', async (t) => {
  const cases: [string, Type, number, number][] = [
    ['int8', types.int8, 1, 1],
    ['uint8', types.uint8, 1, 1],
    ['int16', types.int16, 2, 2],
    ['uint16', types.uint16, 2, 2],
    ['int32', types.int32, 4, 4],
    ['uint32', types.uint32, 4, 4],
    ['int64', types.int64, 8, 8],
    ['uint64', types.uint64, 8, 8],
    ['float32', types.float32, 4, 4],
    ['float64', types.float64, 8, 8],
    ['bool', types.bool, 1, 1],
    // a 32-bit byte length, then the bytes, padded to the length's alignment
    ['string(1)', types.string(1), 8, 4],
    ['string(4)', types.string(4), 8, 4],
    ['string(5)', types.string(5), 12, 4],
    ['bytes(3)', types.bytes(3), 3, 1],
    ['ptr(float64)', types.ptr(types.float64), 4, 4],
    ['array(int16,3)', types.array(types.int16, 3), 6, 2],
    ['array(float64,2)', types.array(types.float64, 2), 16, 8],
  ]
  for (const [name, type, size, align] of cases) {
    t.equal(type.name, name)
    t.equal(type.size, size, `${name} size`)
    t.equal(type.align, align, `${name} align`)
  }
})

t.test('structs: declaration order, natural alignment, C padding', async (t) => {
  // struct { char a; double b; short c; }: b at 8, c at 16, size 24 (tail padding to 8)
  const S = types.struct({ a: types.int8, b: types.float64, c: types.int16 })
  t.same(
    S.fields.map((f) => [f.name, f.offset]),
    [
      ['a', 0],
      ['b', 8],
      ['c', 16],
    ],
  )
  t.equal(S.size, 24)
  t.equal(S.align, 8)
  const Nested = types.struct({ x: types.uint8, inner: S, y: types.uint8 })
  t.same(
    Nested.fields.map((f) => f.offset),
    [0, 8, 32],
  )
  t.equal(Nested.size, 40)
  const Packed = types.struct({ a: types.uint8, b: types.uint8, c: types.uint16 })
  t.same(
    Packed.fields.map((f) => f.offset),
    [0, 1, 2],
  )
  t.equal(Packed.size, 4, 'no padding when fields already line up')
  const Point = types.struct({ x: types.float64, y: types.float64, tag: types.string(16), next: types.ptr(types.int32) })
  t.same(
    Point.fields.map((f) => f.offset),
    [0, 8, 16, 36],
  )
  t.equal(Point.size, 40)
})

/** The C declaration of `type` under `declarator`, for the compiler to lay out. */
function cDeclaration(type: AnyType, declarator: string): string {
  const scalars: Record<string, string> = {
    int8: 'int8_t',
    uint8: 'uint8_t',
    int16: 'int16_t',
    uint16: 'uint16_t',
    int32: 'int32_t',
    uint32: 'uint32_t',
    int64: 'int64_t',
    uint64: 'uint64_t',
    float32: 'float',
    float64: 'double',
    bool: '_Bool',
  }
  const scalar = scalars[type.name]
  if (scalar !== undefined) return `${scalar} ${declarator}`
  if (type.kind === 'string')
    return `struct { uint32_t length; char bytes[${(type as unknown as { maxBytes: number }).maxBytes}]; } ${declarator}`
  if (type.kind === 'bytes') return `uint8_t ${declarator}[${type.size}]`
  if (type.kind === 'ptr') return `uint32_t ${declarator}`
  if (type.kind === 'array') {
    const array = type as unknown as { element: AnyType; length: number }
    return cDeclaration(array.element, `${declarator}[${array.length}]`)
  }
  if (type.kind === 'struct')
    return `struct { ${(type.fields ?? []).map((f) => `${cDeclaration(f.type as AnyType, f.name)};`).join(' ')} } ${declarator}`
  throw new Error(`no C spelling for ${type.name}`)
}

const typeArbitrary = fc.letrec<{ type: Type }>((tie) => ({
  type: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<Type>(
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
    ),
    fc.integer({ min: 1, max: 9 }).map((n): Type => types.string(n)),
    fc.integer({ min: 1, max: 9 }).map((n): Type => types.bytes(n)),
    tie('type').map((target): Type => types.ptr(target)),
    fc.tuple(tie('type'), fc.integer({ min: 1, max: 3 })).map(([element, n]): Type => types.array(element, n)),
    fc
      .array(tie('type'), { minLength: 1, maxLength: 5 })
      .map((fields): Type => types.struct(Object.fromEntries(fields.map((f, i) => [`f${i}`, f])) as Fields)),
  ),
})).type

function findCompiler(): string | undefined {
  for (const candidate of ['cc', 'gcc', 'clang']) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' })
      return candidate
    } catch {
      // try the next one
    }
  }
  return undefined
}
const compiler = findCompiler()

t.test(
  'the layout a C compiler gives, for 150 random structs',
  { skip: compiler === undefined ? 'no C compiler on this machine' : false },
  async (t) => {
    const structs = fc
      .sample(fc.array(typeArbitrary, { minLength: 1, maxLength: 6 }), { numRuns: 150, seed: 20261122 })
      .map((fields) => types.struct(Object.fromEntries(fields.map((f, i) => [`f${i}`, f])) as Fields) as StructType<Fields>)
    const lines = ['#include <stdint.h>', '#include <stddef.h>', '#include <stdio.h>']
    for (const [i, s] of structs.entries()) lines.push(`typedef ${cDeclaration(s as AnyType, `T${i}`)};`)
    lines.push('int main(void) {')
    structs.forEach((s, i) => {
      const offsets = s.fields.map((f) => `offsetof(T${i}, ${f.name})`)
      lines.push(`  printf("%zu %zu${' %zu'.repeat(offsets.length)}\\n", sizeof(T${i}), _Alignof(T${i}), ${offsets.join(', ')});`)
    })
    lines.push('  return 0;', '}')
    const dir = mkdtempSync(join(tmpdir(), `shmkit-types-layout-${process.pid}-`))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(join(dir, 'layout.c'), lines.join('\n'))
    execFileSync(compiler as string, ['-std=c11', '-o', join(dir, 'layout'), join(dir, 'layout.c')])
    const measured = execFileSync(join(dir, 'layout'), { encoding: 'utf8' }).trim().split('\n')
    t.equal(measured.length, structs.length)
    let mismatches = 0
    structs.forEach((s, i) => {
      const ours = [s.size, s.align, ...s.fields.map((f) => f.offset)].join(' ')
      if (ours !== measured[i]) {
        mismatches++
        t.equal(ours, measured[i], `${s.name}: size, align, offsets`)
      }
    })
    t.equal(mismatches, 0, `every struct laid out as ${compiler} does`)
  },
)
