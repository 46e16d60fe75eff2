// Corrupted metadata: every operation answers or throws ShmError ECORRUPT (or
// EINVAL for an offset that no longer looks live) in bounded time.
import t from 'tap'
import { AllocatorHeader, BlockLayout as Block, RbTreeBestFit, ShmError } from '@shmkit/allocator'

/** A live allocator with free and live blocks of many sizes, and the metadata words any checker must notice a change in. */
function sample(): { base: ArrayBuffer; live: number[]; metadata: { at: number; bits: number[]; what: string }[] } {
  const base = new ArrayBuffer(32 * 1024)
  const a0 = RbTreeBestFit.format(base, 0, base.byteLength)
  const live: number[] = []
  for (let i = 0; i < 120; i++) live.push(a0.allocate(1 + ((i * 53) % 180)))
  for (let i = 0; i < live.length; i += 3) a0.deallocate(live[i] as number)
  const u32 = new Uint32Array(base)
  const all = Array.from({ length: 32 }, (_, i) => i)
  const metadata: { at: number; bits: number[]; what: string }[] = []
  for (const field of ['MAGIC', 'FREE_UNITS', 'FIRST_BLOCK', 'END', 'FREE_BLOCKS'] as const)
    metadata.push({ at: AllocatorHeader[field], bits: all, what: `header ${field}` })
  const end = u32[AllocatorHeader.END >> 2] as number
  for (let block = u32[AllocatorHeader.FIRST_BLOCK >> 2] as number; block < end; ) {
    const flags = u32[(block + Block.SIZE_FLAGS) >> 2] as number
    // Size and both flag bits: the block walk, the boundary tags and the free count all depend on them.
    metadata.push({ at: block + Block.SIZE_FLAGS, bits: all, what: 'block size/flags' })
    // A live block's check word (bit 1 is the owner's mark, free to change).
    if ((flags & 1) !== 0) metadata.push({ at: block + Block.CHECK, bits: all.filter((b) => b !== 1), what: 'live check word' })
    block += (flags >>> 2) * 16
  }
  return { base, live, metadata }
}

t.test('a flipped bit in any block header or allocator header word is detected', async (t) => {
  const { base, metadata } = sample()
  let seed = 7
  const rand = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) >>> 4
  const missed: string[] = []
  let cases = 0
  for (const word of metadata) {
    for (let k = 0; k < 6; k++) {
      const bit = word.bits[rand() % word.bits.length] as number
      const copy = base.slice(0)
      const u32 = new Uint32Array(copy)
      u32[word.at >> 2] = ((u32[word.at >> 2] ?? 0) ^ (1 << bit)) >>> 0
      cases++
      let detected: boolean
      try {
        detected = !RbTreeBestFit.attach(copy, 0).checkSanity().ok
      } catch (e) {
        detected = e instanceof ShmError && (e.code === 'ECORRUPT' || e.code === 'EVERSION')
      }
      if (!detected) missed.push(`${word.what} at ${word.at}, bit ${bit}`)
    }
  }
  t.ok(cases > 500, `${cases} flips`)
  t.same(missed.slice(0, 10), [], 'every flip was reported by attach or checkSanity')
})

t.test('corrupted metadata anywhere: answers or ECORRUPT in bounded time, never another error', async (t) => {
  const { base, live } = sample()
  let seed = 42
  const rand = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff)
  const outcomes = { sane: 0, insane: 0, corrupt: 0, invalid: 0, other: 0 }
  for (let i = 0; i < 3000; i++) {
    const copy = base.slice(0)
    const u32 = new Uint32Array(copy)
    const mode = rand() % 3
    if (mode === 0) {
      for (let k = 0; k < 1 + (rand() % 8); k++) {
        const at = rand() % 4096
        u32[at] = (u32[at] ?? 0) ^ (1 << (rand() % 32))
      }
    } else if (mode === 1)
      u32[16 + (rand() % 4000)] = u32[16 + (rand() % 4000)] ?? 0 // duplicated links: cycles
    else u32[16 + (rand() % 4000)] = rand() * 4
    try {
      const a = RbTreeBestFit.attach(copy, 0)
      a.checkSanity().ok ? outcomes.sane++ : outcomes.insane++
      a.tryAllocate(rand() % 500)
      a.deallocate(live[1 + 3 * (rand() % 39)] as number)
      void [...a.freeBlocks()]
    } catch (e) {
      if (e instanceof ShmError && e.code === 'ECORRUPT') outcomes.corrupt++
      else if (e instanceof ShmError && (e.code === 'EINVAL' || e.code === 'ENOMEM' || e.code === 'EVERSION')) outcomes.invalid++
      else {
        outcomes.other++
        if (outcomes.other < 4) t.fail(`case ${i}: ${(e as Error).stack}`)
      }
    }
  }
  t.equal(outcomes.other, 0)
  // Random words mostly hit user data, which no checker can tell from valid bytes: detection is the test above.
  t.comment(JSON.stringify(outcomes))
})

t.test('a cycle in the tree is reported, and operations end instead of spinning', async (t) => {
  const buffer = new ArrayBuffer(64 * 1024)
  const a = RbTreeBestFit.format(buffer, 0, buffer.byteLength)
  const live = Array.from({ length: 40 }, (_, i) => a.allocate(64 + i * 16))
  for (let i = 0; i < live.length; i += 2) a.deallocate(live[i] as number)
  t.ok(a.numFreeBlocks > 10)
  const u32 = new Uint32Array(buffer)
  const root = u32[AllocatorHeader.ROOT >> 2] as number
  // Point a leaf's child link back at the root: a cycle every walk could follow forever.
  let leaf = root
  for (let i = 0; i < 64; i++) {
    const left = u32[(leaf + Block.LEFT) >> 2] as number
    if (left === 0) break
    leaf = left
  }
  u32[(leaf + Block.LEFT) >> 2] = root
  const report = a.checkSanity()
  t.equal(report.ok, false)
  t.match(report.problems.join('\n'), /cycle|twice|out of order|not point back|more nodes/)
  t.throws(() => a.allocate(8), { name: 'ShmError', code: 'ECORRUPT' })
  try {
    a.deallocate(live[1] as number)
    t.pass('a free that never walks into the cycle completes')
  } catch (e) {
    t.ok(e instanceof ShmError, `a free that walks into it throws ShmError (${(e as Error).message})`)
  }
})
