import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { futexSupported, futexWait, futexWake, isProcessAlive, MappedRegion, processStartTime, SharedMemoryObject } from '@shmkit/ffi-shm'
import { shmName } from './helpers/run.js'

t.test('futexWait: mismatch and timeout', { skip: !futexSupported }, async (t) => {
  const name = shmName(t)
  using shm = SharedMemoryObject.create(name)
  shm.truncate(4096)
  using region = new MappedRegion(shm)
  new Int32Array(region.buffer)[1] = 5
  t.equal(futexWait(region, 4, 6, 1000), 'mismatch', 'returns at once when the word differs')
  t.equal(futexWait(region, 4, 5, 5), 'timeout')
  t.throws(() => futexWait(region, 2, 0, 1), { name: 'ShmError', code: 'EINVAL', message: /multiple of 4/ })
  t.throws(() => futexWait(region, 4096, 0, 1), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => futexWait(region, 4, 5, Number.NaN), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => futexWait(region, 4, 5, Number.POSITIVE_INFINITY), { name: 'ShmError', code: 'EINVAL', message: /invalid timeoutMs/ })
  t.throws(() => futexWait(region, 4, 2 ** 32, 1), { name: 'ShmError', code: 'EINVAL', message: /invalid expected/ })
  t.throws(() => futexWait(region, 4, 0.5, 1), { name: 'ShmError', code: 'EINVAL', message: /invalid expected/ })
  new Int32Array(region.buffer)[2] = -1
  t.equal(futexWait(region, 8, 0xffffffff, 1), 'timeout', 'the word compares as 32 bits: 0xffffffff is -1')
  t.equal(futexWake(region, 4, 1), 0, 'nobody to wake')
  t.equal(futexWake(region, 4, 0), 0, 'a count of 0 wakes nobody')
  t.throws(() => futexWake(region, 4, -1), { name: 'ShmError', code: 'EINVAL', message: /invalid count/ })
  t.throws(() => futexWake(region, 4, Number.NaN), { name: 'ShmError', code: 'EINVAL', message: /invalid count/ })
})

t.test('futexWake wakes a waiter in another process', { skip: !futexSupported }, async (t) => {
  const name = shmName(t)
  using shm = SharedMemoryObject.create(name)
  shm.truncate(4096)
  using region = new MappedRegion(shm)
  const words = new Int32Array(region.buffer)
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/futex-waiter.ts', import.meta.url)), name], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  const closed = new Promise((resolve) => child.on('close', resolve))
  // No timing assumption: wake (leaving the word at 0, so a woken child sleeps
  // again) until a wake reports that it found a sleeper, however long the child
  // takes to get there; only a waiter blocked in the kernel is counted by FUTEX_WAKE.
  let woken = 0
  const deadline = Date.now() + 60_000
  while (woken === 0 && Date.now() < deadline) {
    woken = futexWake(region, 4, 1)
    if (woken === 0) await new Promise((r) => setTimeout(r, 5))
  }
  t.equal(woken, 1, 'a wake found the other process asleep on the word')
  // Now end its wait for good: change the word, then wake it.
  Atomics.store(words, 1, 1)
  futexWake(region, 4, 1)
  t.equal(await closed, 0)
  t.match(out, /^wakes [1-9]\d*, word 1$/m, 'the child saw the wake and then the change')
})

t.test('process identity: alive, dead, start time', async (t) => {
  t.ok(isProcessAlive(process.pid))
  t.notOk(isProcessAlive(-1))
  const child = spawn(process.execPath, ['-e', '0'])
  const pid = child.pid as number
  await new Promise((r) => child.on('exit', r))
  await new Promise((r) => setTimeout(r, 20))
  t.notOk(isProcessAlive(pid), 'a reaped child is gone')
  const mine = processStartTime(process.pid)
  t.type(mine, 'bigint')
  t.equal(processStartTime(process.pid), mine, 'stable for one process')
  t.equal(processStartTime(pid), undefined)
})
