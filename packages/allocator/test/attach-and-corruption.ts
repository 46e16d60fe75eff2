import t from 'tap'
import { randomBytes } from 'node:crypto'
import { ALLOCATOR_VERSION, AllocatorHeader, RbTreeBestFit, ShmError } from '@shmkit/allocator'

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

t.test('format validates its arguments', async (t) => {
  const buffer = new ArrayBuffer(8192)
  t.throws(() => RbTreeBestFit.format(buffer, 8, 1000), { name: 'ShmError', code: 'EINVAL', message: /invalid start: got 8, expected a multiple of 16/ })
  t.throws(() => RbTreeBestFit.format(buffer, 0, 10), { name: 'ShmError', code: 'EINVAL', message: /invalid size: got 10, expected an integer from 112/ })
  t.throws(() => RbTreeBestFit.format(buffer, 0, 9000), { name: 'ShmError', code: 'EINVAL', message: /invalid size/ })
  t.throws(() => RbTreeBestFit.format('x' as unknown as ArrayBuffer, 0, 100), { name: 'ShmError', code: 'EINVAL', message: /invalid buffer/ })
  const a = RbTreeBestFit.format(buffer, 0, 8192)
  t.throws(() => a.allocate(-1), { name: 'ShmError', code: 'EINVAL', message: /invalid bytes/ })
  t.throws(() => a.allocate(1.5), { name: 'ShmError', code: 'EINVAL' })
  const err = t.throws(() => a.allocate(100_000)) as ShmError
  t.equal(err.code, 'ENOMEM')
  t.match(err.message, /cannot allocate 100000 bytes: \d+ bytes free/)
  t.equal(err.details.requested, 100_000)
  t.equal(err.details.free, a.freeMemory)
  t.equal(a.tryAllocate(100_000), -1)
})

t.test('every metadata write goes through the hook', async (t) => {
  const buffer = new ArrayBuffer(64 * 1024)
  const hooked: [number, number][] = []
  RbTreeBestFit.format(buffer, 0, buffer.byteLength)
  const a = RbTreeBestFit.attach(buffer, 0, { beforeWrite: (offset, length) => hooked.push([offset, length]) })
  const blocks: number[] = []
  for (let round = 0; round < 200; round++) {
    const before = new Uint8Array(buffer.slice(0))
    hooked.length = 0
    let user: [number, number] | undefined
    if (blocks.length > 0 && round % 3 === 0) {
      const b = blocks.splice((round * 7) % blocks.length, 1)[0] as number
      a.deallocate(b)
    } else {
      const size = 1 + ((round * 131) % 700)
      const b = a.allocate(size)
      blocks.push(b)
      user = [b, b + a.sizeOf(b)]
    }
    const after = new Uint8Array(buffer)
    for (let i = 0; i < after.length; i++) {
      if (after[i] === before[i]) continue
      if (user !== undefined && i >= user[0] + 16 && i < user[1]) continue // the caller's own bytes, untouched by us anyway
      if (!hooked.some(([o, n]) => i >= o && i < o + n)) {
        t.fail(`round ${round}: byte ${i} changed outside every hooked range`)
        return
      }
    }
  }
  t.pass('every changed metadata byte was announced first')
})

t.test('corrupted metadata: answers or ECORRUPT in bounded time, never another error', async (t) => {
  const base = new ArrayBuffer(32 * 1024)
  const a0 = RbTreeBestFit.format(base, 0, base.byteLength)
  const live: number[] = []
  for (let i = 0; i < 120; i++) live.push(a0.allocate(1 + ((i * 53) % 180)))
  for (let i = 0; i < live.length; i += 3) a0.deallocate(live[i] as number)
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
        u32[at] = (u32[at] ?? 0) ^ (1 << rand() % 32)
      }
    }
    else if (mode === 1) u32[16 + (rand() % 4000)] = u32[16 + (rand() % 4000)] ?? 0 // duplicated links: cycles
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
  t.comment(JSON.stringify(outcomes))
})
