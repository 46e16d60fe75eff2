// Ranges up to 4 GiB: block offsets at or past 2^31 are valid 32-bit words
// (a signed shift once turned them negative: "invalid offset" at format).
// The heap buffer is allocated lazily by the OS: only the pages the
// allocator's headers touch are ever backed.
import t from 'tap'
import { RbTreeBestFit } from '@shmkit/allocator'

const GiB = 2 ** 30

for (const size of [2 * GiB + 16, 3 * GiB, 4 * GiB]) {
  t.test(`a ${size}-byte range formats, allocates past 2 GiB and frees`, async (t) => {
    const buffer = new ArrayBuffer(size)
    const a = RbTreeBestFit.format(buffer, 0, size)
    t.equal(a.size, size - (size % 16))
    // A block of nearly 2 GiB first: what follows lies around and past offset 2^31.
    const big = a.allocate(2 * GiB - 64 * 1024)
    const high = [a.allocate(100), a.allocate(5000, { align: 4096 }), a.allocate(16)]
    if (size > 2 * GiB + 2 ** 20) {
      high.push(a.allocate(64 * 1024), a.allocate(2 ** 20)) // a block this big only fits in the tail
      t.ok((high[4] as number) >= 2 ** 31, `offset ${high[4]} past 2^31`)
    }
    for (const offset of high) t.ok(offset > 2 ** 31 - 64 * 1024 && offset < size, `offset ${offset} lies high`)
    t.equal(a.sizeOf(high[0] as number), 112)
    new Uint8Array(buffer, high[0], 100).fill(7)
    t.ok(a.checkSanity().ok, a.checkSanity().problems.join('; '))
    // Another handle on the same bytes reads the same blocks.
    const b = RbTreeBestFit.attach(buffer, 0)
    t.equal(b.sizeOf(high[1] as number), a.sizeOf(high[1] as number))
    for (const offset of [big, ...high]) a.deallocate(offset)
    t.ok(a.allMemoryDeallocated())
    t.ok(a.checkSanity().ok)
  })
}

t.test('grow carries a range across 2^31 and shrinkToFit takes it back', async (t) => {
  const buffer = new ArrayBuffer(3 * GiB)
  const a = RbTreeBestFit.format(buffer, 0, 2 * GiB - 1024)
  const low = a.allocate(2 * GiB - 1024 - 4096)
  t.equal(a.tryAllocate(4096), -1, 'full before growing')
  a.grow(GiB)
  const across = a.allocate(8192) // starts below 2^31, ends past it
  const high = a.allocate(4096)
  t.ok(high > 2 ** 31, `offset ${high} past 2^31 after growing`)
  t.ok(a.checkSanity().ok, a.checkSanity().problems.join('; '))
  a.deallocate(high)
  a.deallocate(across)
  // The range now ends right after the last live block and the sentinel header.
  t.equal(a.shrinkToFit(), low + a.sizeOf(low) + 16)
  t.ok(a.size < 2 ** 31, 'back below 2 GiB')
  t.ok(a.checkSanity().ok)
})
