// Every managed kind that exists on Windows, in one Windows process:
// ManagedSharedMemory (the file emulation), ManagedWindowsSharedMemory
// (native), ManagedMappedFile, ManagedHeapMemory, ManagedExternalBuffer.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  ManagedExternalBuffer,
  ManagedHeapMemory,
  ManagedMappedFile,
  ManagedSharedMemory,
  ManagedWindowsSharedMemory,
  ManagedXsiSharedMemory,
  t as types,
  type SegmentManager,
} from '@shmkit/named-store'
import { anonymousSharedMemory, xsiKey } from '@shmkit/ffi-shm'
import { collectGarbage, removeMappedFile, uniqueName } from './helpers.js'

const Point = types.struct({ x: types.float64, y: types.float64, label: types.string(16) })

/** The same work on any kind: every object operation, then everything given back. */
function exercise(seg: SegmentManager): void {
  const free0 = seg.freeMemory
  const p = seg.construct('origin', Point, { x: 1, y: 2, label: 'o' })
  p.x = 3
  assert.equal(seg.find('origin', Point)?.x, 3)
  assert.throws(() => seg.construct('origin', Point), { name: 'ShmError', code: 'EEXIST' })
  assert.throws(() => seg.find('origin', types.int32), { name: 'ShmError', code: 'ETYPE' })
  const hits = seg.findOrConstruct('hits', types.uint32, 0)
  assert.equal(hits.add(5), 0)
  assert.equal(hits.compareExchange(5, 7), 5)
  const arr = seg.constructArray('primes', types.uint32, 4, [2, 3, 5, 7])
  assert.deepEqual(Array.from(arr.typed), [2, 3, 5, 7])
  const anon = seg.anonymous(types.float64, 1.5)
  assert.equal(seg.at(anon.offset, types.float64).value, 1.5)
  const raw = seg.allocate(1000, { align: 64 })
  assert.equal(raw % 64, 0)
  assert.equal(seg.numNamedObjects, 3)
  assert.deepEqual([...seg.names()].map((n) => n.name).sort(), ['hits', 'origin', 'primes'])
  assert.equal(
    seg.withLock(() => 'under the lock'),
    'under the lock',
  )
  assert.ok(seg.checkSanity())
  seg.deallocate(raw)
  seg.destroyPtr(anon)
  for (const name of ['origin', 'hits', 'primes']) assert.equal(seg.destroy(name), true)
  assert.equal(seg.destroy('origin'), false)
  assert.ok(seg.allMemoryDeallocated())
  assert.equal(seg.freeMemory, free0)
}

test('ManagedSharedMemory (the portable kind, a file under %TEMP%\\shmkit-shm)', (t) => {
  const name = uniqueName()
  t.after(() => ManagedSharedMemory.remove(name))
  const seg = ManagedSharedMemory.create(name, 1 << 20)
  exercise(seg)
  seg.construct('kept', types.int32, 42)
  const reader = ManagedSharedMemory.open(name, { readOnly: true })
  assert.equal(reader.find('kept', types.int32)?.value, 42)
  assert.throws(() => reader.construct('nope', types.int32, 1), { name: 'ShmError', code: 'EREADONLY' })
  reader.close()
  const again = ManagedSharedMemory.openOrCreate(name, 1 << 20)
  assert.equal(again.find('kept', types.int32)?.value, 42, 'openOrCreate opened the existing segment')
  again.close()
  seg.close()
  assert.throws(() => seg.find('kept', types.int32), { name: 'ShmError', code: 'ECLOSED' })
  assert.equal(ManagedSharedMemory.remove(name), true)
  assert.throws(() => ManagedSharedMemory.open(name), { name: 'ShmError', code: 'ENOENT' })
})

test('ManagedWindowsSharedMemory (native): works, and dies with its last handle', () => {
  const name = uniqueName()
  const seg = ManagedWindowsSharedMemory.create(name, 1 << 20)
  exercise(seg)
  seg.construct('kept', types.int32, 42)
  const other = ManagedWindowsSharedMemory.open(name)
  assert.equal(other.find('kept', types.int32)?.value, 42)
  const reader = ManagedWindowsSharedMemory.open(name, { readOnly: true })
  assert.throws(() => reader.destroy('kept'), { name: 'ShmError', code: 'EREADONLY' })
  reader.close()
  other.close()
  assert.throws(() => ManagedWindowsSharedMemory.create(name, 1 << 20), { name: 'ShmError', code: 'EEXIST' })
  assert.equal(ManagedWindowsSharedMemory.remove(name), false, 'nothing to remove by name on Windows')
  seg.close()
  // The views stay mapped until collected, and a view keeps its mapping
  // alive: the name is free again once they are.
})

test('ManagedWindowsSharedMemory: gone when every handle and view is', async () => {
  const name = uniqueName()
  let seg: ManagedWindowsSharedMemory | undefined = ManagedWindowsSharedMemory.create(name, 1 << 20)
  seg.construct('x', types.int32, 1)
  seg.close()
  seg = undefined
  await collectGarbage()
  assert.throws(() => ManagedWindowsSharedMemory.open(name), { name: 'ShmError', code: 'ENOENT' })
})

test('ManagedMappedFile: persists across close, removable once its views are collected', async (t) => {
  const path = join(tmpdir(), `${uniqueName()}.seg`)
  t.after(() => removeMappedFile(path))
  let seg: ManagedMappedFile | undefined = ManagedMappedFile.create(path, 1 << 20)
  exercise(seg)
  seg.construct('persisted', types.float64, 2.5)
  seg.close()
  seg = ManagedMappedFile.open(path)
  assert.equal(seg.find('persisted', types.float64)?.value, 2.5)
  seg.close()
  seg = undefined
  await collectGarbage()
  assert.equal(ManagedMappedFile.remove(path), true)
})

test('ManagedHeapMemory and ManagedExternalBuffer', () => {
  const heap = new ManagedHeapMemory(1 << 20)
  exercise(heap)
  heap.close()
  const ext = new ManagedExternalBuffer(new ArrayBuffer(1 << 20))
  exercise(ext)
  ext.close()
})

test('POSIX-only kinds do not exist on Windows: ENOTSUP, not a crash or a raw koffi error', () => {
  const notSupported = { name: 'ShmError', code: 'ENOTSUP', message: /System V shared memory, memfd and futex do not exist on Windows/ }
  assert.throws(() => ManagedXsiSharedMemory.create(1234, 1 << 20), notSupported)
  assert.throws(() => ManagedXsiSharedMemory.open(1234), notSupported)
  assert.throws(() => ManagedXsiSharedMemory.remove(1234), notSupported)
  assert.throws(() => xsiKey(tmpdir(), 1), notSupported)
  assert.throws(() => anonymousSharedMemory(4096), { name: 'ShmError', code: 'ENOTSUP', message: /memfd_create/ })
})
