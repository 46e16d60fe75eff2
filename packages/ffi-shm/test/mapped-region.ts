import t from 'tap'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileMapping, MappedRegion, SharedMemoryObject } from '@shmkit/ffi-shm'
import { runFixture, shmName, uniqueName } from './helpers/run.js'

t.test('any offset: the window starts exactly there', async (t) => {
  const name = shmName(t)
  using shm = SharedMemoryObject.create(name)
  shm.truncate(3 * MappedRegion.pageSize)
  using whole = new MappedRegion(shm)
  const bytes = new Uint8Array(whole.buffer)
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % 251
  using window = new MappedRegion(shm, { offset: 5000, size: 100 })
  t.equal(window.size, 100)
  t.equal(window.buffer.byteLength, 100)
  t.equal(window.offset, 5000)
  t.equal(new Uint8Array(window.buffer)[0], 5000 % 251)
  t.equal(window.address - whole.address === 5000n ? 'same' : 'elsewhere', 'elsewhere', 'mapped separately')
  new Uint8Array(window.buffer)[99] = 7
  t.equal(bytes[5099], 7, 'writes through the window reach the object')
  t.ok(MappedRegion.pageSize >= 4096)
})

t.test('a mapped file: flush writes through to the file', async (t) => {
  const path = join(tmpdir(), `${uniqueName()}.bin`)
  writeFileSync(path, Buffer.alloc(10000))
  t.teardown(() => rmSync(path, { force: true }))
  using file = new FileMapping(path)
  t.equal(file.size, 10000)
  using region = new MappedRegion(file, { offset: 4097 })
  new Uint8Array(region.buffer).fill(0x5a)
  region.flush()
  region.flush(10, 20, { async: true })
  t.throws(() => region.flush(0, region.size + 1), { name: 'ShmError', code: 'EINVAL' })
  const onDisk = readFileSync(path)
  t.equal(onDisk[4096], 0)
  t.equal(onDisk[4097], 0x5a)
  t.equal(onDisk[9999], 0x5a)
  t.equal(FileMapping.remove(path), true)
})

t.test('a stray write through a read-only region neither crashes nor reaches the object', async (t) => {
  const name = shmName(t)
  using shm = SharedMemoryObject.create(name)
  shm.truncate(4096)
  using region = new MappedRegion(shm)
  new Uint8Array(region.buffer).fill(1)
  const r = await runFixture('stray-write.ts', [name])
  t.equal(r.signal, null, 'no signal killed the child')
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /private copy: 99/)
  t.equal(new Uint8Array(region.buffer)[0], 1, 'the shared object is untouched')
})

t.test('ArrayBuffers from before close() read zeros instead of crashing', async (t) => {
  const name = shmName(t)
  using shm = SharedMemoryObject.create(name)
  shm.truncate(8192)
  const r = await runFixture('stale-buffer.ts', [name])
  t.equal(r.signal, null, 'no SIGSEGV')
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /before 3, after 0, buffer: ECLOSED/)
})
