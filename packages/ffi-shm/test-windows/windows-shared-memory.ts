// Native Windows shared memory (CreateFileMappingW on the paging file): Boost's
// windows_shared_memory. It has no name in any file system and dies with its last handle.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MappedRegion, WindowsSharedMemory } from '@shmkit/ffi-shm'
import { fixture, runNode, uniqueName } from './helpers.js'

test('create, map, and another Windows process reads and writes it', async () => {
  const name = uniqueName()
  using shm = WindowsSharedMemory.create(name, 70_000)
  assert.equal(shm.size, 70_000)
  using region = new MappedRegion(shm)
  const bytes = new Uint8Array(region.buffer)
  bytes.set([1, 2, 3, 4])
  bytes[69_999] = 5
  const read = await runNode(fixture('peer.js'), ['native', name, 'read'])
  assert.equal(read.code, 0, read.stderr)
  const seen = JSON.parse(read.stdout) as { size: number; first: number[]; last: number }
  assert.deepEqual(seen.first, [1, 2, 3, 4])
  // An opened mapping's size is what VirtualQuery reports: whole pages.
  assert.ok(seen.size >= 70_000 && seen.size % 4096 === 0, `opened size ${seen.size} is 70,000 rounded up to pages`)
  const wrote = await runNode(fixture('peer.js'), ['native', name, 'write'])
  assert.equal(wrote.code, 0, wrote.stderr)
  assert.deepEqual(Array.from(bytes.subarray(0, 4)), [7, 8, 9, 4])
})

test('EEXIST on a second create, ENOENT on a missing name, read-only opens refuse writable maps', () => {
  const name = uniqueName()
  using shm = WindowsSharedMemory.create(name, 4096)
  assert.throws(() => WindowsSharedMemory.create(name, 4096), { name: 'ShmError', code: 'EEXIST' })
  assert.throws(() => WindowsSharedMemory.open(`${name}-missing`), { name: 'ShmError', code: 'ENOENT', message: /does not exist/ })
  using rw = new MappedRegion(shm)
  new Uint8Array(rw.buffer)[0] = 9
  using ro = WindowsSharedMemory.open(name, { readOnly: true })
  assert.throws(() => new MappedRegion(ro, { readOnly: false }), { name: 'ShmError', code: 'EREADONLY' })
  using view = new MappedRegion(ro)
  const seen = new Uint8Array(view.buffer)
  assert.equal(seen[0], 9)
  seen[1] = 1 // copy-on-write view: no crash, not shared
  assert.equal(new Uint8Array(rw.buffer)[1], 0, 'a stray write through the read-only view stays private')
})

test('it dies with its last handle: closed here, or its creating process gone', async () => {
  const name = uniqueName()
  const shm = WindowsSharedMemory.create(name, 4096)
  using other = WindowsSharedMemory.open(name)
  shm.close()
  assert.equal(other.size >= 4096, true, 'alive while another handle is open')
  other.close()
  assert.throws(() => WindowsSharedMemory.open(name), { name: 'ShmError', code: 'ENOENT' }, 'gone once the last handle closed')

  const orphan = uniqueName()
  const r = await runNode(fixture('create-and-exit.js'), [orphan])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout, 'created')
  assert.throws(() => WindowsSharedMemory.open(orphan), { name: 'ShmError', code: 'ENOENT' }, 'gone once its only process exited')
  assert.equal(WindowsSharedMemory.create(orphan, 4096).size, 4096, 'so the name can be created afresh')
})

test('use after close is ECLOSED; bad sizes are EINVAL before any system call', () => {
  const shm = WindowsSharedMemory.create(uniqueName(), 4096)
  shm.close()
  assert.throws(() => new MappedRegion(shm), { name: 'ShmError', code: 'ECLOSED' })
  assert.throws(() => WindowsSharedMemory.create(uniqueName(), 0), { name: 'ShmError', code: 'EINVAL', message: /size/ })
  assert.throws(() => WindowsSharedMemory.create('a\\b', 4096), { name: 'ShmError', code: 'EINVAL' })
})
