import t from 'tap'
import { ManagedSharedMemory } from '@shmkit/named-store'
import { segmentName, startFixture, type RunningFixture } from './helpers/segments.js'
import { sharedState } from './fixtures/sync-state.js'

const soakSeconds = Number(process.env.SHMKIT_SOAK_SECONDS ?? 0)

const start = (mode: string, name: string): RunningFixture => startFixture('sync-child.ts', [mode, name])

t.test('an owner SIGKILLed while holding: the next locker gets the lock and is told', { timeout: 280_000 }, async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 1 << 20)
  const s = seg.construct('shared', sharedState)
  const holder = start('hold', name)
  t.teardown(() => void holder.child.kill('SIGKILL'))
  await holder.ready
  t.equal(s.lock.tryLock(), false, 'held by a live process')
  holder.child.kill('SIGKILL')
  await holder.closed
  t.equal(await s.lock.lockAsync({ timeoutMs: 60_000 }), 'owner-died')
  t.equal(s.lock.consistent, false)
  s.lock.markConsistent()
  t.equal(s.lock.consistent, true)
  s.lock.unlock()
  t.equal(s.lock.lock(), 'acquired', 'repaired: an ordinary lock again')
  s.lock.unlock()
})

t.test("unlocking a dead owner's lock without markConsistent makes it unrecoverable", { timeout: 280_000 }, async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 1 << 20)
  const s = seg.construct('shared', sharedState)
  const holder = start('hold', name)
  t.teardown(() => void holder.child.kill('SIGKILL'))
  await holder.ready
  holder.child.kill('SIGKILL')
  await holder.closed
  t.equal(s.lock.lock({ timeoutMs: 60_000 }), 'owner-died')
  s.lock.unlock()
  t.throws(() => s.lock.lock(), { name: 'ShmError', code: 'ENOTRECOVERABLE', message: /not recoverable/ })
  t.equal(s.lock.locked, false, 'the refused locker did not keep it')
  await t.rejects(s.lock.lockAsync(), { code: 'ENOTRECOVERABLE' })
})

t.test('a stopped (SIGSTOP) owner is not taken over', { timeout: 280_000 }, async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 1 << 20)
  const s = seg.construct('shared', sharedState)
  const holder = start('hold', name)
  t.teardown(() => void holder.child.kill('SIGKILL'))
  await holder.ready
  holder.child.kill('SIGSTOP')
  t.throws(
    () => s.lock.lock({ timeoutMs: 600 }),
    { name: 'ShmError', code: 'ETIMEDOUT' },
    'waits past several liveness checks without taking over',
  )
  await t.rejects(s.lock.lockAsync({ timeoutMs: 600 }), { code: 'ETIMEDOUT' })
  t.equal(s.lock.tryLock(), false)
  holder.child.kill('SIGCONT')
  holder.child.kill('SIGKILL')
  await holder.closed
  t.equal(s.lock.lock({ timeoutMs: 60_000 }), 'owner-died')
  s.lock.markConsistent()
  s.lock.unlock()
})

t.test('processes SIGKILLed at random instants (holding, waiting, outside): no wedge, no wrong answer', { timeout: 280_000 }, async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 1 << 20)
  const s = seg.construct('shared', sharedState)
  const kills = soakSeconds > 0 ? 200 : 12
  const workers = [start('count-forever', name), start('count-forever', name), start('count-forever', name)]
  t.teardown(() => {
    for (const w of workers) w.child.kill('SIGKILL')
  })
  await Promise.all(workers.map((w) => w.ready))
  let wrongs = 0
  for (let k = 0; k < kills; k++) {
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 150))
    const i = Math.floor(Math.random() * workers.length)
    const victim = workers[i]!
    victim.child.kill('SIGKILL')
    await victim.closed
    wrongs += (victim.out().match(/wrong/g) ?? []).length
    const before = s.counter
    // The survivors keep counting: the lock is never wedged.
    const deadline = Date.now() + 60_000
    while (s.counter === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    t.ok(s.counter > before, `kill ${k + 1}: the others go on`)
    workers[i] = start('count-forever', name)
    await workers[i]!.ready
  }
  for (const w of workers) w.child.kill('SIGKILL')
  await Promise.all(workers.map((w) => w.closed))
  wrongs += workers.reduce((a, w) => a + (w.out().match(/wrong/g) ?? []).length, 0)
  t.equal(wrongs, 0, 'no critical section saw a half-done update it was not told about')
  const status = await s.lock.lockAsync({ timeoutMs: 60_000 })
  if (status === 'owner-died') {
    s.mirror = s.counter * 2
    s.dirty = 0
    s.lock.markConsistent()
  }
  t.equal(s.mirror, s.counter * 2, 'the guarded pair is consistent')
  s.lock.unlock()
})
