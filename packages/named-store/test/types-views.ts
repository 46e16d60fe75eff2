import t from 'tap'
import { Worker } from 'node:worker_threads'
import { assertFits, createSegmentMemory, t as types, validateInit } from '@shmkit/named-store'

const memory = (bytes = 4096, readOnly = false) => createSegmentMemory(new ArrayBuffer(bytes), { readOnly, target: 'test memory' })

t.test('scalar views round-trip every type, limits included', async (t) => {
  const mem = memory()
  const cases: [keyof typeof types, unknown[]][] = [
    ['int8', [-128, 127, 0]],
    ['uint8', [0, 255]],
    ['int16', [-32768, 32767]],
    ['uint16', [0, 65535]],
    ['int32', [-(2 ** 31), 2 ** 31 - 1]],
    ['uint32', [0, 2 ** 32 - 1]],
    ['int64', [-(2n ** 63n), 2n ** 63n - 1n]],
    ['uint64', [0n, 2n ** 64n - 1n]],
    ['float32', [1.5, -0.25]],
    ['float64', [Math.PI, -1e300]],
    ['bool', [true, false]],
  ]
  for (const [name, values] of cases) {
    const type = types[name] as { view(m: typeof mem, o: number): { value: unknown }; size: number }
    const view = type.view(mem, 64)
    for (const v of values) {
      view.value = v
      t.equal(view.value, v, `${name} holds ${String(v)}`)
    }
  }
  const i8 = types.int8.view(mem, 0)
  t.throws(() => {
    i8.value = 128
  }, { name: 'ShmError', code: 'EINVAL', message: /expected an integer from -128 to 127, got 128/ })
  const u64 = types.uint64.view(mem, 8)
  t.throws(() => {
    u64.value = -1n
  }, { name: 'ShmError', code: 'EINVAL' })
})

t.test('add and compareExchange return the previous value', async (t) => {
  const mem = memory()
  const c = types.int32.view(mem, 0)
  c.value = 10
  t.equal(c.add(5), 10)
  t.equal(c.value, 15)
  t.equal(c.compareExchange(15, 1), 15)
  t.equal(c.value, 1)
  t.equal(c.compareExchange(99, 2), 1, 'no exchange when the value differs')
  t.equal(c.value, 1)
  const big = types.uint64.view(mem, 8)
  t.equal(big.add(3n), 0n)
  t.equal(big.compareExchange(3n, 7n), 3n)
  t.equal(big.value, 7n)
})

t.test('atomic add from two threads loses nothing', async (t) => {
  const sab = new SharedArrayBuffer(64)
  const code = `
    const { workerData, parentPort } = require('node:worker_threads')
    const a = new Int32Array(workerData)
    for (let i = 0; i < 100000; i++) Atomics.add(a, 0, 1)
    parentPort.postMessage(0)`
  const mem = createSegmentMemory(sab, { readOnly: false, target: 'sab' })
  const view = types.int32.view(mem, 0)
  const worker = new Worker(code, { eval: true, workerData: sab })
  const done = new Promise((resolve) => worker.on('message', resolve))
  for (let i = 0; i < 100000; i++) view.add(1)
  await done
  t.equal(view.value, 200000)
})

t.test('structs: nested views, plain-value fields, snapshots', async (t) => {
  const mem = memory()
  const Inner = types.struct({ n: types.uint16, flag: types.bool })
  const Outer = types.struct({ id: types.int64, inner: Inner, name: types.string(10), raw: types.bytes(4), list: types.array(types.float32, 3), next: types.ptr(Inner) })
  Outer.store(mem, 64, { id: 5n, inner: { n: 7, flag: true }, name: 'héllo', raw: [1, 2, 3, 4], list: [0.5, 1.5], next: 128 })
  const v = Outer.view(mem, 64)
  t.equal(v.id, 5n)
  t.equal(v.inner.n, 7)
  t.equal(v.inner.flag, true)
  t.equal(v.name, 'héllo')
  t.same([...v.raw.typed], [1, 2, 3, 4])
  t.same([...v.list.typed], [0.5, 1.5, 0])
  t.equal(v.next, 128)
  v.inner = { n: 9 } as unknown as typeof v.inner // a plain value of the field type is written through
  t.equal(v.inner.n, 9, 'assigning a plain object writes it')
  t.equal(v.inner.flag, false, 'fields left out are zeroed')
  v.next = v.inner.offset
  t.equal(v.next, v.inner.offset, 'a ptr holds the offset of its target')
  t.same(JSON.parse(JSON.stringify(v)), { id: '5', inner: { n: 9, flag: false }, name: 'héllo', raw: [1, 2, 3, 4], list: [0.5, 1.5, 0], next: v.inner.offset })
  t.throws(() => {
    v.name = 'x'.repeat(11)
  }, { name: 'ShmError', code: 'EINVAL', message: /at most 10 UTF-8 bytes, got 11/ })
  t.throws(() => {
    v.name = 'ééééé é'
  }, { name: 'ShmError', code: 'EINVAL', message: /got 13/ }, 'multi-byte characters count in bytes')
})

t.test('arrays: bounds, typed zero-copy, iteration', async (t) => {
  const mem = memory()
  const A = types.array(types.int16, 4)
  const a = A.view(mem, 32)
  a.set(3, -5)
  t.equal(a.get(3), -5)
  t.throws(() => a.get(4), { name: 'ShmError', code: 'EINVAL', message: /invalid index: got 4, expected an integer from 0 to 3/ })
  t.throws(() => a.set(0, 1e6), { name: 'ShmError', code: 'EINVAL' })
  a.typed[0] = 11
  t.equal(a.get(0), 11, '.typed writes the same bytes')
  t.same([...a], [11, 0, 0, -5])
  t.throws(() => types.array(types.string(4), 2).view(mem, 64).typed, { name: 'ShmError', code: 'EINVAL' })
})

t.test('init validation names the path', async (t) => {
  const S = types.struct({ pos: types.struct({ x: types.int32 }), tags: types.array(types.uint8, 2) })
  t.throws(() => validateInit(S, { pos: { x: 1.5 } }), { name: 'ShmError', code: 'EINVAL', message: /invalid init\.pos\.x: expected an integer/ })
  t.throws(() => validateInit(S, { tags: [1, 2, 3] }), { name: 'ShmError', code: 'EINVAL', message: /init\.tags: expected at most 2 elements/ })
  t.throws(() => validateInit(S, { tags: [1, 300] }), { name: 'ShmError', code: 'EINVAL', message: /init\.tags\.1/ })
  t.throws(() => validateInit(S, { nope: 1 }), { name: 'ShmError', code: 'EINVAL', message: /init\.nope: unknown field/ })
  t.throws(() => validateInit(types.int64, 1.5), { name: 'ShmError', code: 'EINVAL' })
  t.doesNotThrow(() => validateInit(types.int64, 5))
  const mem = memory(64)
  t.throws(() => assertFits(mem, 3, types.int32), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => assertFits(mem, 64, types.int8), { name: 'ShmError', code: 'EINVAL' })
})

t.test('read-only memory refuses writes; closed memory refuses everything', async (t) => {
  const ro = memory(64, true)
  const v = types.int32.view(ro, 0)
  t.equal(v.value, 0)
  t.throws(() => {
    v.value = 1
  }, { name: 'ShmError', code: 'EREADONLY' })
  t.throws(() => v.add(1), { name: 'ShmError', code: 'EREADONLY' })
  const mem = memory(64)
  const w = types.struct({ a: types.int8 }).view(mem, 0)
  mem.closed = true
  t.throws(() => w.a, { name: 'ShmError', code: 'ECLOSED', message: /test memory is closed/ })
  t.throws(() => types.array(types.int8, 2).view(mem, 0).typed, { name: 'ShmError', code: 'ECLOSED' })
})
