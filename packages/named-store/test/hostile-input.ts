// Inputs a user (or a neighbour writing the segment) can pass that used to
// crash, mislead or lose data: each is now a ShmError with a stable code.
import t from 'tap'
import { existsSync, mkdirSync, rmdirSync, rmSync } from 'node:fs'
import { ManagedHeapMemory, ManagedSharedMemory, ManagedXsiSharedMemory, SegmentHeader, t as types } from '@shmkit/named-store'
import { SharedMemoryObject, xsiKey } from '@shmkit/ffi-shm'
import { fileURLToPath } from 'node:url'

const err = (code: string, message?: RegExp) => (message === undefined ? { name: 'ShmError', code } : { name: 'ShmError', code, message })

t.test('lone surrogates in object and segment names are EINVAL', (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  seg.construct('\uFFFD', types.int32, 1)
  t.throws(() => seg.construct('\uD800', types.int32, 2), err('EINVAL', /lone surrogates/))
  t.throws(() => seg.find('\uDC00x', types.int32), err('EINVAL'))
  t.throws(() => seg.destroy('a\uD800'), err('EINVAL'))
  t.equal(seg.find('\uFFFD', types.int32)?.value, 1, 'the replacement-character name is untouched')
  t.ok(seg.construct('\uD83D\uDE00', types.int32, 3), 'a paired surrogate (an emoji) is a fine name')
  t.throws(() => ManagedSharedMemory.create('x\uD800', 1 << 20), err('EINVAL', /lone surrogates/))
  t.throws(() => SharedMemoryObject.open('x\uDBFF'), err('EINVAL'))
  t.end()
})

t.test("segment names '.' and '..' are EINVAL", (t) => {
  for (const name of ['.', '..']) {
    t.throws(() => ManagedSharedMemory.create(name, 1 << 20), err('EINVAL', /not '\.' or '\.\.'/))
    t.throws(() => ManagedSharedMemory.open(name), err('EINVAL'))
    t.throws(() => ManagedSharedMemory.openOrCreate(name, 1 << 20), err('EINVAL'))
    t.throws(() => ManagedSharedMemory.remove(name), err('EINVAL'))
    t.throws(() => SharedMemoryObject.remove(name), err('EINVAL'))
    t.throws(() => SharedMemoryObject.create(name), err('EINVAL'))
  }
  t.end()
})

t.test('deallocate of a bigint and a look-alike type are EINVAL, and never reach the segment', (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  t.throws(() => seg.deallocate(16n as unknown as number), err('EINVAL', /invalid offset/))
  const fake = {
    kind: 'int32',
    size: -1,
    align: 4,
    name: 'int32',
    fingerprintLo: 1,
    fingerprintHi: 2,
    validate: () => [],
    store: () => {},
    zero: () => {},
    read: () => 0,
    view: () => ({}),
  }
  t.throws(() => seg.construct('f', fake as never), err('EINVAL', /invalid type/))
  t.throws(() => seg.constructArray('f', fake as never, 2), err('EINVAL', /invalid type/))
  const liar = { ...fake, size: 4, fingerprintLo: types.int32.fingerprintLo + 1, fingerprintHi: types.int32.fingerprintHi }
  t.throws(() => seg.construct('f', liar as never), err('EINVAL', /invalid type/), 'a fingerprint that is not its name')
  t.throws(() => seg.find('f', { size: 4 } as never), err('EINVAL'))
  t.equal(seg.numNamedObjects, 0)
  t.ok(seg.checkSanity(), 'every process still sees a sane segment')
  t.end()
})

t.test('XSI key 0 (IPC_PRIVATE) is refused instead of leaking a segment per call', (t) => {
  t.throws(() => ManagedXsiSharedMemory.create(0, 1 << 20), err('EINVAL', /IPC_PRIVATE/))
  t.throws(() => ManagedXsiSharedMemory.openOrCreate(0, 1 << 20), err('EINVAL', /IPC_PRIVATE/))
  t.throws(() => ManagedXsiSharedMemory.remove(0), err('EINVAL', /IPC_PRIVATE/))
  t.end()
})

t.test('an XSI segment has an owner file while it exists, removed with it', (t) => {
  const key = xsiKey(fileURLToPath(import.meta.url), 97)
  ManagedXsiSharedMemory.remove(key)
  const seg = ManagedXsiSharedMemory.create(key, 1 << 20)
  t.teardown(() => {
    seg.close()
    ManagedXsiSharedMemory.remove(key)
  })
  t.equal(seg.stats().ownerMethod, 'file-lock', 'owners are told apart by file locks, not pids')
  t.ok(existsSync(`/dev/shm/shmkit-xsi-${seg.shmid}.owners`))
  const other = ManagedXsiSharedMemory.open(key, { lock: { timeoutMs: 2000 } })
  seg.withLock(() => t.throws(() => other.construct('x', types.int32), err('EDEADLK')))
  other.close()
  // Without its owner file (a directory squats the name), owners fall back to pids — never to this thread's registry.
  const ownerFile = `/dev/shm/shmkit-xsi-${seg.shmid}.owners`
  rmSync(ownerFile)
  mkdirSync(ownerFile)
  const fallback = ManagedXsiSharedMemory.open(key)
  t.equal(fallback.stats().ownerMethod, 'pid', 'a mapping shared with other processes never uses the thread registry')
  fallback.close()
  rmdirSync(ownerFile)
  seg.close()
  t.ok(ManagedXsiSharedMemory.remove(key))
  t.notOk(existsSync(`/dev/shm/shmkit-xsi-${seg.shmid}.owners`), 'remove takes the owner file too')
  t.end()
})

/** The header words of a heap segment, as a neighbour writing the segment would see them. */
const headerOf = (seg: ManagedHeapMemory): Uint32Array => (seg as unknown as { mem: { u32: Uint32Array } }).mem.u32

t.test("the header's name-table offset set to 0 is ECORRUPT, not an empty index", (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  seg.construct('a', types.int32, 1)
  const u32 = headerOf(seg)
  const table = u32[SegmentHeader.TABLE_OFFSET >> 2] ?? 0
  u32[SegmentHeader.TABLE_OFFSET >> 2] = 0
  t.throws(() => seg.find('a', types.int32), err('ECORRUPT', /name table offset 0/))
  t.throws(() => seg.construct('b', types.int32, 2), err('ECORRUPT', /name table offset 0/))
  u32[SegmentHeader.TABLE_OFFSET >> 2] = 64
  t.throws(() => seg.construct('b', types.int32, 2), err('ECORRUPT', /out of range/), 'a table over the header')
  u32[SegmentHeader.TABLE_OFFSET >> 2] = table + 16
  t.throws(() => seg.construct('b', types.int32, 2), err('ECORRUPT', /not inside a live allocator block/), 'a table moved off its block')
  u32[SegmentHeader.TABLE_OFFSET >> 2] = table
  t.equal(seg.find('a', types.int32)?.value, 1, 'restored, all is well')
  t.ok(seg.checkSanity())
  t.end()
})

t.test("an array record's count raised past its block is ECORRUPT, never a view over the neighbours", (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  const arr = seg.constructArray('arr', types.int32, 10, 1)
  seg.construct('next', types.int32, 42)
  const u32 = headerOf(seg)
  // The record's count word: find it by its value just before the object's back pointer.
  const record = u32[(arr.offset - 4) >> 2] ?? 0
  let countAt = -1
  for (let at = record; at < arr.offset; at += 4) if (u32[at >> 2] === 10) countAt = at
  t.not(countAt, -1)
  u32[countAt >> 2] = 1000
  t.throws(() => seg.findArray('arr', types.int32), err('ECORRUPT', /counts 1000 elements/))
  t.equal(seg.find('next', types.int32)?.value, 42)
  t.end()
})

t.test("an array record's count and byte length raised together are ECORRUPT: a record never reaches past its allocator block", (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  const arr = seg.constructArray('arr', types.int32, 10, 1)
  const next = seg.construct('next', types.int32, 42)
  const u32 = headerOf(seg)
  const record = u32[(arr.offset - 4) >> 2] ?? 0
  const words: number[] = []
  for (let at = record; at < arr.offset; at += 4) if (u32[at >> 2] === 10 || u32[at >> 2] === 40) words.push(at)
  t.equal(words.length, 2, 'the count and byte-length words')
  for (const at of words) u32[at >> 2] = (u32[at >> 2] ?? 0) * 100
  t.throws(() => seg.findArray('arr', types.int32), err('ECORRUPT', /not inside a live allocator block/))
  t.throws(() => seg.find('arr', types.array(types.int32, 1000)), err('ECORRUPT', /not inside a live allocator block/))
  t.equal(next.value, 42, 'the neighbour is untouched')
  t.end()
})

t.test('a stale journal count never rolls back committed objects', (t) => {
  const seg = new ManagedHeapMemory(4 << 20)
  for (let i = 0; i < 201; i++) seg.construct(`o${i}`, types.int32, i)
  const header = new Uint32Array((seg as unknown as { mem: { buffer: ArrayBuffer } }).mem.buffer, 0, 32)
  header[SegmentHeader.JOURNAL_COUNT >> 2] = 600
  t.throws(() => seg.construct('o5', types.int32, 0), err('EEXIST'), 'a failing construct rolls back')
  let found = 0
  for (let i = 0; i < 201; i++) if (seg.find(`o${i}`, types.int32)?.value === i) found++
  t.equal(found, 201, 'all 201 committed objects are still there')
  // The same stale count left by an owner that died holding the lock: the takeover rolls back only its own entries.
  header[SegmentHeader.JOURNAL_COUNT >> 2] = 600
  header[SegmentHeader.LOCK_WORD >> 2] = 4242
  seg.construct('after', types.int32, 1)
  t.equal(seg.lockRecoveries, 1, 'the dead owner was recovered')
  found = 0
  for (let i = 0; i < 201; i++) if (seg.find(`o${i}`, types.int32)?.value === i) found++
  t.equal(found, 201, 'still all 201 after the recovery')
  t.ok(seg.checkSanity())
  t.end()
})

t.test('constructArray of 2^27 and 2^28 elements fills in place: no JS array of count copies, no heap exhaustion', (t) => {
  // The fill used to copy the value into a JS array of `count` elements first:
  // 2^27 was a RangeError and 2^28 aborted Node (heap out of memory).
  const seg = new ManagedHeapMemory(300 << 20)
  t.teardown(() => seg.close())
  for (const count of [2 ** 27, 2 ** 28]) {
    const heapBefore = process.memoryUsage().heapUsed
    const view = seg.constructArray(`fill${count}`, types.uint8, count, 1)
    const grown = process.memoryUsage().heapUsed - heapBefore
    t.equal(view.length, count)
    t.equal(view.get(0), 1)
    t.equal(view.get(count >>> 1), 1)
    t.equal(view.get(count - 1), 1)
    t.ok(grown < 32 << 20, `JS heap grew ${(grown / 2 ** 20).toFixed(1)} MiB for ${count} elements`)
    t.equal(seg.destroy(`fill${count}`), true)
  }
  t.ok(seg.allMemoryDeallocated())
  t.end()
})
