import t from 'tap'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { ManagedSharedMemory, t as types } from '@shmkit/named-store'
import { waitEngine } from '@shmkit/ffi-shm'
import { runFixture, segmentName } from './helpers/segments.js'

t.test('1,000 pending async waits: timers keep ticking, fs keeps working, every wait ends', { timeout: 280_000 }, async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 4 << 20)
  // 800 waits on one semaphore (one kernel wait between them) and 200 on 200 others (200 words).
  const shared = seg.construct('shared', types.semaphore)
  const own = seg.constructArray('own', types.semaphore, 200)
  let resolved = 0
  const waits: Promise<boolean>[] = []
  for (let i = 0; i < 800; i++) waits.push(shared.waitAsync({ timeoutMs: 200_000 }).then((got) => (resolved++, got)))
  for (let i = 0; i < 200; i++)
    waits.push(
      own
        .get(i)
        .waitAsync({ timeoutMs: 200_000 })
        .then((got) => (resolved++, got)),
    )
  t.equal(waitEngine().pending, 1000, 'all 1,000 are pending in the engine')

  let ticks = 0
  const interval = setInterval(() => ticks++, 1)
  t.teardown(() => clearInterval(interval))
  // libuv's pool is not used by the waits: 20 reads of this file complete while they are pending.
  const self = fileURLToPath(import.meta.url)
  const reads = await Promise.all(Array.from({ length: 20 }, () => readFile(self, 'utf8')))
  t.ok(
    reads.every((text) => text.includes('1,000 pending async waits')),
    'fs reads completed',
  )
  const before = ticks
  await new Promise((r) => setTimeout(r, 100))
  t.ok(ticks > before, `the interval timer kept ticking (${ticks - before} ticks)`)
  t.equal(resolved, 0, 'no wait ended on its own')

  shared.post(800)
  for (let i = 0; i < 200; i++) own.get(i).post()
  const results = await Promise.all(waits)
  t.equal(results.filter((got) => got).length, 1000, 'each wait got its unit')
  t.equal(shared.value, 0)
  t.equal(waitEngine().pending, 0)
})

t.test('async waits on a segment closed underneath end with ECLOSED or their timeout, never hang', { timeout: 280_000 }, async (t) => {
  const name = segmentName(t)
  const seg = ManagedSharedMemory.create(name, 1 << 20)
  const sem = seg.construct('s', types.semaphore)
  const m = seg.construct('m', types.mutex)
  using other = ManagedSharedMemory.open(name)
  other.find('m', types.mutex)!.lock()
  const semWait = sem.waitAsync({ timeoutMs: 5_000 })
  const lockWait = m.lockAsync({ timeoutMs: 5_000 })
  await new Promise((r) => setTimeout(r, 20))
  seg.close()
  // Both handlers at once: the second wait may reject while the first is awaited (an unhandled rejection).
  await Promise.all([
    t.rejects(semWait, { name: 'ShmError', code: /ECLOSED|ETIMEDOUT/ }),
    t.rejects(lockWait, { name: 'ShmError', code: /ECLOSED|ETIMEDOUT/ }),
  ])
})

t.test('a process that awaited waits exits by itself once its event loop is empty (waiter threads end at exit)', async (t) => {
  const name = segmentName(t)
  const r = await runFixture('async-wait-exit.ts', [name], { timeoutMs: 60_000 })
  t.equal(r.signal, null, 'not killed after 60 s: it exited by itself')
  t.equal(r.code, 0, r.stderr)
  t.same(JSON.parse(r.stdout), { woken: true, closed: 'ECLOSED' })
})
