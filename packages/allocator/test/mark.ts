// The owner's mark bit in a live block's header: set, read, kept by
// expand/shrink, dropped by a free, and never confused with the block's bytes.
import t from 'tap'
import { RbTreeBestFit } from '@shmkit/allocator'

t.test('mark, isMarked, and what clears a mark', async (t) => {
  const buffer = new ArrayBuffer(64 * 1024)
  const a = RbTreeBestFit.format(buffer, 0, buffer.byteLength)
  const x = a.allocate(64)
  const y = a.allocate(64)
  t.equal(a.isMarked(x), false, 'a fresh block is unmarked')
  a.mark(x, true)
  t.equal(a.isMarked(x), true)
  t.equal(a.isMarked(y), false, 'only that block')
  new Uint8Array(buffer, x, 64).fill(0xff)
  t.equal(a.isMarked(x), true, "the block's own bytes play no part")
  t.ok(a.checkSanity().ok, 'a marked block is a sound live block')
  a.shrink(x, 16)
  t.equal(a.isMarked(x), true, 'shrink keeps the mark')
  a.mark(x, false)
  t.equal(a.isMarked(x), false)
  a.mark(x, true)
  a.deallocate(x)
  t.throws(() => a.isMarked(x), { name: 'ShmError', code: 'EINVAL' }, 'a freed block has no mark to read')
  t.throws(() => a.mark(x, true), { name: 'ShmError', code: 'EINVAL' })
  const again = a.allocate(16)
  t.equal(again, x, 'the same block comes back')
  t.equal(a.isMarked(again), false, 'unmarked after a free and a new allocate')
  t.throws(() => a.isMarked(x + 16), { name: 'ShmError', code: 'EINVAL' }, 'not a block start')
  t.ok(a.checkSanity().ok)
})

t.test("a marked check word that is not the block's own is reported", async (t) => {
  const buffer = new ArrayBuffer(64 * 1024)
  const a = RbTreeBestFit.format(buffer, 0, buffer.byteLength)
  const x = a.allocate(64)
  a.mark(x, true)
  const u32 = new Uint32Array(buffer)
  u32[(x - 16 + 8) >> 2] = (u32[(x - 16 + 8) >> 2] ?? 0) ^ 0x100
  const report = a.checkSanity()
  t.equal(report.ok, false)
  t.match(report.problems.join('\n'), /live block without its check word/)
})
