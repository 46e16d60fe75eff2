import t from 'tap'
import { Worker } from 'node:worker_threads'
import { xsiKey } from '@shmkit/ffi-shm'
import {
  ManagedExternalBuffer,
  ManagedHeapMemory,
  ManagedMappedFile,
  ManagedXsiSharedMemory,
  ManagedWindowsSharedMemory,
  t as types,
} from '@shmkit/named-store'
import { compiledFixture, tempPath } from './helpers/segments.js'

t.test('ManagedMappedFile: create, reopen after close, openOrCreate, remove', async (t) => {
  const path = tempPath(t)
  const a = ManagedMappedFile.create(path, 1 << 20)
  a.construct('persisted', types.float64, 2.5)
  a.close()
  const b = ManagedMappedFile.open(path)
  t.equal(b.find('persisted', types.float64)?.value, 2.5, 'the object survives close and reopen')
  b.close()
  const c = ManagedMappedFile.openOrCreate(path, 1 << 20)
  t.equal(c.numNamedObjects, 1)
  c.close()
  t.throws(() => ManagedMappedFile.create(path, 1 << 20), { name: 'ShmError', code: 'EEXIST' })
  t.equal(ManagedMappedFile.remove(path), true)
  t.equal(ManagedMappedFile.remove(path), false)
})

t.test('ManagedXsiSharedMemory: keyed by ftok, removed by key', async (t) => {
  const path = tempPath(t)
  ManagedMappedFile.create(path, 1 << 20).close() // any existing file will do for ftok
  const key = xsiKey(path, 7)
  ManagedXsiSharedMemory.remove(key)
  t.teardown(() => {
    ManagedXsiSharedMemory.remove(key)
  })
  const a = ManagedXsiSharedMemory.create(key, 1 << 20)
  a.construct('x', types.int32, 11)
  const b = ManagedXsiSharedMemory.open(key)
  t.equal(b.find('x', types.int32)?.value, 11)
  b.close()
  a.close()
  t.equal(ManagedXsiSharedMemory.remove(key), true)
  t.throws(() => ManagedXsiSharedMemory.open(key), { name: 'ShmError', code: 'ENOENT' })
  t.throws(
    () => ManagedXsiSharedMemory.openOrCreate(key, 1 << 20, { bogus: 1 } as never),
    { name: 'ShmError', code: 'EINVAL', message: /bogus/ },
    'openOrCreate validates its options first',
  )
  t.throws(() => ManagedXsiSharedMemory.openOrCreate(key, 5), { name: 'ShmError', code: 'EINVAL', message: /size/ })
  const c = ManagedXsiSharedMemory.openOrCreate(key, 1 << 20, { sizeCheck: 'every-operation', timeoutMs: 500 })
  const d = ManagedXsiSharedMemory.openOrCreate(key, 1 << 20, { lock: { ownerCheckMs: 5 } })
  c.construct('y', types.int32, 3)
  t.equal(d.find('y', types.int32)?.value, 3, "the second openOrCreate opened the first one's segment")
  d.close()
  c.close()
})

t.test('ManagedHeapMemory and ManagedExternalBuffer share one implementation', async (t) => {
  const heap = new ManagedHeapMemory(1 << 20)
  heap.construct('h', types.int32, 1)
  t.equal(heap.find('h', types.int32)?.value, 1)
  heap.close()
  const buffer = new ArrayBuffer(1 << 20)
  const ext = new ManagedExternalBuffer(buffer)
  ext.construct('e', types.int32, 2)
  ext.close()
  const again = new ManagedExternalBuffer(buffer)
  t.equal(again.find('e', types.int32)?.value, 2, 'a formatted buffer is attached, not reformatted')
  again.close()
})

t.test('ManagedExternalBuffer over a SharedArrayBuffer: worker threads share it', async (t) => {
  const sab = new SharedArrayBuffer(1 << 20)
  const seg = new ManagedExternalBuffer(sab)
  t.teardown(() => seg.close())
  const counter = seg.construct('counter', types.uint32, 0)
  const workers = [0, 1].map((id) => new Worker(compiledFixture('sab-worker.js'), { workerData: { buffer: sab, id } }))
  await Promise.all(
    workers.map(
      (w) =>
        new Promise((resolve, reject) => {
          w.on('message', resolve)
          w.on('error', reject)
        }),
    ),
  )
  t.equal(counter.value, 4000)
  t.ok(seg.checkSanity())
})

t.test('ManagedWindowsSharedMemory is refused off Windows', { skip: process.platform === 'win32' }, async (t) => {
  t.throws(() => ManagedWindowsSharedMemory.create('x', 1 << 20), { name: 'ShmError', code: 'ENOTSUP' })
})
