// Every metadata write is announced to beforeWrite first, so named-store can
// journal the old bytes: diff the buffer around each operation.
import t, { type Test } from 'tap'
import { RbTreeBestFit } from '@shmkit/allocator'

type Range = [offset: number, length: number]

/** Runs `op`; fails if any byte outside `userBytes` changed without a hooked range covering it. */
function expectHooked(t: Test, buffer: ArrayBuffer, hooked: Range[], what: string, op: () => Range | undefined): void {
  const before = new Uint8Array(buffer.slice(0))
  hooked.length = 0
  const user = op()
  const after = new Uint8Array(buffer)
  for (let i = 0; i < after.length; i++) {
    if (after[i] === before[i]) continue
    if (user !== undefined && i >= user[0] && i < user[0] + user[1]) continue
    if (!hooked.some(([o, n]) => i >= o && i < o + n)) {
      t.fail(`${what}: byte ${i} changed outside every hooked range`)
      return
    }
  }
}

t.test('format announces every byte it lays out', async (t) => {
  const buffer = new ArrayBuffer(16 * 1024)
  new Uint8Array(buffer).fill(0xa5)
  const hooked: Range[] = []
  let count = 0
  expectHooked(t, buffer, hooked, 'format', () => {
    RbTreeBestFit.format(buffer, 32, 8192, {
      beforeWrite: (o, n) => {
        hooked.push([o, n])
        count++
      },
    })
    return undefined
  })
  t.ok(count > 10, `${count} hooked writes`)
})

t.test('allocate and deallocate: every changed metadata byte was announced first', async (t) => {
  const buffer = new ArrayBuffer(64 * 1024)
  const hooked: Range[] = []
  RbTreeBestFit.format(buffer, 0, buffer.byteLength)
  const a = RbTreeBestFit.attach(buffer, 0, { beforeWrite: (offset, length) => void hooked.push([offset, length]) })
  const blocks: number[] = []
  for (let round = 0; round < 200; round++) {
    if (blocks.length > 0 && round % 3 === 0) {
      const b = blocks.splice((round * 7) % blocks.length, 1)[0] as number
      expectHooked(t, buffer, hooked, `round ${round} free`, () => void a.deallocate(b))
    } else {
      const size = 1 + ((round * 131) % 700)
      const align = round % 5 === 0 ? 256 : 16
      expectHooked(t, buffer, hooked, `round ${round} allocate`, () => {
        const b = a.allocate(size, { align })
        blocks.push(b)
        return undefined
      })
    }
  }
  t.ok(a.checkSanity().ok)
})

t.test('expand, shrink, grow and shrinkToFit go through the hook too', async (t) => {
  const buffer = new ArrayBuffer(128 * 1024)
  const hooked: Range[] = []
  const a = RbTreeBestFit.format(buffer, 0, 64 * 1024, { beforeWrite: (offset, length) => void hooked.push([offset, length]) })
  const x = a.allocate(1000)
  const y = a.allocate(1000)
  const z = a.allocate(1000)
  expectHooked(t, buffer, hooked, 'free y', () => void a.deallocate(y))
  expectHooked(t, buffer, hooked, 'expand x', () => void t.ok(a.expand(x, 1500, 1800) >= 1500))
  expectHooked(t, buffer, hooked, 'shrink x', () => void a.shrink(x, 100))
  expectHooked(t, buffer, hooked, 'grow', () => void a.grow(32 * 1024))
  expectHooked(t, buffer, hooked, 'free z', () => void a.deallocate(z))
  expectHooked(t, buffer, hooked, 'shrinkToFit', () => void a.shrinkToFit())
  t.ok(a.checkSanity().ok)
  a.deallocate(x)
  t.ok(a.allMemoryDeallocated())
})
