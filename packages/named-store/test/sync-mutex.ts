import t from 'tap'
import { ManagedHeapMemory, ManagedSharedMemory, Mutex, t as types } from '@shmkit/named-store'
import { segmentName } from './helpers/segments.js'

t.test('construct, lock, unlock, tryLock, guard', async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 1 << 20)
  const m = seg.construct('m', types.mutex)
  t.ok(m instanceof Mutex)
  t.equal(m.locked, false)
  t.equal(m.lock(), 'acquired')
  t.equal(m.locked, true)
  t.equal(m.heldByMe, true)
  t.equal(m.tryLock(), false, 'tryLock of a held non-recursive mutex is false')
  t.throws(() => m.lock(), { name: 'ShmError', code: 'EDEADLK', message: /already held by this thread/ })
  m.unlock()
  t.equal(m.locked, false)
  t.throws(() => m.unlock(), { name: 'ShmError', code: 'EPERM', message: /does not hold it/ })
  t.equal(m.tryLock(), 'acquired')
  m.unlock()
  {
    using g = m.guard()
    t.equal(g.status, 'acquired')
    t.equal(g.ownerDied, false)
    t.equal(m.locked, true)
  }
  t.equal(m.locked, false, 'the guard unlocked at the end of its block')
  const found = seg.find('m', types.mutex)
  t.ok(found)
  t.equal(found?.offset, m.offset)
  t.same(m.toJSON(), { locked: false, owner: 0, consistent: true, recoverable: true })
  t.match(
    [...seg.names()].find((e) => e.name === 'm'),
    { type: 'mutex' },
  )
})

t.test('a second handle in this process waits, and times out', async (t) => {
  const name = segmentName(t)
  using a = ManagedSharedMemory.create(name, 1 << 20)
  using b = ManagedSharedMemory.open(name)
  const ma = a.construct('m', types.mutex)
  const mb = b.find('m', types.mutex) as Mutex
  ma.lock()
  t.equal(mb.tryLock(), false)
  t.throws(() => mb.lock({ timeoutMs: 30 }), {
    name: 'ShmError',
    code: 'ETIMEDOUT',
    message: /timed out after 30 ms waiting for the mutex/,
  })
  await t.rejects(mb.lockAsync({ timeoutMs: 30 }), { name: 'ShmError', code: 'ETIMEDOUT' })
  const ac = new AbortController()
  const pending = mb.lockAsync({ signal: ac.signal })
  setTimeout(() => ac.abort(new Error('stop')), 20)
  await t.rejects(pending, { name: 'ShmError', code: 'EABORTED' })
  const later = mb.lockAsync()
  setTimeout(() => ma.unlock(), 20)
  t.equal(await later, 'acquired', 'lockAsync gets it once unlocked')
  t.equal(mb.heldByMe, true)
  t.equal(ma.heldByMe, false, 'the other handle does not hold it')
  mb.unlock()
})

t.test('recursive mutex', async (t) => {
  using seg = new ManagedHeapMemory(1 << 16)
  const m = seg.construct('r', types.recursiveMutex)
  t.equal(m.lock(), 'acquired')
  t.equal(m.lock(), 'acquired')
  t.equal(m.tryLock(), 'acquired')
  m.unlock()
  m.unlock()
  t.equal(m.locked, true, 'still held after two of three unlocks')
  m.unlock()
  t.equal(m.locked, false)
  t.throws(() => m.unlock(), { code: 'EPERM' })
})

t.test('in a struct beside the data it guards', async (t) => {
  using seg = new ManagedHeapMemory(1 << 16)
  const Account = types.struct({ lock: types.mutex, balance: types.int32 })
  const acc = seg.construct('acc', Account, { balance: 5 })
  t.ok(acc.lock instanceof Mutex)
  {
    using _ = acc.lock.guard()
    acc.balance += 10
  }
  t.equal(acc.balance, 15)
  t.same(acc.toJSON(), { lock: { locked: false, owner: 0, consistent: true, recoverable: true }, balance: 15 })
  const arr = seg.constructArray('locks', types.mutex, 4)
  t.ok(arr.get(2) instanceof Mutex)
})

t.test('heap memory: waiting on a lock only this thread could release is EDEADLK, not a hang', async (t) => {
  using seg = new ManagedHeapMemory(1 << 16)
  const m = seg.construct('m', types.mutex)
  const other = seg.find('m', types.mutex) as Mutex
  m.lock()
  t.throws(() => other.lock(), { code: 'EDEADLK' })
  m.unlock()
})

t.test('bad input', async (t) => {
  using seg = new ManagedHeapMemory(1 << 16)
  const m = seg.construct('m', types.mutex)
  t.throws(() => seg.construct('m2', types.mutex, 1), { name: 'ShmError', code: 'EINVAL', message: /invalid init: expected nothing/ })
  t.throws(() => m.lock({ timeoutMs: -1 }), { name: 'ShmError', code: 'EINVAL', message: /timeoutMs/ })
  t.throws(() => m.lock({ timeoutMs: 'soon' } as never), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => m.lock({ bogus: 1 } as never), { name: 'ShmError', code: 'EINVAL', message: /bogus/ })
  m.lock()
  await t.rejects(m.lockAsync({ signal: 'x' } as never), { name: 'ShmError', code: 'EINVAL', message: /signal/ })
  m.unlock()
  t.throws(() => seg.find('m', types.condition), { name: 'ShmError', code: 'ETYPE' })
  seg.close()
  t.throws(() => m.lock(), { name: 'ShmError', code: 'ECLOSED' })
  t.throws(() => m.unlock(), { name: 'ShmError', code: 'ECLOSED' })
})

t.test('read-only handles refuse to lock', async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 1 << 20)
  seg.construct('m', types.mutex)
  using ro = ManagedSharedMemory.open(name, { readOnly: true })
  const m = ro.find('m', types.mutex) as Mutex
  t.throws(() => m.lock(), { name: 'ShmError', code: 'EREADONLY' })
  t.equal(m.locked, false)
})
