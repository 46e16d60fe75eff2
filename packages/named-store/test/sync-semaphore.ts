import t from 'tap'
import { ManagedHeapMemory, ManagedSharedMemory, Semaphore, t as types } from '@shmkit/named-store'
import { runFixture, segmentName } from './helpers/segments.js'
import { sharedState } from './fixtures/sync-state.js'

t.test('post, tryWait, wait with a timeout, waitAsync', async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 1 << 20)
  const sem = seg.construct('s', types.semaphore, 2)
  t.ok(sem instanceof Semaphore)
  t.equal(sem.value, 2)
  t.equal(sem.tryWait(), true)
  t.equal(sem.wait(), true)
  t.equal(sem.tryWait(), false)
  t.equal(sem.wait({ timeoutMs: 20 }), false, 'a timed wait with no unit answers false')
  t.equal(await sem.waitAsync({ timeoutMs: 20 }), false)
  const pending = sem.waitAsync()
  setTimeout(() => sem.post(), 20)
  t.equal(await pending, true, 'waitAsync gets a unit posted later')
  t.equal(sem.value, 0)
  const ac = new AbortController()
  const aborted = sem.waitAsync({ signal: ac.signal })
  setTimeout(() => ac.abort(), 20)
  await t.rejects(aborted, { name: 'ShmError', code: 'EABORTED' })
  sem.post(3)
  t.equal(sem.value, 3, 'an aborted wait took nothing')
  t.same(sem.toJSON(), { value: 3, waiters: 0 })
  t.equal(seg.find('s', types.semaphore)?.value, 3)
})

t.test('many async waiters: each post wakes exactly as many as it posts', async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 1 << 20)
  const sem = seg.construct('s', types.semaphore)
  let done = 0
  const waits = Array.from({ length: 50 }, () => sem.waitAsync({ timeoutMs: 120_000 }).then((got) => (got ? done++ : 0)))
  await new Promise((r) => setTimeout(r, 50))
  t.equal(done, 0)
  sem.post(20)
  while (done < 20) await new Promise((r) => setTimeout(r, 5))
  await new Promise((r) => setTimeout(r, 50))
  t.equal(done, 20, 'twenty units, twenty waiters through')
  sem.post(30)
  await Promise.all(waits)
  t.equal(done, 50)
  t.equal(sem.value, 0)
})

t.test('bad input', async (t) => {
  using seg = new ManagedHeapMemory(1 << 16)
  t.throws(() => seg.construct('s', types.semaphore, -1), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /initial count from 0 to 2147483647/,
  })
  t.throws(() => seg.construct('s', types.semaphore, 1.5), { name: 'ShmError', code: 'EINVAL' })
  const sem = seg.construct('s', types.semaphore, 2 ** 31 - 1)
  t.throws(() => sem.post(), { name: 'ShmError', code: 'EINVAL', message: /would pass 2147483647/ })
  t.throws(() => sem.post(0), { name: 'ShmError', code: 'EINVAL', message: /invalid n/ })
  t.throws(() => sem.post(Number.NaN), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => sem.wait({ timeoutMs: Number.POSITIVE_INFINITY }), { name: 'ShmError', code: 'EINVAL' })
  const empty = seg.construct('e', types.semaphore)
  t.throws(() => empty.wait(), { name: 'ShmError', code: 'EDEADLK', message: /would never end/ })
  const later = empty.waitAsync()
  empty.post()
  t.equal(await later, true, 'heap memory: an async wait is woken by a post from this thread')
})

t.test('4 processes take exactly the units 2 others post', { timeout: 280_000 }, async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 1 << 20)
  const s = seg.construct('shared', sharedState)
  const takers = [0, 1, 2, 3].map(() => runFixture('sync-child.ts', ['sem-take', name, '500']))
  const posters = [0, 1].map(() => runFixture('sync-child.ts', ['sem-post', name, '1000']))
  const results = await Promise.all([...takers, ...posters])
  for (const r of results) t.equal(r.code, 0, r.stderr)
  const got = results.slice(0, 4).reduce((a, r) => a + (JSON.parse(r.stdout.trim()) as { got: number }).got, 0)
  t.equal(got, 2000, 'every unit taken once')
  t.equal(s.sem.value, 0, 'none left over, none made up')
})
