import t from 'tap'
import {
  createSegmentMemory,
  ManagedHeapMemory,
  ManagedSharedMemory,
  RWLOCK_BYTES,
  RWLOCK_READERS,
  RwLock,
  t as types,
  typeFromName,
  type LockStatus,
} from '@shmkit/named-store'
import { runFixture, segmentName, startFixture, type RunningFixture } from './helpers/segments.js'
import { rwState } from './fixtures/rwlock-state.js'

type Child = RunningFixture

/** Starts rwlock-child.ts; `ready` once it printed held/started. Killed (and resumed first, if stopped) in teardown. */
const start = (t: Parameters<typeof startFixture>[2], mode: string, name: string, ...args: string[]): Child =>
  startFixture('rwlock-child.ts', [mode, name, ...args], t)

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

t.test('many readers at once, one writer, guards, EPERM, EDEADLK, toJSON', async (t) => {
  const name = segmentName(t)
  using a = ManagedSharedMemory.create(name, 1 << 20)
  using b = ManagedSharedMemory.open(name)
  const ra = a.construct('rw', types.rwlock)
  const rb = b.find('rw', types.rwlock) as RwLock
  t.ok(ra instanceof RwLock)
  t.equal(RWLOCK_BYTES, 256)
  t.equal(types.rwlock.size, 256)
  t.equal(types.rwlock.align, 4)
  t.same(ra.toJSON(), { locked: false, owner: 0, readers: 0, consistent: true, recoverable: true })

  t.equal(ra.lockShared(), 'acquired')
  t.equal(rb.lockShared(), 'acquired')
  t.equal(ra.tryLockShared(), 'acquired', 'a second shared hold of the same handle')
  t.equal(ra.readers, 3)
  t.equal(rb.readers, 3)
  t.equal(ra.locked, false)
  t.equal(ra.heldByMe, false, 'heldByMe is about exclusive holds')
  t.equal(rb.tryLock(), false, 'no writer while readers are in')
  t.equal(ra.tryLock(), false)
  t.throws(() => ra.lock(), { name: 'ShmError', code: 'EDEADLK', message: /held shared by this handle/ })
  t.throws(() => ra.lock({ timeoutMs: 10 }), { code: 'EDEADLK' }, 'even with a timeout: it would wait for itself')
  await t.rejects(ra.lockAsync(), { code: 'EDEADLK' })
  ra.unlockShared()
  ra.unlockShared()
  t.throws(() => ra.unlockShared(), { name: 'ShmError', code: 'EPERM', message: /does not hold it shared/ })
  t.equal(ra.readers, 1)
  t.throws(() => ra.lock(), { name: 'ShmError', code: 'EDEADLK', message: /another handle of this thread/ })
  t.equal(ra.tryLockShared(), 'acquired', 'the refused writer gave the writer word back')
  ra.unlockShared()
  rb.unlockShared()
  t.equal(ra.readers, 0)

  t.equal(ra.lock(), 'acquired')
  t.equal(ra.heldByMe, true)
  t.equal(rb.heldByMe, false)
  t.equal(ra.locked, true)
  t.match(ra.toJSON(), { locked: true, owner: ra.mem.liveness?.token, readers: 0, consistent: true, recoverable: true })
  t.equal(rb.tryLockShared(), false, 'no reader while a writer holds it')
  t.equal(rb.tryLock(), false)
  t.equal(ra.tryLock(), false)
  t.equal(ra.tryLockShared(), false)
  t.throws(() => ra.lock(), { code: 'EDEADLK', message: /already held by this thread/ })
  t.throws(() => ra.lockShared(), { code: 'EDEADLK', message: /held exclusively by this thread/ })
  t.throws(() => ra.lockShared({ timeoutMs: 10 }), { code: 'EDEADLK' })
  t.throws(() => rb.lockShared(), { code: 'EDEADLK', message: /another handle of this thread/ })
  t.throws(() => rb.lock(), { code: 'EDEADLK', message: /another handle of this thread/ })
  t.throws(() => rb.unlock(), { name: 'ShmError', code: 'EPERM', message: /does not hold it exclusively/ })
  t.throws(() => rb.markConsistent(), { code: 'EPERM' })
  t.throws(() => ra.unlockShared(), { code: 'EPERM' })
  ra.markConsistent()
  ra.unlock()
  t.throws(() => ra.unlock(), { code: 'EPERM' })
  t.equal(ra.locked, false)

  {
    using g = ra.guard()
    t.equal(g.status, 'acquired')
    t.equal(g.ownerDied, false)
    t.equal(ra.locked, true)
    g.markConsistent()
  }
  t.equal(ra.locked, false, 'the guard unlocked at the end of its block')
  {
    using g1 = ra.sharedGuard()
    using g2 = rb.sharedGuard({ timeoutMs: 100 })
    t.equal(g1.status, 'acquired')
    t.equal(g2.ownerDied, false)
    t.equal(ra.readers, 2)
    g1.unlock()
    g1.unlock()
    t.equal(ra.readers, 1, 'unlock, then disposing, releases once')
  }
  t.equal(ra.readers, 0)
  {
    using g = await ra.guardAsync({ timeoutMs: 100 })
    t.equal(g.status, 'acquired')
    t.equal(rb.tryLockShared(), false)
  }
  {
    using g = await rb.sharedGuardAsync()
    t.equal(g.status, 'acquired')
    t.equal(ra.tryLockShared(), 'acquired')
    ra.unlockShared()
  }
  t.same(ra.toJSON(), { locked: false, owner: 0, readers: 0, consistent: true, recoverable: true })
  t.match(
    [...a.names()].find((e) => e.name === 'rw'),
    { type: 'rwlock' },
  )
})

t.test(`${RWLOCK_READERS} shared holds at once; the next one waits for a slot`, async (t) => {
  const name = segmentName(t)
  using a = ManagedSharedMemory.create(name, 1 << 20)
  using b = ManagedSharedMemory.open(name)
  const ra = a.construct('rw', types.rwlock)
  const rb = b.find('rw', types.rwlock) as RwLock
  for (let i = 0; i < RWLOCK_READERS; i++) t.equal(ra.tryLockShared(), 'acquired', `hold ${i + 1}`, { diagnostic: false })
  t.equal(ra.readers, RWLOCK_READERS)
  t.equal(ra.tryLockShared(), false, 'the 61st shared hold does not fit')
  t.equal(rb.tryLockShared(), false)
  t.throws(() => rb.lockShared({ timeoutMs: 30 }), { code: 'ETIMEDOUT', message: /free reader slot/ })
  t.throws(() => rb.lockShared(), { code: 'EDEADLK', message: /held by this thread/ }, 'only this thread could free one')
  const waiting = rb.lockSharedAsync({ timeoutMs: 10_000 })
  await sleep(20)
  ra.unlockShared()
  t.equal(await waiting, 'acquired', 'a slot freed: the waiting reader got it')
  rb.unlockShared()
  for (let i = 1; i < RWLOCK_READERS; i++) ra.unlockShared()
  t.equal(ra.readers, 0)
  t.throws(() => ra.unlockShared(), { code: 'EPERM' })
})

t.test('timeouts: a writer that gives up lets readers in again; a reader times out on a writer', async (t) => {
  const name = segmentName(t)
  using a = ManagedSharedMemory.create(name, 1 << 20)
  using b = ManagedSharedMemory.open(name)
  using c = ManagedSharedMemory.open(name)
  const ra = a.construct('rw', types.rwlock)
  const rb = b.find('rw', types.rwlock) as RwLock
  const rc = c.find('rw', types.rwlock) as RwLock
  rb.lockShared()
  t.throws(() => ra.lock({ timeoutMs: 50 }), {
    name: 'ShmError',
    code: 'ETIMEDOUT',
    message: /readers of the rwlock .* to leave \(1 still in\)/,
  })
  t.equal(rc.tryLockShared(), 'acquired', 'new readers enter after the writer timed out')
  rc.unlockShared()
  await t.rejects(ra.lockAsync({ timeoutMs: 50 }), { code: 'ETIMEDOUT' })
  t.equal(rc.lockShared({ timeoutMs: 1000 }), 'acquired')
  rc.unlockShared()

  // Writer-preferring: a waiting writer keeps new readers out until the readers in leave.
  const writer = ra.lockAsync({ timeoutMs: 10_000 })
  await sleep(20)
  t.equal(rc.tryLockShared(), false, 'a waiting writer keeps new readers out')
  t.equal(ra.locked, false, 'not held yet: a reader is still in')
  rb.unlockShared()
  t.equal(await writer, 'acquired')
  t.equal(ra.heldByMe, true)

  t.throws(() => rb.lockShared({ timeoutMs: 50 }), { name: 'ShmError', code: 'ETIMEDOUT', message: /held by writer/ })
  await t.rejects(rb.lockSharedAsync({ timeoutMs: 50 }), { code: 'ETIMEDOUT' })
  t.throws(() => rb.lock({ timeoutMs: 50 }), { code: 'ETIMEDOUT', message: /held by owner/ })
  const reader = rb.lockSharedAsync({ timeoutMs: 10_000 })
  await sleep(20)
  ra.unlock()
  t.equal(await reader, 'acquired', 'unlock wakes the waiting reader')
  rb.unlockShared()

  // Aborted while waiting for readers: the writer word is given back as well.
  rb.lockShared()
  const ac = new AbortController()
  const aborted = ra.lockAsync({ signal: ac.signal })
  await sleep(20)
  t.equal(rc.tryLockShared(), false)
  ac.abort(new Error('stop'))
  await t.rejects(aborted, { name: 'ShmError', code: 'EABORTED' })
  t.equal(rc.tryLockShared(), 'acquired', 'readers enter after the writer was aborted')
  rc.unlockShared()
  rb.unlockShared()
  t.same(ra.toJSON(), { locked: false, owner: 0, readers: 0, consistent: true, recoverable: true })
})

t.test("a writer that comes in between a reader's look at the writer word and its slot: the reader backs off", async (t) => {
  // Two views over one buffer with owners of their own; the reader's memory runs the writer's
  // tryLock() on its second read of mem.i32 — after the reader saw no writer, before it claims a
  // slot — which is the window a reader and a writer arriving together can hit in two processes.
  const buffer = new SharedArrayBuffer(RWLOCK_BYTES)
  const owner = (token: number) => ({ token, stateOf: () => 'alive' as const, isHeldHere: () => false })
  const readerMem = createSegmentMemory(buffer, { readOnly: false, target: 'reader view' })
  const writerMem = createSegmentMemory(buffer, { readOnly: false, target: 'writer view' })
  readerMem.liveness = owner(1)
  writerMem.liveness = owner(2)
  const reader = new RwLock(readerMem, 0)
  const writer = new RwLock(writerMem, 0)
  const i32 = readerMem.i32
  let reads = 0
  let writerGot: LockStatus | false | undefined
  Object.defineProperty(readerMem, 'i32', {
    get: () => {
      if (++reads === 2) writerGot = writer.tryLock()
      return i32
    },
  })
  t.equal(reader.tryLockShared(), false, 'the reader saw the writer when it looked again, and backed off')
  t.equal(writerGot, 'acquired', 'the writer came in between, finding no reader')
  t.equal(writer.readers, 0, 'the slot was given back')
  t.throws(() => reader.unlockShared(), { code: 'EPERM' })
  writer.unlock()
  t.equal(reader.tryLockShared(), 'acquired', 'no writer now: the reader enters')
  t.equal(writer.tryLock(), false)
  reader.unlockShared()
})

t.test('in a struct beside the data, in heap memory, by name', async (t) => {
  using seg = new ManagedHeapMemory(1 << 16)
  const Account = types.struct({ lock: types.rwlock, n: types.int64 })
  t.equal(Account.name, 'struct{lock:rwlock,n:int64}')
  t.equal(Account.size, 264)
  const acc = seg.construct('acc', Account, { n: 5n })
  t.ok(acc.lock instanceof RwLock)
  {
    using _ = acc.lock.guard()
    acc.n += 10n
  }
  {
    using g = acc.lock.sharedGuard()
    t.equal(g.status, 'acquired')
    t.equal(acc.n, 15n)
  }
  t.same(acc.toJSON(), { lock: { locked: false, owner: 0, readers: 0, consistent: true, recoverable: true }, n: 15n })

  const rw = seg.construct('rw', types.rwlock)
  const other = seg.find('rw', types.rwlock) as RwLock
  t.equal(other.offset, rw.offset)
  t.equal(rw.lockShared(), 'acquired')
  t.equal(other.lockShared(), 'acquired', 'another view of the same handle: a second shared hold')
  t.equal(rw.readers, 2)
  t.throws(() => other.lock(), { code: 'EDEADLK' })
  other.unlockShared()
  rw.unlockShared()
  t.throws(() => rw.unlockShared(), { code: 'EPERM' })
  t.equal(rw.lock(), 'acquired')
  t.throws(() => other.lockShared(), { code: 'EDEADLK' })
  t.throws(() => other.lockShared({ timeoutMs: 5 }), { code: 'EDEADLK' })
  t.equal(other.heldByMe, true, 'the same handle holds it')
  other.unlock()
  t.equal(rw.locked, false)
  const arr = seg.constructArray('locks', types.rwlock, 3)
  t.ok(arr.get(2) instanceof RwLock)
  t.equal(arr.get(1).offset - arr.get(0).offset, 256)

  t.equal(typeFromName('rwlock'), types.rwlock)
  t.equal(typeFromName('struct{lock:rwlock,n:int64}').size, 264)
  t.match(
    [...seg.names()].find((e) => e.name === 'rw'),
    { type: 'rwlock' },
  )
  t.throws(() => seg.find('rw', types.mutex), { name: 'ShmError', code: 'ETYPE' })
  t.throws(() => seg.find('acc', types.struct({ lock: types.mutex, n: types.int64 })), { code: 'ETYPE' })
})

t.test('bad input, closed and read-only handles', async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 1 << 20)
  const rw = seg.construct('rw', types.rwlock)
  t.throws(() => seg.construct('rw2', types.rwlock, 1 as never), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /invalid init: expected nothing/,
  })
  for (const bad of [{ timeoutMs: -1 }, { timeoutMs: 'soon' }, { bogus: 1 }, 5]) {
    t.throws(() => rw.lock(bad as never), { name: 'ShmError', code: 'EINVAL' })
    t.throws(() => rw.lockShared(bad as never), { name: 'ShmError', code: 'EINVAL' })
    t.throws(() => rw.guard(bad as never), { name: 'ShmError', code: 'EINVAL' })
    t.throws(() => rw.sharedGuard(bad as never), { name: 'ShmError', code: 'EINVAL' })
    await t.rejects(rw.lockAsync(bad as never), { name: 'ShmError', code: 'EINVAL' })
    await t.rejects(rw.lockSharedAsync(bad as never), { name: 'ShmError', code: 'EINVAL' })
  }
  t.throws(() => rw.lock({ bogus: 1 } as never), { message: /bogus/ })
  await t.rejects(rw.lockSharedAsync({ signal: 'x' } as never), { code: 'EINVAL', message: /signal/ })
  await t.rejects(rw.sharedGuardAsync({ timeoutMs: -1 }), { code: 'EINVAL' })
  await t.rejects(rw.guardAsync({ timeoutMs: -1 }), { code: 'EINVAL' })
  t.same(rw.toJSON(), { locked: false, owner: 0, readers: 0, consistent: true, recoverable: true }, 'refused options took nothing')

  using ro = ManagedSharedMemory.open(name, { readOnly: true })
  const rrw = ro.find('rw', types.rwlock) as RwLock
  t.throws(() => rrw.lock(), { code: 'EREADONLY' })
  t.throws(() => rrw.lockShared(), { code: 'EREADONLY' })
  t.throws(() => rrw.tryLockShared(), { code: 'EREADONLY' })
  t.equal(rrw.readers, 0)

  const other = ManagedSharedMemory.open(name)
  const orw = other.find('rw', types.rwlock) as RwLock
  orw.lockShared()
  other.close()
  t.throws(() => orw.lockShared(), { code: 'ECLOSED' })
  t.throws(() => orw.unlockShared(), { code: 'ECLOSED' })
  t.throws(() => orw.toJSON(), { code: 'ECLOSED' })
  t.equal(rw.readers, 1, "a closed handle's slot stays until a writer finds its owner dead")
  t.equal(rw.lock({ timeoutMs: 10_000 }), 'acquired', 'a closed reader is dead: its slot is freed, nothing to repair')
  t.equal(rw.readers, 0)
  rw.unlock()
})

t.test('async waits end when another process lets go; the event loop keeps running', { timeout: 120_000 }, async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 1 << 20)
  const s = seg.construct('shared', rwState)
  let ticks = 0
  const interval = setInterval(() => ticks++, 5)
  t.teardown(() => clearInterval(interval))

  const writer = start(t, 'hold-for', name, '400')
  await writer.ready
  t.equal(s.lock.tryLockShared(), false, 'a writer in another process holds it')
  ticks = 0
  t.equal(await s.lock.lockSharedAsync({ timeoutMs: 60_000 }), 'acquired')
  t.ok(ticks > 5, `timers ran while the reader waited (${ticks} ticks)`)
  s.lock.unlockShared()
  await writer.closed
  t.match(writer.out(), /released/, 'the child let go by itself (it printed after unlocking)')

  const reader = start(t, 'hold-shared-for', name, '400')
  await reader.ready
  t.equal(s.lock.tryLock(), false, 'a reader in another process holds it')
  ticks = 0
  t.equal(await s.lock.lockAsync({ timeoutMs: 60_000 }), 'acquired')
  t.ok(ticks > 5, `timers ran while the writer waited (${ticks} ticks)`)
  s.lock.unlock()
  await reader.closed
  t.match(reader.out(), /released/, 'the child let go by itself (it printed after unlocking)')

  const holder = start(t, 'hold', name)
  await holder.ready
  const ac = new AbortController()
  const pending = s.lock.lockSharedAsync({ signal: ac.signal })
  setTimeout(() => ac.abort(new Error('stop')), 50)
  await t.rejects(pending, { name: 'ShmError', code: 'EABORTED' })
  const ac2 = new AbortController()
  const pending2 = s.lock.lockAsync({ signal: ac2.signal })
  setTimeout(() => ac2.abort(new Error('stop')), 50)
  await t.rejects(pending2, { name: 'ShmError', code: 'EABORTED' })
  t.equal(s.lock.readers, 0)
})

t.test(
  '3 processes reading and writing a pair under one rwlock: no reader sees it half-written, no writer a reader, no write lost',
  { timeout: 120_000 },
  async (t) => {
    const name = segmentName(t)
    using seg = ManagedSharedMemory.create(name, 1 << 20)
    const s = seg.construct('shared', rwState)
    const readersIn = seg.construct('readersIn', types.int32)
    // Enough rounds that a reader and a writer let in together shows, even on a loaded 2-core machine.
    const n = 20_000
    const results = await Promise.all(
      ['mixed', 'mixed', 'mixed-async'].map((mode) => runFixture('rwlock-child.ts', [mode, name, String(n), '4'], { timeoutMs: 100_000 })),
    )
    for (const r of results) t.equal(r.code, 0, `${r.signal ?? ''} ${r.stderr}`)
    const reports = results.map((r) => JSON.parse(r.stdout.trim()) as { writes: number; reads: number; mismatches: number; died: number })
    const writes = reports.reduce((sum, r) => sum + r.writes, 0)
    t.equal(
      reports.reduce((sum, r) => sum + r.mismatches, 0),
      0,
      'no reader saw a = b broken, no writer saw a reader in',
    )
    t.equal(
      reports.reduce((sum, r) => sum + r.died, 0),
      0,
    )
    t.equal(writes, 3 * (n / 4))
    t.equal(s.a, BigInt(writes), 'no write lost')
    t.equal(s.b, BigInt(writes))
    t.equal(readersIn.value, 0)
    t.same(s.lock.toJSON(), { locked: false, owner: 0, readers: 0, consistent: true, recoverable: true })
  },
)

t.test('a writer SIGKILLed holding it: readers and writers are told, a writer repairs', { timeout: 120_000 }, async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 1 << 20)
  const s = seg.construct('shared', rwState)
  const holder = start(t, 'hold', name)
  await holder.ready
  t.equal(s.lock.tryLock(), false, 'held by a live process')
  t.equal(s.lock.tryLockShared(), false)
  holder.child.kill('SIGKILL')
  await holder.closed
  t.equal(s.lock.lockShared({ timeoutMs: 60_000 }), 'owner-died', 'a reader takes the dead writer over and is told')
  t.equal(s.lock.consistent, false)
  t.equal(s.lock.locked, false, 'the reader turned it into a shared hold')
  t.equal(s.lock.readers, 1)
  t.equal(s.lock.tryLockShared(), 'owner-died', 'still not repaired: every reader is told')
  s.lock.unlockShared()
  s.lock.unlockShared()
  t.equal(s.lock.toJSON().recoverable, true, 'readers cannot repair, and do not make it unrecoverable')
  t.equal(s.lock.lock(), 'owner-died', 'a writer is told too')
  t.throws(() => s.lock.lockShared(), { code: 'EDEADLK' })
  s.lock.markConsistent()
  t.equal(s.lock.consistent, true)
  s.lock.unlock()
  t.equal(s.lock.lockShared(), 'acquired', 'repaired: an ordinary lock again')
  s.lock.unlockShared()
  t.equal(s.lock.lock(), 'acquired')
  s.lock.unlock()
})

t.test("unlocking a dead writer's lock without markConsistent makes it unrecoverable", { timeout: 120_000 }, async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 1 << 20)
  const s = seg.construct('shared', rwState)
  const holder = start(t, 'hold', name)
  await holder.ready
  holder.child.kill('SIGKILL')
  await holder.closed
  t.equal(s.lock.lock({ timeoutMs: 60_000 }), 'owner-died')
  s.lock.unlock()
  t.throws(() => s.lock.lock(), { name: 'ShmError', code: 'ENOTRECOVERABLE', message: /not recoverable/ })
  t.throws(() => s.lock.lockShared(), { code: 'ENOTRECOVERABLE' })
  t.throws(() => s.lock.tryLockShared(), { code: 'ENOTRECOVERABLE' })
  t.throws(() => s.lock.tryLock(), { code: 'ENOTRECOVERABLE' })
  await t.rejects(s.lock.lockAsync(), { code: 'ENOTRECOVERABLE' })
  await t.rejects(s.lock.lockSharedAsync(), { code: 'ENOTRECOVERABLE' })
  t.same(
    s.lock.toJSON(),
    { locked: false, owner: 0, readers: 0, consistent: false, recoverable: false },
    'the refused lockers kept nothing',
  )
})

t.test('a reader SIGKILLed holding it: its slot is freed, a writer gets an ordinary lock', { timeout: 120_000 }, async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 1 << 20)
  const s = seg.construct('shared', rwState)
  const reader = start(t, 'hold-shared', name)
  await reader.ready
  t.equal(s.lock.readers, 1)
  t.equal(s.lock.tryLock(), false, 'held shared by a live process')
  t.equal(s.lock.tryLockShared(), 'acquired', 'readers share it')
  s.lock.unlockShared()
  reader.child.kill('SIGKILL')
  await reader.closed
  t.equal(s.lock.lock({ timeoutMs: 10_000 }), 'acquired', 'a dead reader corrupts nothing')
  t.equal(s.lock.readers, 0)
  t.equal(s.lock.consistent, true)
  s.lock.unlock()
})

t.test('a writer SIGKILLed while waiting for readers never had the lock: nothing to repair', { timeout: 120_000 }, async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 1 << 20)
  using other = ManagedSharedMemory.open(name)
  const s = seg.construct('shared', rwState)
  const probe = other.find('shared', rwState)!.lock
  s.lock.lockShared()
  const writer = start(t, 'wait-lock', name)
  await writer.ready
  // The child waits in lock(): once it holds the writer word, new readers stay out.
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline && probe.tryLockShared() !== false) {
    probe.unlockShared()
    await sleep(10)
  }
  t.equal(probe.tryLockShared(), false, 'a writer is waiting')
  writer.child.kill('SIGKILL')
  await writer.closed
  t.equal(probe.lockShared({ timeoutMs: 10_000 }), 'acquired', 'its writer word is cleared: readers enter, and are not told of a death')
  probe.unlockShared()
  s.lock.unlockShared()
  t.equal(s.lock.lock({ timeoutMs: 10_000 }), 'acquired')
  t.equal(s.lock.consistent, true)
  s.lock.unlock()
  t.notMatch(writer.out(), /held/, 'the child never got it')
})

t.test('stopped (SIGSTOP) holders are waited for, never taken over', { timeout: 120_000 }, async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 1 << 20)
  const s = seg.construct('shared', rwState)
  const holder = start(t, 'hold', name)
  await holder.ready
  holder.child.kill('SIGSTOP')
  for (let i = 0; i < 10; i++) {
    t.equal(s.lock.tryLock(), false, 'tryLock', { diagnostic: false })
    t.equal(s.lock.tryLockShared(), false, 'tryLockShared', { diagnostic: false })
    await sleep(100)
  }
  t.pass('a stopped writer kept it for a second of tries')
  t.throws(() => s.lock.lock({ timeoutMs: 400 }), { code: 'ETIMEDOUT' }, 'waits past several liveness checks without taking over')
  t.throws(() => s.lock.lockShared({ timeoutMs: 400 }), { code: 'ETIMEDOUT' })
  holder.child.kill('SIGCONT')
  holder.child.kill('SIGKILL')
  await holder.closed
  t.equal(s.lock.lock({ timeoutMs: 60_000 }), 'owner-died')
  s.lock.markConsistent()
  s.lock.unlock()

  const reader = start(t, 'hold-shared', name)
  await reader.ready
  reader.child.kill('SIGSTOP')
  t.throws(() => s.lock.lock({ timeoutMs: 400 }), { code: 'ETIMEDOUT' }, "a stopped reader's slot is not freed")
  t.equal(s.lock.readers, 1)
  await t.rejects(s.lock.lockAsync({ timeoutMs: 400 }), { code: 'ETIMEDOUT' })
  reader.child.kill('SIGCONT')
  reader.child.kill('SIGKILL')
  await reader.closed
  t.equal(s.lock.lock({ timeoutMs: 10_000 }), 'acquired')
  s.lock.unlock()
})
