import t from 'tap'
import { statSync } from 'node:fs'
import { MappedRegion, SharedMemoryObject } from '@shmkit/ffi-shm'
import { shmName } from './helpers/run.js'

t.test('create, open, truncate, size, remove', async (t) => {
  const name = shmName(t)
  const shm = SharedMemoryObject.create(name)
  t.equal(shm.name, name)
  t.equal(shm.size, 0)
  shm.truncate(12345)
  t.equal(shm.size, 12345)
  t.equal(statSync(`/dev/shm/${name}`).mode & 0o777, 0o600, 'mode 0600 by default')
  const other = SharedMemoryObject.open(name)
  t.equal(other.size, 12345, 'another handle sees the size')
  other.close()
  shm.close()
  t.equal(SharedMemoryObject.remove(name), true)
  t.equal(SharedMemoryObject.remove(name), false, 'a second remove finds nothing')
  t.throws(() => SharedMemoryObject.open(name), {
    name: 'ShmError',
    code: 'ENOENT',
    errno: 2,
    syscall: 'shm_open',
    message: new RegExp(name),
  })
})

t.test('EEXIST, openOrCreate and an explicit mode', async (t) => {
  const name = shmName(t)
  using a = SharedMemoryObject.create(name, { mode: 0o640 })
  t.equal(statSync(`/dev/shm/${name}`).mode & 0o777, 0o640, 'the mode is applied whatever the umask')
  t.throws(() => SharedMemoryObject.create(name), { name: 'ShmError', code: 'EEXIST', syscall: 'shm_open' })
  a.truncate(4096)
  using b = SharedMemoryObject.openOrCreate(name)
  t.equal(b.size, 4096, 'openOrCreate opened the existing object')
  const fresh = shmName(t)
  using c = SharedMemoryObject.openOrCreate(fresh)
  t.equal(c.size, 0, 'openOrCreate created a missing one')
})

t.test('read-only handles cannot truncate or map writable', async (t) => {
  const name = shmName(t)
  using rw = SharedMemoryObject.create(name)
  rw.truncate(4096)
  using ro = SharedMemoryObject.open(name, { readOnly: true })
  t.equal(ro.readOnly, true)
  t.throws(() => ro.truncate(8192), { name: 'ShmError', code: 'EREADONLY' })
  t.throws(() => new MappedRegion(ro, { readOnly: false }), { name: 'ShmError', code: 'EREADONLY' })
  using region = new MappedRegion(ro)
  t.equal(region.readOnly, true, 'a read-only source maps read-only by default')
})

t.test('use after close is ECLOSED', async (t) => {
  const name = shmName(t)
  const shm = SharedMemoryObject.create(name)
  shm.close()
  shm.close()
  t.throws(() => shm.size, { name: 'ShmError', code: 'ECLOSED' })
  t.throws(() => shm.truncate(10), { name: 'ShmError', code: 'ECLOSED' })
  t.throws(() => new MappedRegion(shm), { name: 'ShmError', code: 'ECLOSED' })
})
