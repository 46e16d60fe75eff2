import { invalidArgument, ShmError } from '@shmkit/errors'
import { ArrayType, BytesType, PtrType, StringType, StructType, type Fields } from './composites.js'
import { scalarsByName } from './scalars.js'
import { syncTypesByName } from '../sync/by-name.js'
import type { Type } from './type.js'
import { t } from './t.js'

const MAX_NAME = 64 * 1024
const outOfLineWords: [string, Type][] = [
  ['str', t.str()],
  ['json', t.json()],
  ['bytes', t.bytes()],
]
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
  /** A constructor's own refusal (`string(0)`, an array over 4 GiB) becomes a refusal of the name. */
  const build = (make: () => Type): Type => {
    try {
      return make()
    } catch (error) {
      if (error instanceof ShmError) return fail(error.message.replace(/^invalid /, 'bad '))
      throw error
    }
  }
  const parse = (depth: number): Type => {
    if (depth > MAX_DEPTH) fail('nested too deeply')
    for (const [scalar, type] of Object.entries({ ...syncTypesByName, ...scalarsByName })) {
      if (name.startsWith(scalar, at) && !/[\w(]/.test(name[at + scalar.length] ?? '')) {
        at += scalar.length
        return type
      }
    }
    // Out-of-line types with no parameters: `str`, `json`, `bytes` (a bare word, not `bytes(n)`).
    for (const [word, type] of outOfLineWords) {
      if (name.startsWith(word, at) && !/[\w(]/.test(name[at + word.length] ?? '')) {
        at += word.length
        return type
      }
    }
    if (name.startsWith('string(', at)) {
      at += 7
      const n = integer()
      expect(')')
      return build(() => new StringType(n))
    }
    if (name.startsWith('bytes(', at)) {
      at += 6
      const n = integer()
      expect(')')
      return build(() => new BytesType(n))
    }
    if (name.startsWith('ptr(', at)) {
      at += 4
      const target = parse(depth + 1)
      expect(')')
      return build(() => new PtrType(target))
    }
    if (name.startsWith('message_queue(', at)) {
      at += 14
      const maxMessages = integer()
      expect(',')
      const maxMessageSize = integer()
      expect(')')
      return build(() => t.messageQueue({ maxMessages, maxMessageSize }))
    }
    if (name.startsWith('map(', at)) {
      at += 4
      const key = parse(depth + 1)
      expect(',')
      const value = parse(depth + 1)
      expect(')')
      return build(() => t.map(key, value))
    }
    if (name.startsWith('vector(', at)) {
      at += 7
      const element = parse(depth + 1)
      expect(')')
      return build(() => t.vector(element))
    }
    if (name.startsWith('array(', at)) {
      at += 6
      const element = parse(depth + 1)
      expect(',')
      const n = integer()
      expect(')')
      return build(() => new ArrayType(element, n))
    }
    if (name.startsWith('struct{', at)) {
      at += 7
      // No prototype: a field called `__proto__` is then a field (that StructType refuses), not a prototype swap.
      const fields = Object.create(null) as Fields
      for (;;) {
        const field = identifier()
        if (Object.hasOwn(fields, field)) fail(`field "${field}" twice`)
        expect(':')
        fields[field] = parse(depth + 1)
        if (name[at] === ',') {
          at++
          continue
        }
        expect('}')
        return build(() => new StructType(fields))
      }
    }
    return fail('unknown type')
  }
  const type = parse(0)
  if (at !== name.length) fail('unexpected text')
  // One type, one name: `string(08)` would parse but fingerprint differently from `string(8)`.
  if (type.name !== name) fail(`not canonical, that is ${type.name}`)
  return type
}
