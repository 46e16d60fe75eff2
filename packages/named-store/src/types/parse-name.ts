import { invalidArgument } from '@shmkit/errors'
import { ArrayType, BytesType, PtrType, StringType, StructType, type Fields } from './composites.js'
import { scalarsByName } from './scalars.js'
import type { Type } from './type.js'

const MAX_NAME = 64 * 1024
const MAX_DEPTH = 64

/**
 * The type a canonical name stands for (`struct{x:int32,tags:array(string(8),4)}`):
 * lets a tool that never saw the writer's code show what a segment holds.
 */
export function typeFromName(name: string): Type {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME) throw invalidArgument('name', name, 'a canonical type name')
  let at = 0
  const fail = (what: string): never => {
    throw invalidArgument('name', name, `a canonical type name (${what} at character ${at})`)
  }
  const expect = (text: string): void => {
    if (!name.startsWith(text, at)) fail(`expected "${text}"`)
    at += text.length
  }
  const integer = (): number => {
    const start = at
    while (at < name.length && name.charCodeAt(at) >= 48 && name.charCodeAt(at) <= 57) at++
    if (at === start || at - start > 10) fail('expected a number')
    return Number(name.slice(start, at))
  }
  const identifier = (): string => {
    const start = at
    while (at < name.length && /[\w$]/.test(name[at] as string)) at++
    if (at === start) fail('expected a field name')
    return name.slice(start, at)
  }
  const parse = (depth: number): Type => {
    if (depth > MAX_DEPTH) fail('nested too deeply')
    for (const [scalar, type] of Object.entries(scalarsByName)) {
      if (name.startsWith(scalar, at) && !/[\w(]/.test(name[at + scalar.length] ?? '')) {
        at += scalar.length
        return type
      }
    }
    if (name.startsWith('string(', at)) {
      at += 7
      const n = integer()
      expect(')')
      return new StringType(n)
    }
    if (name.startsWith('bytes(', at)) {
      at += 6
      const n = integer()
      expect(')')
      return new BytesType(n)
    }
    if (name.startsWith('ptr(', at)) {
      at += 4
      const target = parse(depth + 1)
      expect(')')
      return new PtrType(target)
    }
    if (name.startsWith('array(', at)) {
      at += 6
      const element = parse(depth + 1)
      expect(',')
      const n = integer()
      expect(')')
      return new ArrayType(element, n)
    }
    if (name.startsWith('struct{', at)) {
      at += 7
      const fields: Fields = {}
      if (name[at] === '}') {
        at++
        return new StructType(fields)
      }
      for (;;) {
        const field = identifier()
        expect(':')
        fields[field] = parse(depth + 1)
        if (name[at] === ',') {
          at++
          continue
        }
        expect('}')
        return new StructType(fields)
      }
    }
    return fail('unknown type')
  }
  const type = parse(0)
  if (at !== name.length) fail('unexpected text')
  return type
}
