// Growth: online (seg.grow, growBy) within the room reserved by maxSize, and
// offline (the static grow / shrinkToFit) for segments no process has open.
import { statSync } from 'node:fs'
import t from 'tap'
import { ManagedMappedFile, ManagedSharedMemory, ManagedXsiSharedMemory, t as types } from '@shmkit/named-store'
import { segmentName, tempPath } from './helpers/segments.js'

const MiB = 2 ** 20

/** Allocates 64 KiB blocks until the segment is full (ENOMEM); returns them. */
function fill(seg: ManagedSharedMemory | ManagedMappedFile): number[] {
  const blocks: number[] = []
  for (;;) {
    try {
      blocks.push(seg.allocate(64 * 1024))
    } catch (e) {
      if ((e as { code?: string }).code !== 'ENOMEM') throw e
      return blocks
    }
  }
}

t.test('grow() online: the new bytes are allocatable, old views stay valid, other handles see the size', async (t) => {
  const name = segmentName(t)
  const seg = ManagedSharedMemory.create(name, MiB, { maxSize: 8 * MiB })
  t.teardown(() => seg.close())
  const other = ManagedSharedMemory.open(name)
  t.teardown(() => other.close())
  t.equal(statSync(`/dev/shm/${name}`).size, 8 * MiB, 'the object spans maxSize')
  t.ok(statSync(`/dev/shm/${name}`).blocks * 512 < 2 * MiB, 'only size is reserved')
  const counter = seg.construct('counter', types.uint32, 41)
  const arr = seg.constructArray('arr', types.float64, 1000, 1.5)
  const blocks = fill(seg)
  t.equal(seg.size, MiB)
  t.throws(() => seg.allocate(64 * 1024), { code: 'ENOMEM' })

  t.equal(seg.grow(3 * MiB + 5), 4 * MiB, 'rounded down to 16 bytes')
  t.equal(seg.size, 4 * MiB)
  t.equal(other.size, 4 * MiB, 'another handle reads the new size at once')
  t.ok(statSync(`/dev/shm/${name}`).blocks * 512 >= 4 * MiB, 'the new bytes are reserved')
  const more = fill(other) // the other handle allocates the new bytes
  t.ok(more.length >= 40, `${more.length} blocks of 64 KiB in the new 3 MiB`)
  t.ok(
    more.some((b) => b > MiB),
    'blocks past the old end',
  )
  counter.add(1)
  t.equal(other.find('counter', types.uint32)?.value, 42, 'a view taken before the growth still works')
  t.equal(arr.get(999), 1.5)
  t.equal(arr.typed.length, 1000)
  const late = other.construct('late', types.string(32), 'past the old end')
  t.equal(seg.find('late', types.string(32))?.value, 'past the old end')
  t.ok(seg.checkSanity())
  t.ok(other.checkSanity())
  for (const b of [...blocks, ...more]) seg.deallocate(b)
  t.ok(late.offset > 0)

  t.throws(() => seg.grow(4 * MiB + 16), {
    name: 'ShmError',
    code: 'EINVAL',
    message:
      /invalid extraBytes: got 4194320, expected an integer from 32 to 4194304 \(this handle maps 8388608 bytes, the segment has 4194304\)/,
    hint: /maxSize/,
  })
  for (const bad of [0, 16, -1, 1.5, Number.NaN, '1' as unknown as number]) t.throws(() => seg.grow(bad), { code: 'EINVAL' }, String(bad))
  t.equal(seg.grow(4 * MiB), 8 * MiB, 'up to maxSize exactly')
  t.throws(() => seg.grow(32), {
    code: 'EINVAL',
    message: /nothing: the segment \(8388608 bytes\) already fills the 8388608 bytes this handle maps/,
  })
  const ro = ManagedSharedMemory.open(name, { readOnly: true })
  t.equal(ro.size, 8 * MiB)
  t.throws(() => ro.grow(1024), { code: 'EREADONLY' })
  ro.close()
  seg.close()
  t.throws(() => seg.grow(1024), { code: 'ECLOSED' })
})

t.test('a segment created without maxSize cannot grow online: the hint says how', async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, MiB)
  t.throws(() => seg.grow(MiB), { code: 'EINVAL', hint: /maxSize.*offline/ })
  t.throws(() => ManagedSharedMemory.create(segmentName(t), 2 * MiB, { maxSize: MiB }), { code: 'EINVAL', message: /maxSize/ })
  t.throws(() => ManagedSharedMemory.create(segmentName(t), MiB, { growBy: 8 }), { code: 'EINVAL', message: /growBy/ })
  t.throws(() => ManagedXsiSharedMemory.create(0x5e9001, MiB, { maxSize: 2 * MiB }), { code: 'EINVAL', message: /System V/ })
})

t.test('growBy grows the segment when an allocation would fail, up to maxSize', async (t) => {
  const name = segmentName(t)
  const seg = ManagedSharedMemory.create(name, MiB, { maxSize: 6 * MiB, growBy: MiB })
  t.teardown(() => seg.close())
  const plain = ManagedSharedMemory.open(name) // no growBy: this handle never grows it
  t.teardown(() => plain.close())
  const blocks = fill(plain)
  t.equal(plain.size, MiB)
  const big = seg.allocate(2 * MiB) // more than growBy: grows by what it needs
  t.ok(seg.size > 3 * MiB && seg.size < 4 * MiB, `grown to ${seg.size}`)
  for (let i = 0; i < 100; i++) seg.construct(`o${i}`, types.bytes(16 * 1024), undefined)
  t.ok(seg.size > 4 * MiB, `grown again to ${seg.size} while constructing`)
  blocks.push(...fill(seg))
  t.equal(seg.size, 6 * MiB, 'stops at maxSize')
  t.equal(plain.size, 6 * MiB)
  t.throws(() => seg.allocate(64 * 1024), { code: 'ENOMEM' })
  t.ok(seg.checkSanity())
  for (const b of blocks) seg.deallocate(b)
  seg.deallocate(big)
  for (let i = 0; i < 100; i++) seg.destroy(`o${i}`)
  t.ok(seg.allMemoryDeallocated())
  t.equal(ManagedSharedMemory.open(name, { growBy: MiB }).size, 6 * MiB, 'growBy is also an open option')
})

for (const kind of ['shm', 'file'] as const) {
  t.test(`${kind}: offline grow and shrinkToFit keep every object`, async (t) => {
    const id = kind === 'shm' ? segmentName(t) : tempPath(t)
    const Kind = kind === 'shm' ? ManagedSharedMemory : ManagedMappedFile
    const objectSize = (): number => statSync(kind === 'shm' ? `/dev/shm/${id}` : id).size
    let seg = Kind.create(id, MiB)
    seg.construct('a', types.int32, 7)
    seg.constructArray('b', types.uint16, 100, [1, 2, 3].values())
    seg.close()

    t.equal(Kind.grow(id, 3 * MiB), 4 * MiB)
    t.equal(objectSize(), 4 * MiB)
    seg = Kind.open(id)
    t.equal(seg.size, 4 * MiB)
    t.equal(seg.find('a', types.int32)?.value, 7)
    const big = seg.allocate(3 * MiB) // only fits in the new bytes
    t.ok(seg.checkSanity())
    seg.deallocate(big)
    seg.close()

    const shrunk = Kind.shrinkToFit(id)
    t.ok(shrunk < 64 * 1024, `shrunk to ${shrunk} bytes`)
    t.equal(objectSize(), shrunk, 'the object is truncated to the new size')
    seg = Kind.open(id)
    t.equal(seg.size, shrunk)
    t.equal(seg.find('a', types.int32)?.value, 7)
    t.same([...(seg.findArray('b', types.uint16)?.typed.subarray(0, 4) ?? [])], [1, 2, 3, 0])
    t.ok(seg.checkSanity())
    t.throws(() => seg.allocate(MiB), { code: 'ENOMEM' })
    seg.destroy('a')
    seg.destroy('b')
    t.ok(seg.allMemoryDeallocated())
    seg.close()
    t.ok(Kind.shrinkToFit(id) >= 8192, 'an empty segment shrinks to the smallest valid size')
    seg = Kind.open(id)
    t.ok(seg.checkSanity())
    seg.construct('again', types.int32, 1)
    seg.close()
    t.throws(() => Kind.grow(id, 2 ** 32), { code: 'EINVAL', message: /extraBytes/ })
    t.throws(() => Kind.grow(`${id}-missing`, MiB), { code: 'ENOENT' })
  })
}
