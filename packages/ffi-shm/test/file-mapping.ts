import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileMapping, MappedRegion } from '@shmkit/ffi-shm'
import { runFixture, uniqueName } from './helpers/run.js'

/** A file of `bytes` removed when the test ends, whatever happens. */
function tempFile(t: Test, bytes: Buffer): string {
  const path = join(tmpdir(), `${uniqueName()}.bin`)
  writeFileSync(path, bytes)
  t.teardown(() => rmSync(path, { force: true }))
  return path
}

t.test('opens an existing file: path, fd, size from fstat', async (t) => {
  const path = tempFile(t, Buffer.from('hello mapped world'))
  using file = new FileMapping(path)
  t.equal(file.path, path)
  t.equal(file.readOnly, false)
  t.type(file.fd, 'number')
  t.equal(file.size, 18)
  using region = new MappedRegion(file)
  t.equal(Buffer.from(region.buffer).toString(), 'hello mapped world')
  new Uint8Array(region.buffer)[0] = 'j'.charCodeAt(0)
  region.flush()
  t.equal(readFileSync(path, 'latin1'), 'jello mapped world', 'writes reach the file')
  writeFileSync(path, 'J', { flag: 'r+' })
  t.equal(String.fromCharCode(new Uint8Array(region.buffer)[0] ?? 0), 'J', 'writes to the file show in the mapping')
})

t.test('truncate grows with zeros and shrinks; size follows', async (t) => {
  const path = tempFile(t, Buffer.alloc(100, 1))
  using file = new FileMapping(path)
  file.truncate(5000)
  t.equal(file.size, 5000)
  const onDisk = readFileSync(path)
  t.equal(onDisk[99], 1)
  t.equal(onDisk[4999], 0, 'new bytes read as zero')
  file.truncate(10)
  t.equal(file.size, 10)
  using region = new MappedRegion(file)
  t.equal(region.size, 10, 'a region takes the current size by default')
})

t.test('a read-only file mapping', async (t) => {
  const path = tempFile(t, Buffer.alloc(4096, 3))
  using file = new FileMapping(path, { readOnly: true })
  t.equal(file.readOnly, true)
  t.throws(() => file.truncate(0), { name: 'ShmError', code: 'EREADONLY', message: /cannot truncate file ".*": it was opened read-only/ })
  t.throws(() => new MappedRegion(file, { readOnly: false }), { name: 'ShmError', code: 'EREADONLY' })
  using region = new MappedRegion(file)
  t.equal(region.readOnly, true)
  t.equal(new Uint8Array(region.buffer)[4095], 3)
  t.equal(readFileSync(path).length, 4096, 'the file is untouched')
})

t.test('a stray write through a read-only file mapping neither crashes nor reaches the file', async (t) => {
  const path = tempFile(t, Buffer.alloc(4096, 1))
  const r = await runFixture('stray-write-file.ts', [path])
  t.equal(r.signal, null, 'no signal killed the child')
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.trim(), 'private copy: 99')
  t.equal(readFileSync(path)[0], 1, 'the file still holds its byte')
})

t.test('a file shrunk by someone else: sizes are checked against fstat before mapping', async (t) => {
  const path = tempFile(t, Buffer.alloc(3 * 4096))
  using file = new FileMapping(path)
  truncateSync(path, 4096) // another process, in effect
  t.throws(() => new MappedRegion(file, { size: 3 * 4096 }), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /invalid size: got 12288, expected an integer from 1 to 4096/,
  })
  t.throws(() => new MappedRegion(file, { offset: 8192 }), { name: 'ShmError', code: 'EINVAL', message: /invalid offset/ })
  truncateSync(path, 0)
  t.throws(() => new MappedRegion(file), { name: 'ShmError', code: 'EINVAL', message: /size is not 0/ })
})

t.test('remove: true once, then false; not for directories', async (t) => {
  const path = tempFile(t, Buffer.alloc(1))
  t.equal(FileMapping.remove(path), true)
  t.equal(FileMapping.remove(path), false)
  t.throws(() => new FileMapping(path), { name: 'ShmError', code: 'ENOENT', syscall: 'open', message: new RegExp(`file "${path}"`) })
  const dir = join(tmpdir(), uniqueName())
  mkdirSync(dir)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  t.equal(FileMapping.remove(dir), false, 'a directory is not a mapped file')
  t.equal(FileMapping.remove(`${path}/below-a-file`), false, 'a path through a file names nothing')
  t.throws(() => FileMapping.remove(''), { name: 'ShmError', code: 'EINVAL', message: /invalid path/ })
  const tooLong = join(tmpdir(), 'x'.repeat(300))
  t.throws(
    () => FileMapping.remove(tooLong),
    { name: 'ShmError', code: 'ENAMETOOLONG', errno: 36, message: /file ".*"/ },
    'other failures are errors, not "nothing there"',
  )
})

t.test('use after close is ECLOSED; regions outlive their FileMapping', async (t) => {
  const path = tempFile(t, Buffer.alloc(4096))
  const file = new FileMapping(path)
  const region = new MappedRegion(file)
  file.close()
  file.close()
  const closed = { name: 'ShmError', code: 'ECLOSED', message: /file ".*" is closed/ }
  t.throws(() => file.fd, closed)
  t.throws(() => file.size, closed)
  t.throws(() => file.truncate(1), closed)
  t.throws(() => new MappedRegion(file), closed)
  new Uint8Array(region.buffer)[7] = 70
  region.flush()
  t.equal(readFileSync(path)[7], 70, 'the mapping stays valid after the descriptor is closed')
  region.close()
})

t.test('a FIFO is refused at once, not waited on', { skip: process.platform === 'win32' }, async (t) => {
  const fifo = join(tmpdir(), uniqueName())
  execFileSync('mkfifo', [fifo])
  t.teardown(() => rmSync(fifo, { force: true }))
  t.throws(() => new FileMapping(fifo, { readOnly: true }), { name: 'ShmError', code: 'EINVAL', message: /expected a regular file/ })
  t.throws(() => new FileMapping(fifo), { name: 'ShmError', code: 'EINVAL', message: /expected a regular file/ })
})
