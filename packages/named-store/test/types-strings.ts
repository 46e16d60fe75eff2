import t from 'tap'
import { createSegmentMemory, t as types } from '@shmkit/named-store'

const memory = () => createSegmentMemory(new ArrayBuffer(1024), { readOnly: false, target: 'test memory' })

t.test('string(n) holds up to n UTF-8 bytes, multi-byte characters counted in bytes', async (t) => {
  const mem = memory()
  const s = types.string(6).view(mem, 0)
  t.equal(s.value, '', 'zeroed bytes are the empty string')
  const fits = ['abcdef', 'ééé', '€€', '😀a', '']
  for (const value of fits) {
    s.value = value
    t.equal(s.value, value, `${JSON.stringify(value)} is ${Buffer.byteLength(value)} bytes`)
  }
  const tooLong: [string, number][] = [
    ['abcdefg', 7],
    ['éééa', 7],
    ['€€a', 7],
    ['😀😀', 8],
  ]
  for (const [value, bytes] of tooLong) {
    t.throws(
      () => {
        s.value = value
      },
      { name: 'ShmError', code: 'EINVAL', message: new RegExp(`^invalid value: expected at most 6 UTF-8 bytes, got ${bytes}$`) },
      JSON.stringify(value),
    )
  }
  t.equal(s.value, '', 'a refused string leaves the old one')
  t.throws(
    () => {
      s.value = 5 as unknown as string
    },
    { name: 'ShmError', code: 'EINVAL', message: /expected a string of at most 6 UTF-8 bytes, got 5/ },
  )
})

t.test('the stored form: a 32-bit byte length, then the bytes', async (t) => {
  const mem = memory()
  const S = types.string(8)
  S.store(mem, 16, 'hé')
  t.equal(mem.u32[4], 3)
  t.same([...mem.u8.subarray(20, 23)], [0x68, 0xc3, 0xa9])
  // Bytes written by another process may be anything: a length past maxBytes reads no further than the field.
  mem.u32[4] = 0xffffffff
  mem.u8.fill(0x41, 20, 28)
  mem.u8.fill(0x42, 28, 64)
  t.equal(S.read(mem, 16), 'AAAAAAAA')
  mem.u32[4] = 2
  mem.u8[20] = 0xff
  t.equal(S.read(mem, 16), '\ufffdA', 'invalid UTF-8 decodes to replacement characters, not an exception')
})

t.test('bytes(n): a copy through .value, zero-copy through .typed', async (t) => {
  const mem = memory()
  const b = types.bytes(4).view(mem, 8)
  t.equal(b.length, 4)
  b.value = new Uint8Array([1, 2, 3, 4])
  const copy = b.value
  copy[0] = 99
  t.equal(b.typed[0], 1, '.value is a copy')
  b.typed[1] = 42
  t.equal(mem.u8[9], 42, '.typed writes the segment bytes')
  t.equal(b.typed.buffer, mem.buffer)
  b.value = [7] as unknown as Uint8Array
  t.same([...b.typed], [7, 0, 0, 0], 'a shorter value is padded with zeros')
  b.value = new Uint8Array([5, 6]).buffer as unknown as Uint8Array
  t.same([...b.typed], [5, 6, 0, 0], 'an ArrayBuffer is accepted')
  t.throws(
    () => {
      b.value = new Uint8Array(5)
    },
    { name: 'ShmError', code: 'EINVAL', message: /^invalid value: expected at most 4 bytes, got 5$/ },
  )
  t.throws(
    () => {
      b.value = [1, 256] as unknown as Uint8Array
    },
    { name: 'ShmError', code: 'EINVAL', message: /^invalid value: \[1\]: expected a byte \(0\.\.255\), got 256$/ },
  )
  t.throws(
    () => {
      b.value = 'abcd' as unknown as Uint8Array
    },
    { name: 'ShmError', code: 'EINVAL', message: /expected a Uint8Array, ArrayBuffer or number\[\] of at most 4 bytes/ },
  )
  t.same(JSON.parse(JSON.stringify(b)), [5, 6, 0, 0])
})

t.test('bad lengths are refused', async (t) => {
  t.throws(() => types.string(0), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /^invalid maxBytes: got 0, expected an integer from 1 to 16777216$/,
  })
  t.throws(() => types.string(2 ** 24 + 1), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => types.string('8' as unknown as number), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => types.bytes(-1), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /^invalid n: got -1, expected an integer from 1 to 4294967296$/,
  })
  t.throws(() => types.bytes(2 ** 32 + 1), { name: 'ShmError', code: 'EINVAL' })
})
