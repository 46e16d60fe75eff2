import t from 'tap'
import { execFileSync } from 'node:child_process'
import { ftruncateSync } from 'node:fs'
import { anonymousSharedMemory, FileMapping, MappedRegion, SharedMemoryObject, XsiSharedMemory, xsiKey } from '@shmkit/ffi-shm'
import { shmName } from './helpers/run.js'

const einval = (message: RegExp) => ({ name: 'ShmError', code: 'EINVAL', message })

t.test('names: empty, with a slash, too long, not a string', async (t) => {
  t.throws(() => SharedMemoryObject.create(''), einval(/invalid name: got "", expected a non-empty name of at most 254 bytes/))
  t.throws(() => SharedMemoryObject.open('a/b'), einval(/invalid name/))
  t.throws(() => SharedMemoryObject.create('x'.repeat(255)), einval(/at most 254 bytes/))
  t.throws(() => SharedMemoryObject.remove('nul\0byte'), einval(/invalid name/))
  t.throws(() => SharedMemoryObject.create(7 as unknown as string), einval(/invalid name: got 7/))
})

t.test('sizes: negative, fractional, NaN, over 4 GiB', async (t) => {
  const name = shmName(t)
  using shm = SharedMemoryObject.create(name)
  t.throws(() => shm.truncate(-1), einval(/invalid bytes: got -1, expected an integer from 0 to 4294967296/))
  t.throws(() => shm.truncate(1.5), einval(/invalid bytes: got 1.5/))
  t.throws(() => shm.truncate(Number.NaN), einval(/invalid bytes: got NaN/))
  t.throws(() => shm.truncate(2 ** 32 + 1), einval(/invalid bytes/))
  t.throws(() => anonymousSharedMemory(0), einval(/invalid size/))
  t.throws(() => XsiSharedMemory.create(0, 2 ** 33), einval(/invalid size/))
})

t.test('mapping: a zero-size object, offsets and sizes past the end, bad options', async (t) => {
  const name = shmName(t)
  using shm = SharedMemoryObject.create(name)
  t.throws(() => new MappedRegion(shm), einval(/size is not 0/), 'a zero-size object cannot be mapped')
  shm.truncate(8192)
  t.throws(() => new MappedRegion(shm, { offset: 8192 }), einval(/invalid offset: got 8192, expected an integer from 0 to 8191/))
  t.throws(() => new MappedRegion(shm, { offset: 100, size: 8100 }), einval(/invalid size: got 8100, expected an integer from 1 to 8092/))
  t.throws(() => new MappedRegion(shm, { size: 2 ** 32 + 1 }), einval(/size/))
  ftruncateSync(shm.fd, 2 ** 32 + 8192 - 1) // sparse, so free; through the fd as another program would: truncate() refuses over 4 GiB
  t.throws(
    () => new MappedRegion(shm),
    einval(/invalid size: got 4294975487, expected at most 4294967296 bytes per region: .* map it in windows/),
    'no silent clamp of the default size',
  )
  using tail = new MappedRegion(shm, { offset: 2 ** 32 + 4097, size: 100 })
  t.equal(tail.size, 100, 'a window past 4 GiB maps')
  shm.truncate(8192)
  t.throws(() => new MappedRegion(shm, { offset: -1 }), einval(/offset/))
  t.throws(() => new MappedRegion(shm, { bogus: true } as unknown as { offset: number }), einval(/bogus/))
  t.throws(() => new MappedRegion({} as unknown as SharedMemoryObject), einval(/invalid source/))
})

t.test('modes out of range and unknown options', async (t) => {
  const name = shmName(t)
  t.throws(() => SharedMemoryObject.create(name, { mode: 0o1000 }), einval(/mode/))
  t.throws(() => SharedMemoryObject.create(name, { mode: -1 }), einval(/mode/))
  t.throws(() => SharedMemoryObject.open(name, { readOnly: 1 } as unknown as { readOnly: boolean }), einval(/readOnly/))
  t.equal(SharedMemoryObject.remove(name), false)
})

t.test('files, keys and ids', async (t) => {
  t.throws(() => new FileMapping(''), einval(/invalid path/))
  t.throws(() => new FileMapping('/definitely/not/here'), { name: 'ShmError', code: 'ENOENT' })
  t.throws(() => new FileMapping('/tmp', { readOnly: true }), einval(/regular file/))
  t.throws(() => new FileMapping('/tmp'), { name: 'ShmError', code: 'EISDIR', syscall: 'open' })
  t.throws(() => xsiKey('/etc/passwd', 0), einval(/invalid id: got 0, expected an integer from 1 to 255/))
  t.throws(() => xsiKey('/etc/passwd', 256), einval(/invalid id/))
  t.throws(() => xsiKey('/definitely/not/here', 1), { name: 'ShmError', code: 'ENOENT', syscall: 'ftok' })
  t.throws(() => XsiSharedMemory.create(1.5, 100), einval(/invalid key/))
})

t.test('a FIFO under a shared memory name is refused, not waited on', { skip: process.platform !== 'linux' }, async (t) => {
  const name = shmName(t)
  execFileSync('mkfifo', [`/dev/shm/${name}`])
  t.throws(() => SharedMemoryObject.open(name, { readOnly: true }), einval(/not a regular file/))
  t.throws(() => SharedMemoryObject.openOrCreate(name), einval(/not a regular file/))
})
