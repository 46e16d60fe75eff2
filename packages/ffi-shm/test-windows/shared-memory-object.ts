// The portable SharedMemoryObject on Windows: a file under %TEMP%\shmkit-shm
// opened through kernel32 (CreateFileW) and mapped with CreateFileMappingW.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MappedRegion, SharedMemoryObject } from '@shmkit/ffi-shm'
import { fixture, runNode, uniqueName } from './helpers.js'

const folder = join(tmpdir(), 'shmkit-shm')

function named(t: { after(fn: () => void): void }): string {
  const name = uniqueName()
  t.after(() => SharedMemoryObject.remove(name))
  return name
}

// Before the fix this threw `ShmError EBADF: ... descriptor 3 has no Windows
// handle`: the descriptor came from Node's fs, whose C runtime is not the one
// koffi can reach.
test('create, size and map the portable object; the bytes are shared', (t) => {
  const name = named(t)
  using shm = SharedMemoryObject.create(name)
  assert.equal(shm.size, 0)
  shm.truncate(100_000)
  assert.equal(shm.size, 100_000)
  using region = new MappedRegion(shm)
  const bytes = new Uint8Array(region.buffer)
  assert.equal(bytes.length, 100_000)
  assert.ok(
    bytes.every((b) => b === 0),
    'new bytes read as zero',
  )
  bytes[0] = 42
  bytes[99_999] = 43
  using again = SharedMemoryObject.open(name)
  using second = new MappedRegion(again, { offset: 99_990, size: 10 })
  assert.equal(new Uint8Array(second.buffer)[9], 43, 'a second mapping at an offset sees the write')
  assert.ok(existsSync(join(folder, name)), `the object is the file ${join(folder, name)}`)
})

test('another Windows process opens, reads and writes the same object', async (t) => {
  const name = named(t)
  using shm = SharedMemoryObject.create(name)
  shm.truncate(70_000)
  using region = new MappedRegion(shm)
  const bytes = new Uint8Array(region.buffer)
  bytes.set([1, 2, 3, 4])
  bytes[69_999] = 5
  const read = await runNode(fixture('peer.js'), ['portable', name, 'read'])
  assert.equal(read.code, 0, read.stderr)
  assert.deepEqual(JSON.parse(read.stdout), { size: 70_000, first: [1, 2, 3, 4], last: 5 })
  const wrote = await runNode(fixture('peer.js'), ['portable', name, 'write'])
  assert.equal(wrote.code, 0, wrote.stderr)
  assert.deepEqual(Array.from(bytes.subarray(0, 4)), [7, 8, 9, 4])
  assert.equal(bytes[69_999], 99)
})

test('create twice is EEXIST, open of a missing name ENOENT, remove says whether it removed', (t) => {
  const name = named(t)
  using shm = SharedMemoryObject.create(name)
  assert.throws(() => SharedMemoryObject.create(name), { name: 'ShmError', code: 'EEXIST', syscall: 'CreateFileW' })
  assert.throws(() => SharedMemoryObject.open(`${name}-missing`), { name: 'ShmError', code: 'ENOENT', message: /does not exist/ })
  using same = SharedMemoryObject.openOrCreate(name)
  assert.equal(same.size, shm.size)
  assert.equal(SharedMemoryObject.remove(name), true)
  assert.equal(SharedMemoryObject.remove(name), false)
  assert.ok(!readdirSync(folder).includes(name), 'remove deleted the file')
})

test('remove while mapped: the mapping stays valid, the name is free again', (t) => {
  const name = named(t)
  const shm = SharedMemoryObject.create(name)
  shm.truncate(4096)
  using region = new MappedRegion(shm)
  const bytes = new Uint8Array(region.buffer)
  bytes[0] = 11
  assert.equal(SharedMemoryObject.remove(name), true, 'removing an open, mapped object succeeds (every handle shares delete)')
  assert.throws(() => SharedMemoryObject.open(name), { code: 'ENOENT' })
  bytes[1] = 12
  assert.deepEqual(Array.from(bytes.subarray(0, 2)), [11, 12], 'the mapping still works')
  using fresh = SharedMemoryObject.create(name)
  assert.equal(fresh.size, 0, 'the name now holds a new, empty object')
  shm.close()
})

test('read-only: truncate is EREADONLY, a writable map is refused, a stray write stays private', (t) => {
  const name = named(t)
  using shm = SharedMemoryObject.create(name)
  shm.truncate(4096)
  using rw = new MappedRegion(shm)
  new Uint8Array(rw.buffer)[0] = 1
  using ro = SharedMemoryObject.open(name, { readOnly: true })
  assert.throws(() => ro.truncate(0), { name: 'ShmError', code: 'EREADONLY' })
  assert.throws(() => new MappedRegion(ro, { readOnly: false }), { name: 'ShmError', code: 'EREADONLY' })
  using view = new MappedRegion(ro)
  const seen = new Uint8Array(view.buffer)
  assert.equal(seen[0], 1)
  seen[100] = 77 // copy-on-write page: no crash, not shared
  assert.equal(new Uint8Array(rw.buffer)[100], 0, 'the stray write did not reach the object')
})

test('fd is ENOTSUP (a kernel32 handle, not a descriptor); use after close is ECLOSED', (t) => {
  const name = named(t)
  const shm = SharedMemoryObject.create(name)
  assert.throws(() => shm.fd, { name: 'ShmError', code: 'ENOTSUP', message: /no file descriptor on Windows/ })
  shm.close()
  assert.throws(() => shm.size, { name: 'ShmError', code: 'ECLOSED' })
  assert.throws(() => shm.truncate(1), { name: 'ShmError', code: 'ECLOSED' })
  assert.throws(() => new MappedRegion(shm), { name: 'ShmError', code: 'ECLOSED' })
  shm.close()
})
