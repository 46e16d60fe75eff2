// The sync primitives between worker threads, over a SharedArrayBuffer
// segment (Atomics.wait / Atomics.waitAsync): exact counts, no torn reads,
// and async waits on the main thread woken by a worker.
import t from 'tap'
import { Worker } from 'node:worker_threads'
import { ManagedExternalBuffer } from '@shmkit/named-store'
import { workerState } from './fixtures/sync-worker-state.js'
import { compiledFixture } from './helpers/segments.js'

function start(buffer: SharedArrayBuffer, mode: string, n: number): { worker: Worker; done: Promise<{ wrong: number }> } {
  const worker = new Worker(compiledFixture('sync-worker.js'), { workerData: { buffer, mode, n } })
  const done = new Promise<{ wrong: number }>((resolve, reject) => {
    worker.on('message', (m: { wrong?: number }) => {
      if (m.wrong !== undefined) resolve({ wrong: m.wrong })
    })
    worker.on('error', reject)
    worker.on('exit', (code) => (code === 0 ? undefined : reject(new Error(`worker exited ${code}`))))
  })
  return { worker, done }
}

/** Resolves once every worker said it is waiting for the go. */
function allWaiting(workers: { worker: Worker }[]): Promise<unknown> {
  return Promise.all(
    workers.map((w) => new Promise<void>((resolve) => w.worker.on('message', (m: { waiting?: boolean }) => m.waiting && resolve()))),
  )
}

function segment(t: { teardown(fn: () => void): void }): { buffer: SharedArrayBuffer; seg: ManagedExternalBuffer } {
  const buffer = new SharedArrayBuffer(1 << 20)
  const seg = new ManagedExternalBuffer(buffer)
  t.teardown(() => seg.close())
  return { buffer, seg }
}

t.test('a t.mutex between the main thread and two workers: every critical section exact', async (t) => {
  const { buffer, seg } = segment(t)
  const s = seg.construct('state', workerState)
  const N = 50_000
  const workers = [start(buffer, 'mutex', N), start(buffer, 'mutex', N)]
  await allWaiting(workers)
  s.flag = 1 // all three loops start together
  let wrong = 0
  for (let i = 0; i < N; i++) {
    s.m.lock()
    if (s.mirror !== s.counter * 2) wrong++
    s.counter = s.counter + 1
    s.mirror = s.counter * 2
    s.m.unlock()
  }
  for (const w of workers) wrong += (await w.done).wrong
  t.equal(wrong, 0, 'no thread saw a half-done update')
  t.equal(s.counter, 3 * N, 'no increment lost')
})

t.test('semaphore ping-pong: the main thread awaits waitAsync, a worker blocks in wait', async (t) => {
  const { buffer, seg } = segment(t)
  const s = seg.construct('state', workerState)
  const N = 500
  const w = start(buffer, 'pong', N)
  let missed = 0
  for (let i = 0; i < N; i++) {
    s.ping.post()
    if (!(await s.pong.waitAsync({ timeoutMs: 30_000 }))) missed++
  }
  t.equal(missed, 0)
  t.equal((await w.done).wrong, 0)
  t.equal(s.ping.value + s.pong.value, 0, 'every unit taken exactly once')
})

t.test('a condition: a worker waits, the main thread sets the flag and notifies', async (t) => {
  const { buffer, seg } = segment(t)
  const s = seg.construct('state', workerState)
  const w = start(buffer, 'cond', 0)
  await new Promise<void>((resolve) => w.worker.on('message', (m: { waiting?: boolean }) => m.waiting && resolve()))
  s.m.lock() // the worker is inside wait (it released the mutex), or about to be
  s.flag = 1
  s.c.notifyAll()
  s.m.unlock()
  t.equal((await w.done).wrong, 0, 'woken by the notify, not by its timeout')
})

t.test('a t.rwlock: two reader workers never see a writer half-way', async (t) => {
  const { buffer, seg } = segment(t)
  const s = seg.construct('state', workerState)
  const N = 20_000
  const readers = [start(buffer, 'reader', N), start(buffer, 'reader', N)]
  await allWaiting(readers)
  s.flag = 1
  let writes = 0
  let pending = true
  void Promise.all(readers.map((r) => r.done)).then(() => (pending = false))
  while (pending) {
    s.rw.lock()
    s.a = s.a + 1
    for (let spin = 0; spin < 50; spin++) Atomics.load(new Int32Array(buffer), 0)
    s.b = s.b + 1
    s.rw.unlock()
    writes++
    if ((writes & 63) === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  let wrong = 0
  for (const r of readers) wrong += (await r.done).wrong
  t.equal(wrong, 0, 'no reader saw a !== b')
  t.ok(writes > 0)
  t.equal(s.a, s.b)
})
