import t from 'tap'
import { spawn } from 'node:child_process'
import { ManagedSharedMemory, t as types } from '@shmkit/named-store'
import { fixture, runFixture, segmentName } from './helpers/segments.js'

t.test('4 processes x 20,000 random operations on one segment', async (t) => {
  const name = segmentName(t)
  const seg = ManagedSharedMemory.create(name, 32 << 20)
  t.teardown(() => seg.close())
  const free0 = seg.freeMemory
  const counter = seg.construct('counter', types.uint32, 0)
  const results = await Promise.all(
    [0, 1, 2, 3].map((id) => runFixture('child.ts', ['stress', name, String(id), String(1000 + id), '20000'])),
  )
  let adds = 0
  for (const [id, r] of results.entries()) {
    t.equal(r.code, 0, `child ${id} exited cleanly${r.code === 0 ? '' : ': ' + r.stderr}`)
    if (r.code !== 0) continue
    const out = JSON.parse(r.stdout) as { adds: number; objects: Record<string, number> }
    adds += out.adds
    let wrong = 0
    for (const [key, value] of Object.entries(out.objects)) if (seg.find(key, types.int32)?.value !== value) wrong++
    t.equal(wrong, 0, `child ${id}'s objects all exist with their values`)
  }
  t.equal(counter.value, adds, 'the counter equals the number of adds')
  t.ok(seg.checkSanity(), 'checkSanity holds')
  for (const info of seg.names()) seg.destroy(info.name)
  t.equal(seg.numNamedObjects, 0)
  t.ok(seg.allMemoryDeallocated(), 'destroying all leaves every byte free')
  t.equal(seg.freeMemory, free0)
})

t.test('4 processes race to construct the same 1,000 names: each exactly once', async (t) => {
  const name = segmentName(t)
  const seg = ManagedSharedMemory.create(name, 8 << 20)
  t.teardown(() => seg.close())
  const results = await Promise.all([0, 1, 2, 3].map(() => runFixture('child.ts', ['race', name, '1000'])))
  const winners = new Map<number, number>()
  for (const r of results) {
    t.equal(r.code, 0, r.stderr)
    for (const i of JSON.parse(r.stdout) as number[]) winners.set(i, (winners.get(i) ?? 0) + 1)
  }
  t.equal(winners.size, 1000, 'every name was constructed')
  t.ok(
    [...winners.values()].every((n) => n === 1),
    'by exactly one process',
  )
  t.equal(seg.numNamedObjects, 1000)
  t.ok(seg.checkSanity())
})

t.test('a process killed inside withLock does not wedge the others', async (t) => {
  const name = segmentName(t)
  const seg = ManagedSharedMemory.create(name, 1 << 20)
  t.teardown(() => seg.close())
  const child = spawn(process.execPath, ['--import', 'tsx', fixture('child.ts'), 'hold-lock', name], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve())
    child.on('exit', () => reject(new Error('child exited before locking')))
  })
  child.kill('SIGKILL')
  await new Promise((resolve) => child.on('exit', resolve))
  const before = seg.lockRecoveries
  const ran = seg.withLock(() => 'ran')
  t.equal(ran, 'ran', 'the next withLock runs')
  t.equal(seg.lockRecoveries, before + 1, "after taking over the dead owner's lock")
  t.ok(seg.checkSanity())
})

t.test('openOrCreate racing in 4 processes yields one segment, formatted once', async (t) => {
  const name = segmentName(t)
  const results = await Promise.all([0, 1, 2, 3].map(() => runFixture('open-or-create.ts', [name])))
  for (const r of results) t.equal(r.code, 0, r.stderr)
  const seg = ManagedSharedMemory.open(name)
  t.teardown(() => seg.close())
  t.equal(seg.find('hits', types.uint32)?.value, 4, 'all four joined the same segment')
})
