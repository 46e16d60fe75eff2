// What the inspector CLI reads: free blocks in address order, the largest,
// the count; and the in-place resizing figures.
import t from 'tap'
import { BLOCK_OVERHEAD, RbTreeBestFit } from '@shmkit/allocator'

t.test('freeBlocks, numFreeBlocks and largestFreeBlock describe the holes', async (t) => {
  const buffer = new ArrayBuffer(64 * 1024)
  const a = RbTreeBestFit.format(buffer, 0, buffer.byteLength)
  const whole = [...a.freeBlocks()]
  t.equal(whole.length, 1)
  t.equal(whole[0]?.size, a.freeMemory)
  t.equal(a.largestFreeBlock, a.freeMemory)
  const blocks = [100, 2000, 300, 4000, 50].map((n) => a.allocate(n))
  a.deallocate(blocks[1] as number)
  a.deallocate(blocks[3] as number)
  const free = [...a.freeBlocks()]
  t.equal(a.numFreeBlocks, 3, 'two holes and the tail')
  t.same(
    free.map((b) => b.offset),
    [...free.map((b) => b.offset)].sort((x, y) => x - y),
    'in address order',
  )
  t.equal(free[0]?.offset, (blocks[1] as number) - BLOCK_OVERHEAD)
  t.equal(free[0]?.size, 2000 + BLOCK_OVERHEAD, 'the 2000-byte hole, header included')
  t.equal(
    free.reduce((s, b) => s + b.size, 0),
    a.freeMemory,
  )
  t.equal(a.largestFreeBlock, Math.max(...free.map((b) => b.size)))
  for (const b of [blocks[0], blocks[2], blocks[4]]) a.deallocate(b as number)
  t.ok(a.allMemoryDeallocated())
})

t.test('expand takes the preferred size when the successor has room, the minimum otherwise', async (t) => {
  const buffer = new ArrayBuffer(64 * 1024)
  const a = RbTreeBestFit.format(buffer, 0, buffer.byteLength)
  const x = a.allocate(100)
  const hole = a.allocate(1000)
  const wall = a.allocate(100)
  a.deallocate(hole)
  t.equal(a.expand(x, 50), a.sizeOf(x), 'already big enough: unchanged')
  t.equal(a.expand(x, 500, 800), 800, 'room for the preferred size')
  t.equal(a.expand(x, 1100, 5000), a.sizeOf(x), 'only the minimum fits: takes what there is')
  t.ok(a.sizeOf(x) >= 1100 && a.sizeOf(x) < 5000)
  t.equal(a.expand(x, 5000), -1, 'blocked by the next live block')
  t.equal(a.shrink(x, 40), 48, 'shrink rounds to the 16-byte unit')
  t.equal(a.shrink(x, 40), 48, 'nothing to split off a second time')
  t.throws(() => a.expand(x, -1), { name: 'ShmError', code: 'EINVAL', message: /invalid minBytes/ })
  a.deallocate(x)
  a.deallocate(wall)
  t.ok(a.allMemoryDeallocated() && a.checkSanity().ok)
})

t.test('grow onto a larger buffer (a remap) keeps every block', async (t) => {
  const small = new ArrayBuffer(32 * 1024)
  const a = RbTreeBestFit.format(small, 0, small.byteLength)
  const x = a.allocate(1000)
  new Uint8Array(small, x, 1000).fill(7)
  const big = new ArrayBuffer(96 * 1024)
  new Uint8Array(big).set(new Uint8Array(small))
  t.throws(() => a.grow(64 * 1024), { name: 'ShmError', code: 'EINVAL', message: /no more than the buffer holds/ })
  a.grow(64 * 1024, big)
  t.equal(a.size, 96 * 1024)
  t.ok(
    new Uint8Array(big, x, 1000).every((v) => v === 7),
    'the block moved with the bytes',
  )
  const y = a.allocate(60 * 1024)
  t.ok(a.checkSanity().ok)
  a.deallocate(x)
  a.deallocate(y)
  t.ok(a.allMemoryDeallocated())
  t.equal(RbTreeBestFit.attach(big, 0).size, 96 * 1024, 'a later attach sees the grown range')
})
