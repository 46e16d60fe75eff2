import t from 'tap'
import {
  futexSupported,
  futexWaitAsync,
  futexWake,
  MappedRegion,
  MAX_WAITER_THREADS,
  SharedMemoryObject,
  waitEngine,
} from '@shmkit/ffi-shm'
import { shmName } from './helpers/run.js'

t.test('futexWaitAsync: woken, changed, timeout, abort', { skip: !futexSupported }, async (t) => {
  const name = shmName(t)
  using shm = SharedMemoryObject.create(name)
  shm.truncate(4096)
  using region = new MappedRegion(shm)
  const words = new Int32Array(region.buffer)
  const woken = futexWaitAsync(region, 0, 0)
  // Wake it until the engine's thread is asleep on the word (it starts on first use).
  let n = 0
  const waker = setInterval(() => {
    Atomics.store(words, 0, ++n)
    futexWake(region, 0, 1)
  }, 5)
  t.equal(await woken, 'woken')
  clearInterval(waker)
  t.equal(
    await futexWaitAsync(region, 0, Atomics.load(words, 0) + 1, { timeoutMs: 60_000 }),
    'woken',
    'a word that no longer holds the value ends the wait at once',
  )
  t.equal(await futexWaitAsync(region, 4, 0, { timeoutMs: 20 }), 'timeout')
  t.equal(await futexWaitAsync(region, 4, 0, { timeoutMs: 0 }), 'timeout', 'a zero timeout only looks')
  const ac = new AbortController()
  const aborted = futexWaitAsync(region, 4, 0, { signal: ac.signal })
  ac.abort(new Error('enough'))
  await t.rejects(aborted, { name: 'ShmError', code: 'EABORTED', message: /aborted/, cause: { message: 'enough' } })
  await t.rejects(futexWaitAsync(region, 4, 0, { signal: ac.signal }), { code: 'EABORTED' }, 'an already aborted signal')
  t.equal(waitEngine().pending, 0)
})

t.test(
  `more distinct words than ${MAX_WAITER_THREADS} threads watch: the rest are polled, none is lost`,
  { skip: !futexSupported, timeout: 280_000 },
  async (t) => {
    const name = shmName(t)
    using shm = SharedMemoryObject.create(name)
    shm.truncate(4096)
    using region = new MappedRegion(shm)
    const words = new Int32Array(region.buffer)
    const count = MAX_WAITER_THREADS * 127 + 100
    const waits = Array.from({ length: count }, (_, i) => futexWaitAsync(region, i * 4, 0, { timeoutMs: 200_000 }))
    t.equal(waitEngine().pending, count)
    await new Promise((r) => setTimeout(r, 200))
    for (let i = 0; i < count; i++) {
      Atomics.store(words, i, 1)
      futexWake(region, i * 4, 1)
    }
    const results = await Promise.all(waits)
    t.equal(results.filter((r) => r === 'woken').length, count, 'every wait woken')
  },
)

t.test('bad input', { skip: !futexSupported }, async (t) => {
  const name = shmName(t)
  using shm = SharedMemoryObject.create(name)
  shm.truncate(4096)
  using region = new MappedRegion(shm)
  t.throws(() => futexWaitAsync(region, 2, 0), { name: 'ShmError', code: 'EINVAL', message: /multiple of 4/ })
  t.throws(() => futexWaitAsync(region, 4096, 0), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => futexWaitAsync(region, 0, 2 ** 32), { name: 'ShmError', code: 'EINVAL', message: /invalid expected/ })
  t.throws(() => futexWaitAsync(region, 0, 0, { timeoutMs: -1 }), { name: 'ShmError', code: 'EINVAL', message: /timeoutMs/ })
  t.throws(() => futexWaitAsync(region, 0, 0, { signal: {} as AbortSignal }), { name: 'ShmError', code: 'EINVAL', message: /signal/ })
  t.throws(() => futexWaitAsync(region, 0, 0, { extra: 1 } as never), { name: 'ShmError', code: 'EINVAL' })
  region.close()
  t.throws(() => futexWaitAsync(region, 0, 0), { name: 'ShmError', code: 'ECLOSED' })
})
