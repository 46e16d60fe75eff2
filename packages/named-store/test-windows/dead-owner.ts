// A Windows process killed (TerminateProcess) while it holds the segment lock:
// the next locker sees from pid + start time (OpenProcess/GetProcessTimes)
// that the owner is dead, takes the lock over and carries on.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { ManagedSharedMemory, ManagedWindowsSharedMemory, type SegmentManager, t as types } from '@shmkit/named-store'
import { fixture, uniqueName } from './helpers.js'

async function killWhileLocked(kind: 'portable' | 'native', name: string): Promise<void> {
  const child = spawn(process.execPath, [fixture('worker.js'), kind, name, 'hold-lock'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve())
    child.on('exit', () => reject(new Error(`child exited before locking: ${err}`)))
  })
  const exited = new Promise((resolve) => child.on('exit', resolve))
  child.kill() // TerminateProcess on Windows: no cleanup runs
  await exited
}

for (const kind of ['portable', 'native'] as const) {
  test(`${kind}: a process killed inside withLock does not wedge the others`, async (t) => {
    const name = uniqueName()
    if (kind === 'portable') t.after(() => ManagedSharedMemory.remove(name))
    const seg: SegmentManager =
      kind === 'native'
        ? ManagedWindowsSharedMemory.create(name, 1 << 20)
        : ManagedSharedMemory.create(name, 1 << 20, { lock: { ownerCheckMs: 5 } })
    t.after(() => seg.close())
    seg.construct('before', types.int32, 1)
    await killWhileLocked(kind, name)
    const recoveries = seg.lockRecoveries
    assert.equal(
      seg.withLock(() => 'ran'),
      'ran',
      'the next withLock runs',
    )
    assert.equal(seg.lockRecoveries, recoveries + 1, "by taking the dead owner's lock over")
    assert.equal(seg.find('before', types.int32)?.value, 1)
    seg.construct('after', types.int32, 2)
    assert.ok(seg.checkSanity())
  })
}

test('a live owner is never taken over: a locker waits, then times out', async (t) => {
  const name = uniqueName()
  t.after(() => ManagedSharedMemory.remove(name))
  const seg = ManagedSharedMemory.create(name, 1 << 20)
  t.after(() => seg.close())
  const child = spawn(process.execPath, [fixture('worker.js'), 'portable', name, 'hold-lock'], { stdio: ['ignore', 'pipe', 'ignore'] })
  t.after(() => child.kill())
  await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve()))
  const waiter = ManagedSharedMemory.open(name, { lock: { timeoutMs: 1500, ownerCheckMs: 5 } })
  t.after(() => waiter.close())
  assert.throws(() => waiter.withLock(() => 'stolen'), {
    name: 'ShmError',
    code: 'ETIMEDOUT',
    message: new RegExp(`held by pid ${child.pid}`),
  })
  assert.equal(waiter.lockRecoveries, 0)
})
