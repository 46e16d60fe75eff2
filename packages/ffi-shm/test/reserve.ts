// reserve(offset, length): posix_fallocate on shared memory objects and
// files. The ENOSPC case (a full tmpfs) is tested through the managed
// segments in named-store's space-reservation.ts.
import { statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { FileMapping, SharedMemoryObject } from '@shmkit/ffi-shm'
import { shmName, uniqueName } from './helpers/run.js'

t.test('reserve grows the object and backs every block of the range', async (t) => {
  const name = shmName(t)
  using shm = SharedMemoryObject.create(name)
  shm.reserve(0, 1 << 20)
  t.equal(shm.size, 1 << 20, 'grown to the end of the range')
  // st_blocks counts 512-byte blocks actually allocated: a sparse truncate has none.
  t.ok(statSync(`/dev/shm/${name}`).blocks * 512 >= 1 << 20, 'the pages are allocated')
  shm.reserve(4096, 4096)
  t.equal(shm.size, 1 << 20, 'a range inside the object does not change its size')
  shm.reserve((1 << 20) - 16, 4096)
  t.equal(shm.size, (1 << 20) - 16 + 4096)
  t.throws(() => shm.reserve(0, 0), { name: 'ShmError', code: 'EINVAL', message: /length/ })
  t.throws(() => shm.reserve(-1, 16), { name: 'ShmError', code: 'EINVAL', message: /offset/ })
  t.throws(() => shm.reserve(Number.MAX_SAFE_INTEGER, 16), { name: 'ShmError', code: 'EINVAL', message: /length/ })
  t.throws(() => shm.reserve(1.5 as number, 16), { name: 'ShmError', code: 'EINVAL' })
  using ro = SharedMemoryObject.open(name, { readOnly: true })
  t.throws(() => ro.reserve(0, 16), { name: 'ShmError', code: 'EREADONLY' })
  shm.close()
  t.throws(() => shm.reserve(0, 16), { name: 'ShmError', code: 'ECLOSED' })
})

t.test('reserve on a file: the file system holds the blocks', async (t) => {
  const path = join(tmpdir(), `${uniqueName()}.bin`)
  t.teardown(() => {
    FileMapping.remove(path)
  })
  writeFileSync(path, '')
  using file = new FileMapping(path)
  file.reserve(0, 3 << 20)
  t.equal(file.size, 3 << 20)
  t.ok(statSync(path).blocks * 512 >= 3 << 20, 'blocks allocated, not a sparse hole')
})
