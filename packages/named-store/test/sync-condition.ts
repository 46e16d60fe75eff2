import t from 'tap'
import { Condition, ManagedHeapMemory, ManagedSharedMemory, t as types } from '@shmkit/named-store'
import { runFixture, segmentName } from './helpers/segments.js'
import { sharedState } from './fixtures/sync-state.js'

t.test('wait and notify between handles, with timeouts', async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 1 << 20)
  const s = seg.construct('shared', sharedState)
  t.ok(s.cond instanceof Condition)
  s.lock.lock()
  t.equal(s.cond.wait(s.lock, { timeoutMs: 20 }), 'timed-out')
  t.equal(s.lock.heldByMe, true, 'the mutex is held again after a timed-out wait')
  t.equal(await s.cond.waitAsync(s.lock, { timeoutMs: 20 }), 'timed-out')
  t.equal(s.lock.heldByMe, true)
  s.lock.unlock()

  using other = ManagedSharedMemory.open(name)
  const o = other.find('shared', sharedState)!
  // An async waiter in this thread, a notifier through the other handle.
  const waiter = (async () => {
    await s.lock.lockAsync()
    while (s.turn !== 1) await s.cond.waitAsync(s.lock, { timeoutMs: 60_000 })
    s.turn = 2
    s.lock.unlock()
  })()
  await new Promise((r) => setTimeout(r, 30))
  await o.lock.lockAsync()
  o.turn = 1
  o.cond.notifyOne()
  o.lock.unlock()
  await waiter
  t.equal(o.turn, 2)
  t.equal(s.cond.waiters, 0)
})

t.test('abort relocks the mutex before rejecting', async (t) => {
  using seg = new ManagedHeapMemory(1 << 16)
  const s = seg.construct('shared', sharedState)
  s.lock.lock()
  const ac = new AbortController()
  const p = s.cond.waitAsync(s.lock, { signal: ac.signal })
  t.equal(s.lock.locked, false, 'released while waiting')
  ac.abort()
  await t.rejects(p, { name: 'ShmError', code: 'EABORTED' })
  t.equal(s.lock.heldByMe, true)
  s.lock.unlock()
})

t.test('a child waits, the parent notifies', { timeout: 280_000 }, async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 1 << 20)
  const s = seg.construct('shared', sharedState)
  const child = runFixture('sync-child.ts', ['cond-wait', name])
  while (s.cond.waiters === 0) await new Promise((r) => setTimeout(r, 10))
  await s.lock.lockAsync()
  s.turn = 1
  s.cond.notifyAll()
  while (s.turn !== 2) await s.cond.waitAsync(s.lock, { timeoutMs: 60_000 })
  s.lock.unlock()
  const r = await child
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /done/)
})

t.test('bad input', async (t) => {
  using seg = new ManagedHeapMemory(1 << 16)
  const s = seg.construct('shared', sharedState)
  t.throws(() => s.cond.wait(s.lock), { name: 'ShmError', code: 'EPERM', message: /the mutex is not held by this thread/ })
  await t.rejects(s.cond.waitAsync(s.lock), { name: 'ShmError', code: 'EPERM' })
  t.throws(() => s.cond.wait({} as never), { name: 'ShmError', code: 'EINVAL', message: /invalid mutex/ })
  s.lock.lock()
  t.throws(() => s.cond.wait(s.lock), { name: 'ShmError', code: 'EDEADLK' }, 'no timeout on heap memory: nobody could notify')
  t.equal(s.lock.heldByMe, true)
  t.throws(() => s.cond.wait(s.lock, { timeoutMs: -5 }), { name: 'ShmError', code: 'EINVAL', message: /timeoutMs/ })
  const r = seg.construct('r', types.recursiveMutex)
  r.lock()
  r.lock()
  t.throws(() => s.cond.wait(r, { timeoutMs: 1 }), { name: 'ShmError', code: 'EINVAL', message: /locked more than once/ })
  t.equal(s.cond.waiters, 0, 'a refused wait leaves no waiter counted')
  using other = new ManagedHeapMemory(1 << 16)
  const m2 = other.construct('m', types.mutex)
  m2.lock()
  t.throws(() => s.cond.wait(m2), { name: 'ShmError', code: 'EINVAL', message: /same segment/ })
})
