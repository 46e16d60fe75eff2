import t from 'tap'
import { anonymousSharedMemory, AnonymousSharedMemory, MappedRegion } from '@shmkit/ffi-shm'
import { runFixture } from './helpers/run.js'

t.test('memfd memory handed to a child through a stdio slot', async (t) => {
  using mem = anonymousSharedMemory(64 * 1024)
  t.equal(mem.size, 64 * 1024)
  using region = new MappedRegion(mem)
  new Uint8Array(region.buffer).fill(42)
  const r = await runFixture('anonymous-child.ts', [], { stdio: ['ignore', 'pipe', 'pipe', mem.fd] })
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.trim(), 'sum 2752512', 'the child read every byte the parent wrote')
  t.equal(new Uint8Array(region.buffer)[0], 7, "the parent sees the child's write")
})

t.test('fromFd refuses what is not sized anonymous memory', async (t) => {
  t.throws(() => AnonymousSharedMemory.fromFd(-1), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => AnonymousSharedMemory.fromFd(987654), { name: 'ShmError', code: 'EBADF' })
})

t.test('anonymous memory grows but never shrinks (sealed), and refuses use after close', async (t) => {
  const mem = anonymousSharedMemory(64 * 1024)
  t.teardown(() => mem.close())
  mem.truncate(128 * 1024)
  t.equal(mem.size, 128 * 1024, 'grown')
  t.throws(
    () => mem.truncate(4096),
    { name: 'ShmError', code: 'EACCES', syscall: 'ftruncate', message: /anonymous shared memory \(fd \d+\)/ },
    'shrinking is refused by the seal',
  )
  t.equal(mem.size, 128 * 1024, 'the size is unchanged')
  t.throws(() => mem.truncate(-1), { name: 'ShmError', code: 'EINVAL' })
  mem.close()
  t.throws(() => mem.size, { name: 'ShmError', code: 'ECLOSED', message: /anonymous shared memory \(fd \d+\) is closed/ })
  t.doesNotThrow(() => mem.close(), 'a second close is harmless')
})
