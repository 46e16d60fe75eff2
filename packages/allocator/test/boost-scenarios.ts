// The scenarios of Boost.Interprocess's test/memory_algorithm_test_template.hpp,
// against this API. After each: all memory deallocated, sane, free bytes as at the start.
import t, { type Test } from 'tap'
import { RbTreeBestFit } from '@shmkit/allocator'

function fresh(bytes = 256 * 1024): { a: RbTreeBestFit; free0: number } {
  const buffer = new ArrayBuffer(bytes)
  const a = RbTreeBestFit.format(buffer, 0, bytes)
  return { a, free0: a.freeMemory }
}

function allocateUntilFull(a: RbTreeBestFit, size: (i: number) => number): number[] {
  const out: number[] = []
  for (let i = 0; ; i++) {
    const at = a.tryAllocate(size(i))
    if (at < 0) return out
    out.push(at)
  }
}

function assertClean(t: Test, a: RbTreeBestFit, free0: number): void {
  const report = a.checkSanity()
  t.ok(report.ok, report.problems.join('; ') || 'checkSanity holds')
  t.ok(a.allMemoryDeallocated(), 'all memory deallocated')
  t.equal(a.freeMemory, free0, 'free bytes as at the start')
}

t.test('allocate until full, then free in order, in reverse, odd then even', async (t) => {
  for (const order of ['in order', 'reverse', 'odd-even'] as const) {
    const { a, free0 } = fresh()
    const blocks = allocateUntilFull(a, (i) => (i % 7) * 13 + 1)
    t.ok(blocks.length > 100, `${order}: ${blocks.length} blocks fit`)
    const sequence =
      order === 'in order'
        ? blocks
        : order === 'reverse'
          ? [...blocks].reverse()
          : [...blocks.filter((_, i) => i % 2 === 1), ...blocks.filter((_, i) => i % 2 === 0)]
    for (const b of sequence) a.deallocate(b)
    assertClean(t, a, free0)
  }
})

t.test('shrink and expand in place', async (t) => {
  const { a, free0 } = fresh()
  const blocks = allocateUntilFull(a, () => 200)
  const wrong = blocks.filter((b) => {
    const size = a.shrink(b, 100)
    return size < 100 || size >= 200
  })
  t.equal(wrong.length, 0, 'every block shrank to between 100 and 200 bytes')
  // Freeing every other block lets its neighbour expand into it.
  for (let i = 1; i < blocks.length; i += 2) a.deallocate(blocks[i] as number)
  let expanded = 0
  for (let i = 0; i < blocks.length; i += 2) if (a.expand(blocks[i] as number, 300) >= 300) expanded++
  t.ok(expanded > blocks.length / 4, `${expanded} blocks grew in place`)
  t.equal(a.expand(blocks[0] as number, 10 * 1024 * 1024), -1, 'an impossible expansion fails and changes nothing')
  for (let i = 0; i < blocks.length; i += 2) a.deallocate(blocks[i] as number)
  assertClean(t, a, free0)
})

t.test('allocation with reuse: a freed block is found again', async (t) => {
  const { a, free0 } = fresh()
  const x = a.allocate(1000)
  const y = a.allocate(1000)
  a.deallocate(x)
  t.equal(a.allocate(1000), x, 'best fit takes the hole, lowest offset first')
  a.deallocate(x)
  a.deallocate(y)
  assertClean(t, a, free0)
})

t.test('aligned allocation for every power of two, and continuous aligned allocation', async (t) => {
  const { a, free0 } = fresh(1 << 20)
  for (let align = 8; align <= 4096; align *= 2) {
    for (const bytes of [1, 100, 5000]) {
      const at = a.allocate(bytes, { align })
      if (at % align !== 0) t.fail(`offset ${at} not aligned to ${align}`)
      a.deallocate(at)
    }
  }
  const blocks: number[] = []
  for (;;) {
    const at = a.tryAllocate(300, { align: 512 })
    if (at < 0) break
    if (at % 512 !== 0) t.fail(`offset ${at} not 512-aligned`)
    blocks.push(at)
  }
  t.ok(blocks.length > 100, `${blocks.length} aligned blocks in a row`)
  t.throws(() => a.allocate(1, { align: 3 }), { name: 'ShmError', code: 'EINVAL', message: /power of two from 8 to 4096/ })
  t.throws(() => a.allocate(1, { align: 8192 }), { name: 'ShmError', code: 'EINVAL' })
  for (const b of blocks) a.deallocate(b)
  assertClean(t, a, free0)
})

t.test('clearing free memory zeroes it and keeps the allocator whole', async (t) => {
  const { a, free0 } = fresh()
  const blocks = allocateUntilFull(a, () => 512)
  for (const b of blocks) new Uint8Array(a.u32.buffer, b, 512).fill(0xff)
  for (const b of blocks) a.deallocate(b)
  a.zeroFreeMemory()
  const again = a.allocate(512)
  t.ok(
    new Uint8Array(a.u32.buffer, again, 512).every((v, i) => i < 16 || v === 0),
    'a block from zeroed memory reads zero past its old links',
  )
  a.deallocate(again)
  assertClean(t, a, free0)
})

t.test('grow and shrinkToFit', async (t) => {
  const buffer = new ArrayBuffer(512 * 1024)
  const a = RbTreeBestFit.format(buffer, 0, 256 * 1024)
  const free0 = a.freeMemory
  t.throws(() => a.allocate(300 * 1024), { name: 'ShmError', code: 'ENOMEM' })
  a.grow(256 * 1024)
  t.equal(a.size, 512 * 1024)
  t.equal(a.freeMemory, free0 + 256 * 1024)
  const big = a.allocate(300 * 1024)
  t.ok(a.checkSanity().ok)
  a.deallocate(big)
  t.ok(a.allMemoryDeallocated())
  const keep = a.allocate(1000)
  const newSize = a.shrinkToFit()
  t.ok(newSize < 4096, `shrinkToFit leaves ${newSize} bytes`)
  t.ok(a.checkSanity().ok)
  a.deallocate(keep)
  t.throws(() => a.grow(1 << 30), { name: 'ShmError', code: 'EINVAL' })
})

t.test('many equal and many different sizes', async (t) => {
  for (const size of [(): number => 64, (i: number): number => ((i * 37) % 2000) + 1]) {
    const { a, free0 } = fresh(1 << 20)
    const blocks = allocateUntilFull(a, size)
    const shuffled = blocks.map((b, i) => [b, (i * 7919) % blocks.length] as const).sort((x, y) => x[1] - y[1])
    for (const [b] of shuffled) a.deallocate(b)
    assertClean(t, a, free0)
  }
})
