// A second instance (another process, in named-store) attaches to the same
// bytes and continues; bytes that are not a formatted allocator are refused.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { ALLOCATOR_VERSION, AllocatorHeader, RbTreeBestFit } from '@shmkit/allocator'

t.test('a second instance attached to the same bytes continues the first one', async (t) => {
  const buffer = new ArrayBuffer(64 * 1024)
  const a = RbTreeBestFit.format(buffer, 128, 32 * 1024)
  const x = a.allocate(100)
  const b = RbTreeBestFit.attach(buffer, 128)
  t.equal(b.freeMemory, a.freeMemory)
  t.equal(b.sizeOf(x), a.sizeOf(x))
  const y = b.allocate(200)
  t.not(y, x)
  a.deallocate(y)
  b.deallocate(x)
  t.ok(a.allMemoryDeallocated() && b.allMemoryDeallocated())
})

t.test('attach refuses what is not an allocator', async (t) => {
  const random = randomBytes(8192)
  const buffer = random.buffer.slice(random.byteOffset, random.byteOffset + random.byteLength)
  t.throws(() => RbTreeBestFit.attach(buffer, 0), { name: 'ShmError', code: 'ECORRUPT', message: /bad magic/ })
  const good = new ArrayBuffer(8192)
  RbTreeBestFit.format(good, 0, 8192)
  const u32 = new Uint32Array(good)
  u32[AllocatorHeader.VERSION >> 2] = 7
  t.throws(() => RbTreeBestFit.attach(good, 0), { name: 'ShmError', code: 'EVERSION', message: /version 7/ })
  u32[AllocatorHeader.VERSION >> 2] = ALLOCATOR_VERSION
  u32[AllocatorHeader.SIZE_LO >> 2] = 1 << 20
  t.throws(() => RbTreeBestFit.attach(good, 0), { name: 'ShmError', code: 'ECORRUPT', message: /do not fit/ })
  t.throws(() => RbTreeBestFit.attach(good, 3), { name: 'ShmError', code: 'ECORRUPT' })
})
