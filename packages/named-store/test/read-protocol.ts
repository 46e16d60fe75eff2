// How a lock-free reader meets a writer: it waits for a live one, answers
// ETIMEDOUT (naming the segment) for a stopped one, recovers a dead one when
// it can lock, and calls an odd generation nobody is writing corrupt.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { MappedRegion, SharedMemoryObject } from '@shmkit/ffi-shm'
import { ManagedSharedMemory, SegmentHeader, t as types } from '@shmkit/named-store'
import { fixture, segmentName } from './helpers/segments.js'

function holdGeneration(name: string, ms: number): { child: ChildProcess; odd: Promise<void>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture('hold-generation.ts'), name, String(ms)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  const odd = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('odd\n')) resolve()
    })
    child.on('exit', () => reject(new Error(`writer exited before it held the generation: ${out}`)))
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, odd, exited }
}

t.test('a read-only find beside a live writer waits for it, then answers', async (t) => {
  const name = segmentName(t)
  const seg = ManagedSharedMemory.create(name, 1 << 20)
  t.teardown(() => seg.close())
  seg.construct('x', types.int32, 7)
  const reader = ManagedSharedMemory.open(name, { readOnly: true })
  t.teardown(() => reader.close())
  const writer = holdGeneration(name, 400)
  await writer.odd
  // Blocks this thread until the writer is done: 400 ms of an odd generation is a slow writer, not a dead one.
  t.equal(reader.find('x', types.int32)?.value, 7)
  t.equal(await writer.exited, 0)
})

t.test('a stopped writer: ETIMEDOUT naming the segment; once it is dead, a writable handle recovers it', async (t) => {
  const name = segmentName(t)
  const seg = ManagedSharedMemory.create(name, 1 << 20)
  t.teardown(() => seg.close())
  seg.construct('x', types.int32, 7)
  const reader = ManagedSharedMemory.open(name, { readOnly: true, read: { stallMs: 300 } })
  t.teardown(() => reader.close())
  const writer = holdGeneration(name, 60_000)
  t.teardown(() => writer.child.kill('SIGKILL'))
  await writer.odd
  writer.child.kill('SIGSTOP')
  t.throws(() => reader.find('x', types.int32), {
    name: 'ShmError',
    code: 'ETIMEDOUT',
    message: new RegExp(`shared memory "${name}": a writer has been stuck mid-operation`),
  })
  t.throws(() => reader.names(), { code: 'ETIMEDOUT' }, 'names() too')
  writer.child.kill('SIGKILL')
  await writer.exited
  // A writable handle falls back on the lock, whose takeover rolls the dead writer back.
  t.equal(seg.find('x', types.int32)?.value, 7)
  t.equal(reader.find('x', types.int32)?.value, 7, 'and the read-only handle reads again')
  t.ok(reader.checkSanity())
})

t.test('an odd generation with nobody holding the lock is corrupt, and the next write heals it', async (t) => {
  const name = segmentName(t)
  const seg = ManagedSharedMemory.create(name, 1 << 20)
  t.teardown(() => seg.close())
  seg.construct('x', types.int32, 7)
  const raw = SharedMemoryObject.open(name)
  const region = new MappedRegion(raw)
  t.teardown(() => (region.close(), raw.close()))
  Atomics.add(new Int32Array(region.buffer), SegmentHeader.GENERATION >> 2, 1)
  const reader = ManagedSharedMemory.open(name, { readOnly: true })
  t.teardown(() => reader.close())
  t.throws(() => reader.find('x', types.int32), { name: 'ShmError', code: 'ECORRUPT', message: /odd .* but nobody holds the lock/ })
  seg.construct('y', types.int32, 8)
  t.equal(reader.find('x', types.int32)?.value, 7)
  t.equal(reader.find('y', types.int32)?.value, 8)
})
