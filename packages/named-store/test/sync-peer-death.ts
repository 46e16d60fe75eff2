// Condition and semaphore waiters survive the death of other waiters: a peer
// SIGKILLed while asleep in a wait takes nothing with it — the next post or
// notify reaches a live waiter, and no unit is consumed by the dead.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { ManagedSharedMemory } from '@shmkit/named-store'
import { sharedState } from './fixtures/sync-state.js'
import { compiledFixture, segmentName } from './helpers/segments.js'

const WAITERS = 4

interface Waiter {
  child: ChildProcess
  waiting: Promise<void>
  got: Promise<boolean>
  exited: Promise<number | null>
}

function startWaiter(mode: string, name: string): Waiter {
  const child = spawn(process.execPath, [compiledFixture('sync-peer.js'), mode, name], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  let onWaiting: () => void = () => {}
  let onGot: (v: boolean) => void = () => {}
  const waiting = new Promise<void>((resolve) => (onWaiting = resolve))
  const got = new Promise<boolean>((resolve) => (onGot = resolve))
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString()
    if (out.includes('waiting\n')) onWaiting()
    if (out.includes('got\n')) onGot(true)
  })
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      onGot(out.includes('got\n'))
      resolve(code)
    }),
  )
  return { child, waiting, got, exited }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function killAll(waiters: Waiter[]): Promise<void> {
  for (const w of waiters) w.child.kill('SIGKILL')
  await Promise.all(waiters.map((w) => w.exited))
}

for (const mode of ['sem', 'sem-async'] as const) {
  t.test(`semaphore (${mode}): ${WAITERS - 1} of ${WAITERS} waiters killed asleep; each post reaches a live waiter`, async (t) => {
    const name = segmentName(t)
    using seg = ManagedSharedMemory.create(name, 1 << 20)
    const s = seg.construct('shared', sharedState)
    const waiters = Array.from({ length: WAITERS }, () => startWaiter(mode, name))
    t.teardown(() => killAll(waiters))
    await Promise.all(waiters.map((w) => w.waiting))
    await sleep(300) // asleep in the kernel (or the wait engine) by now
    const [survivor, ...victims] = waiters as [Waiter, ...Waiter[]]
    await killAll(victims)
    s.sem.post()
    t.equal(await survivor.got, true, 'the live waiter got the unit')
    t.equal(await survivor.exited, 0)
    t.equal(s.sem.value, 0, 'exactly one unit was taken')
    // The dead took nothing: a unit posted now stays until someone takes it, and a new waiter gets it.
    s.sem.post()
    t.equal(s.sem.value, 1)
    const late = startWaiter(mode, name)
    t.teardown(() => killAll([late]))
    t.equal(await late.got, true)
    t.equal(s.sem.value, 0)
    t.equal(s.sem.tryWait(), false)
  })
}

for (const mode of ['cond', 'cond-async'] as const) {
  t.test(`condition (${mode}): ${WAITERS - 1} of ${WAITERS} waiters killed asleep; notifyOne wakes the live one`, async (t) => {
    const name = segmentName(t)
    using seg = ManagedSharedMemory.create(name, 1 << 20)
    const s = seg.construct('shared', sharedState)
    const waiters = Array.from({ length: WAITERS }, () => startWaiter(mode, name))
    t.teardown(() => killAll(waiters))
    await Promise.all(waiters.map((w) => w.waiting))
    await sleep(300)
    t.equal(s.cond.waiters, WAITERS, 'all of them counted in')
    const [survivor, ...victims] = waiters as [Waiter, ...Waiter[]]
    await killAll(victims)
    // The dead were asleep, not holding the mutex: it is free and consistent.
    t.equal(s.lock.lock(), 'acquired')
    s.turn = 1
    s.cond.notifyOne()
    s.lock.unlock()
    t.equal(await survivor.got, true, 'the live waiter was woken and took its turn')
    t.equal(await survivor.exited, 0)
    t.equal(s.lock.lock(), 'acquired')
    t.equal(s.turn, 0, 'one turn taken, by the live waiter')
    s.lock.unlock()
    // The dead still count (the snapshot says "may be waiting"): it costs spare wake calls, never a lost wake.
    t.equal(s.cond.waiters, WAITERS - 1)
    const late = startWaiter(mode, name)
    t.teardown(() => killAll([late]))
    await late.waiting
    await sleep(100)
    s.lock.lock()
    s.turn = 1
    s.cond.notifyOne()
    s.lock.unlock()
    t.equal(await late.got, true, 'a waiter that came later is woken too')
  })
}
