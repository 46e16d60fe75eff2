import t from 'tap'
import { Worker } from 'node:worker_threads'
import { createSegmentMemory, t as types } from '@shmkit/named-store'

const memory = () => createSegmentMemory(new ArrayBuffer(256), { readOnly: false, target: 'test memory' })

t.test('add and compareExchange return the previous value', async (t) => {
  const mem = memory()
  const c = types.int32.view(mem, 0)
  c.value = 10
  t.equal(c.add(5), 10)
  t.equal(c.value, 15)
  t.equal(c.add(-20), 15)
  t.equal(c.value, -5)
  t.equal(c.compareExchange(-5, 1), -5)
  t.equal(c.value, 1)
  t.equal(c.compareExchange(99, 2), 1, 'no exchange when the value differs')
  t.equal(c.value, 1)
  const big = types.uint64.view(mem, 8)
  t.equal(big.add(3n), 0n)
  t.equal(big.compareExchange(3n, 7n), 3n)
  t.equal(big.value, 7n)
  t.equal(big.add(2), 7n, 'a safe-integer number is accepted for 64-bit add')
  t.equal(big.value, 9n)
})

t.test('every integer width wraps on add as its C type does', async (t) => {
  const mem = memory()
  const cases = [
    [types.int8, 127, 1, -128],
    [types.uint8, 255, 1, 0],
    [types.int16, 32767, 1, -32768],
    [types.uint16, 0, -1, 65535],
    [types.int32, 2 ** 31 - 1, 1, -(2 ** 31)],
    [types.uint32, 2 ** 32 - 1, 1, 0],
  ] as const
  for (const [type, start, n, after] of cases) {
    const view = type.view(mem, 64)
    view.value = start
    t.equal(view.add(n), start, `${type.name} add returns the previous value`)
    t.equal(view.value, after, `${type.name} wraps`)
    t.equal(view.compareExchange(after, start), after)
    t.equal(view.value, start)
  }
  const i64 = types.int64.view(mem, 128)
  i64.value = 2n ** 63n - 1n
  i64.add(1n)
  t.equal(i64.value, -(2n ** 63n))
  const u64 = types.uint64.view(mem, 136)
  u64.add(-1n)
  t.equal(u64.value, 2n ** 64n - 1n)
})

t.test('bad operands are refused', async (t) => {
  const mem = memory()
  const c = types.int16.view(mem, 0)
  t.throws(() => c.add(1.5), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /invalid n: expected a safe integer \(added modulo 2\^16\), got 1\.5/,
  })
  t.throws(() => c.add(2 ** 60), { name: 'ShmError', code: 'EINVAL', message: /invalid n/ })
  t.throws(() => c.add('1' as unknown as number), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => c.compareExchange(0, 40000), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /invalid replacement: expected an integer from -32768 to 32767, got 40000/,
  })
  t.throws(() => c.compareExchange(0.5, 1), { name: 'ShmError', code: 'EINVAL', message: /invalid expected/ })
  t.equal(c.value, 0, 'nothing changed')
  const big = types.int64.view(mem, 8)
  t.throws(() => big.add(0.5 as unknown as bigint), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /invalid n: expected a bigint or safe integer/,
  })
  t.throws(() => big.compareExchange(0n, 2n ** 63n), { name: 'ShmError', code: 'EINVAL', message: /invalid replacement/ })
})

/**
 * The worker builds its own memory context and views over the same
 * SharedArrayBuffer, through the package itself, as a second process would.
 */
const workerSource = `
  const { workerData, parentPort } = require('node:worker_threads')
  import(workerData.entry).then(({ createSegmentMemory, t }) => {
    const mem = createSegmentMemory(workerData.sab, { readOnly: false, target: 'worker' })
    const counter = t.int32.view(mem, 0)
    const wide = t.int64.view(mem, 8)
    const casCounter = t.uint32.view(mem, 16)
    for (let i = 0; i < workerData.rounds; i++) {
      counter.add(1)
      wide.add(3n)
      for (;;) {
        const seen = casCounter.value
        if (casCounter.compareExchange(seen, seen + 1) === seen) break
      }
    }
    parentPort.postMessage('done')
  }, (error) => parentPort.postMessage(String(error)))
`

t.test('two threads adding 100,000 times each lose nothing', async (t) => {
  const rounds = 100_000
  const sab = new SharedArrayBuffer(64)
  const mem = createSegmentMemory(sab, { readOnly: false, target: 'main' })
  const worker = new Worker(workerSource, { eval: true, workerData: { sab, rounds, entry: import.meta.resolve('@shmkit/named-store') } })
  t.teardown(() => worker.terminate())
  const finished = new Promise<unknown>((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  const counter = types.int32.view(mem, 0)
  const wide = types.int64.view(mem, 8)
  const casCounter = types.uint32.view(mem, 16)
  for (let i = 0; i < rounds; i++) {
    counter.add(1)
    wide.add(3n)
    for (;;) {
      const seen = casCounter.value
      if (casCounter.compareExchange(seen, seen + 1) === seen) break
    }
  }
  t.equal(await finished, 'done')
  t.equal(counter.value, 2 * rounds, 'int32 add')
  t.equal(wide.value, BigInt(6 * rounds), 'int64 add')
  t.equal(casCounter.value, 2 * rounds, 'compareExchange retry loop')
})
