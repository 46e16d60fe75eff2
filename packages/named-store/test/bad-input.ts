import t from 'tap'
import { writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { SharedMemoryObject, MappedRegion } from '@shmkit/ffi-shm'
import { ManagedHeapMemory, ManagedMappedFile, ManagedSharedMemory, SegmentHeader, t as types } from '@shmkit/named-store'
import { segmentName, tempPath } from './helpers/segments.js'

const err = (code: string, message?: RegExp) => (message === undefined ? { name: 'ShmError', code } : { name: 'ShmError', code, message })

t.test('ENOENT and EEXIST', async (t) => {
  const name = segmentName(t)
  t.throws(() => ManagedSharedMemory.open(name), err('ENOENT'))
  const seg = ManagedSharedMemory.create(name, 1 << 20)
  t.teardown(() => seg.close())
  t.throws(() => ManagedSharedMemory.create(name, 1 << 20), err('EEXIST'))
  seg.construct('x', types.int32)
  t.throws(() => seg.construct('x', types.int32), err('EEXIST', /already holds an object named "x"/))
})

t.test('EINVAL: names, sizes, counts, options and init values', async (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  t.teardown(() => seg.close())
  t.throws(() => seg.construct('', types.int32), err('EINVAL', /invalid name/))
  t.throws(() => seg.construct('x'.repeat(2000), types.int32), err('EINVAL', /at most 1024 UTF-8 bytes/))
  t.throws(() => seg.construct(42 as unknown as string, types.int32), err('EINVAL', /invalid name/))
  t.throws(() => seg.construct('a', {} as typeof types.int32), err('EINVAL', /invalid type/))
  t.throws(() => seg.constructArray('a', types.int32, 0), err('EINVAL', /invalid count/))
  t.throws(() => seg.constructArray('a', types.int32, 1.5), err('EINVAL', /invalid count/))
  t.throws(() => seg.construct('a', types.int32, 1.5), err('EINVAL', /init/))
  t.throws(() => seg.construct('a', types.struct({ pos: types.struct({ x: types.int8 }) }), { pos: { x: 300 } }), err('EINVAL', /pos\.x/))
  t.equal(seg.numNamedObjects, 0, 'nothing was constructed by the failed calls')
  t.throws(() => new ManagedHeapMemory(-1), err('EINVAL', /invalid size/))
  t.throws(() => new ManagedHeapMemory(100), err('EINVAL', /invalid size.*from \d+ to 4294967296/))
  t.throws(() => new ManagedHeapMemory(2 ** 33), err('EINVAL', /invalid size/))
  t.throws(() => ManagedSharedMemory.create('bad/name', 1 << 20), err('EINVAL'))
  t.throws(() => ManagedSharedMemory.create(`x-${process.pid}`, 1 << 20, { mode: 0o1000 }), err('EINVAL', /mode/))
  t.throws(
    () => ManagedSharedMemory.open(`x-${process.pid}`, { readOnly: 'yes' } as unknown as { readOnly: boolean }),
    err('EINVAL', /readOnly/),
  )
  t.throws(() => seg.at(3, types.int32), err('EINVAL', /invalid offset/))
  t.throws(() => seg.at(seg.size, types.int32), err('EINVAL', /invalid offset/))
  t.throws(() => seg.deallocate(12345), err('EINVAL'))
  t.throws(() => seg.destroyPtr(8), err('EINVAL'))
})

t.test('ENOMEM says how much was asked and how much is free', async (t) => {
  const seg = new ManagedHeapMemory(64 * 1024)
  t.teardown(() => seg.close())
  const free = seg.freeMemory
  t.throws(() => seg.allocate(1 << 20), err('ENOMEM', /heap segment is full/))
  t.throws(() => seg.constructArray('big', types.float64, 100_000), err('ENOMEM'))
  t.equal(seg.freeMemory, free, 'a failed construct leaves no trace')
  t.equal(seg.numNamedObjects, 0)
  let n = 0
  t.throws(() => {
    for (;;) seg.construct(`o${n++}`, types.int64)
  }, err('ENOMEM'))
  t.ok(seg.checkSanity(), 'running out mid-way leaves a sane segment')
  t.equal(seg.numNamedObjects, n - 1)
})

t.test('ETYPE: find with another type is an error, not garbage', async (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  t.teardown(() => seg.close())
  seg.construct('i', types.int32, 1)
  t.throws(() => seg.find('i', types.float64), err('ETYPE', /"i" in heap segment is int32, not float64/))
  seg.constructArray('arr', types.int32, 4)
  t.throws(() => seg.find('arr', types.int32), err('ETYPE', /array\(int32,4\)/))
  t.throws(() => seg.findArray('arr', types.uint32), err('ETYPE'))
  t.throws(() => seg.findArray('i', types.int32), err('ETYPE'))
})

t.test('ECORRUPT: random bytes, a zero-length file, a foreign shm object', async (t) => {
  const random = tempPath(t)
  writeFileSync(random, randomBytes(64 * 1024))
  t.throws(() => ManagedMappedFile.open(random), err('ECORRUPT', /not a shmkit segment/))
  const empty = tempPath(t)
  writeFileSync(empty, '')
  t.throws(() => ManagedMappedFile.open(empty, { timeoutMs: 50 }), err('ECORRUPT'))
  const name = segmentName(t)
  const raw = SharedMemoryObject.create(name)
  raw.truncate(64 * 1024)
  const region = new MappedRegion(raw)
  new Uint8Array(region.buffer).fill(0xab)
  region.close()
  raw.close()
  t.throws(() => ManagedSharedMemory.open(name), err('ECORRUPT'))
})

t.test('ECORRUPT after a creator died half-way (state stuck at initializing)', async (t) => {
  const name = segmentName(t)
  const raw = SharedMemoryObject.create(name)
  raw.truncate(64 * 1024)
  const region = new MappedRegion(raw)
  new Int32Array(region.buffer)[SegmentHeader.STATE >> 2] = 1
  region.close()
  raw.close()
  t.throws(() => ManagedSharedMemory.open(name, { timeoutMs: 100 }), err('ECORRUPT', /never finished/))
})

t.test('EVERSION: a segment of another layout version', async (t) => {
  const name = segmentName(t)
  ManagedSharedMemory.create(name, 1 << 20).close()
  const raw = SharedMemoryObject.open(name)
  const region = new MappedRegion(raw)
  new Uint32Array(region.buffer)[SegmentHeader.VERSION >> 2] = 99
  region.close()
  raw.close()
  t.throws(() => ManagedSharedMemory.open(name), err('EVERSION', /layout version 99/))
})

t.test('ECLOSED: every call after close, and views obtained before', async (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  const v = seg.construct('v', types.int32, 1)
  seg.close()
  seg.close()
  t.throws(() => seg.find('v', types.int32), err('ECLOSED'))
  t.throws(() => seg.construct('w', types.int32), err('ECLOSED'))
  t.throws(() => seg.allocate(8), err('ECLOSED'))
  t.throws(() => seg.names(), err('ECLOSED'))
  t.throws(() => v.value, err('ECLOSED'))
  t.throws(() => {
    v.value = 2
  }, err('ECLOSED'))
})
