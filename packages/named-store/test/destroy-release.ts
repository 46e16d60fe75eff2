// What destroy frees out of line: decided from the record's stored type name,
// read as bytes (no decoding) on the common path.
import t from 'tap'
import { ManagedHeapMemory, type Type, t as types } from '@shmkit/named-store'
import { isContainerBytes, ownsHeapBytes, ownsHeapByName } from '../src/containers/release.js'

const encoder = new TextEncoder()

/** Type names of every kind, with field names that spell the tokens but are not types. */
const corpus: Type[] = [
  types.int8,
  types.uint64,
  types.float64,
  types.bool,
  types.str(),
  types.bytes(),
  types.bytes(8),
  types.json(),
  types.string(16),
  types.ptr(types.int32),
  types.array(types.int32, 4),
  types.array(types.str(), 3),
  types.array(types.bytes(2), 3),
  types.vector(types.int32),
  types.vector(types.str()),
  types.map(types.str(), types.int32),
  types.map(types.uint32, types.json()),
  types.struct({ str: types.int32, map: types.uint8, vector: types.int16, json: types.float32, bytes: types.bytes(4) }),
  types.struct({ s: types.str() }),
  types.struct({ a: types.int32, b: types.struct({ json: types.bytes(4), c: types.json() }) }),
  types.struct({ strs: types.int32, bytes8: types.uint8 }),
  types.struct({ v: types.vector(types.float64) }),
  types.struct({ m: types.map(types.str(), types.str()) }),
]

t.test('ownsHeapBytes reads the stored name exactly as ownsHeapByName reads the string', async (t) => {
  let owning = 0
  for (const type of corpus) {
    // Placed mid-buffer between other bytes, as in a record: only [start, end) may count.
    const bytes = encoder.encode(`str(${type.name}json`)
    const start = 4
    const end = bytes.length - 4
    const expected = ownsHeapByName(type.name)
    if (expected) owning++
    t.equal(ownsHeapBytes(bytes, start, end), expected, type.name)
    t.equal(isContainerBytes(bytes, start, end), /^(?:vector|map)\(/.test(type.name), `${type.name}: container`)
  }
  // The corpus has both answers, so neither a constant true nor a constant false passes.
  t.ok(owning > 5 && owning < corpus.length - 5, `${owning} of ${corpus.length} own heap`)
  t.equal(ownsHeapBytes(encoder.encode('str'), 0, 2), false, 'a token cut by the end of the span is not the token')
  t.equal(ownsHeapBytes(new Uint8Array(0), 0, 0), false, 'an empty name owns nothing')
})

t.test('destroy frees what every kind keeps out of line, and nothing of a type that keeps nothing', async (t) => {
  const seg = new ManagedHeapMemory(4 << 20)
  t.teardown(() => seg.close())
  const free0 = seg.freeMemory
  for (const [i, type] of corpus.entries()) {
    const view = seg.construct(`o${i}`, type) as unknown as Record<string, unknown>
    if (type.name === 'str' || type.name === 'json') (view as { value: unknown }).value = 'x'.repeat(300)
    if (type.name === 'bytes') (view as { value: unknown }).value = new Uint8Array(300)
    if (type.name.startsWith('vector(int32')) for (let k = 0; k < 500; k++) (view as unknown as { push(v: number): void }).push(k)
    if (type.name.startsWith('map(str,int32'))
      for (let k = 0; k < 200; k++) (view as unknown as { set(k: string, v: number): void }).set(`k${k}`, k)
  }
  t.ok(seg.freeMemory < free0, 'the objects took memory')
  for (const i of corpus.keys()) t.equal(seg.destroy(`o${i}`), true, corpus[i]?.name ?? '')
  t.equal(seg.freeMemory, free0, 'every byte is back: strings, vector storage and map entries included')
  t.ok(seg.allMemoryDeallocated())
  t.ok(seg.checkSanity())
  t.equal(seg.destroy('o0'), false, 'a second destroy finds nothing')
})
