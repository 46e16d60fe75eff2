import t from 'tap'
import { fileURLToPath } from 'node:url'
import { MappedRegion, XsiSharedMemory, xsiKey } from '@shmkit/ffi-shm'

t.test('create, attach from a second handle, remove', async (t) => {
  const key = xsiKey(fileURLToPath(import.meta.url), (process.pid % 200) + 1)
  try {
    XsiSharedMemory.remove(XsiSharedMemory.open(key).shmid)
  } catch {
    // no leftover from an earlier run
  }
  const xsi = XsiSharedMemory.create(key, 10000)
  t.teardown(() => {
    XsiSharedMemory.remove(xsi.shmid)
  })
  t.equal(xsi.size, 10000)
  t.throws(() => XsiSharedMemory.create(key, 10000), { name: 'ShmError', code: 'EEXIST', syscall: 'shmget' })
  const a = new MappedRegion(xsi)
  new Uint8Array(a.buffer).fill(9)
  const other = XsiSharedMemory.open(key)
  t.equal(other.shmid, xsi.shmid)
  const b = new MappedRegion(other)
  t.equal(new Uint8Array(b.buffer)[9999], 9, 'both attachments see the same bytes')
  t.throws(() => new MappedRegion(other, { offset: 4096 }), { name: 'ShmError', code: 'EINVAL' })
  b.close()
  a.close()
  t.equal(XsiSharedMemory.remove(xsi.shmid), true)
  t.equal(XsiSharedMemory.remove(xsi.shmid), false, 'already removed')
  t.throws(() => XsiSharedMemory.open(key), { name: 'ShmError', code: 'ENOENT' })
})

t.test('IPC_PRIVATE segments', async (t) => {
  const xsi = XsiSharedMemory.create(0, 4096)
  t.teardown(() => {
    XsiSharedMemory.remove(xsi.shmid)
  })
  using region = new MappedRegion(xsi)
  t.equal(region.size, 4096)
  t.throws(() => XsiSharedMemory.open(0), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /invalid key: got 0, expected the key of an existing segment/,
  })
})
