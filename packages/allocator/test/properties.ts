// Random operation sequences against a simple model: live blocks never
// overlap, respect their alignment, and the free-byte count always matches.
import t from 'tap'
import fc from 'fast-check'
import { RbTreeBestFit } from '@shmkit/allocator'

type Op =
  | { kind: 'alloc'; bytes: number; align: number }
  | { kind: 'free'; pick: number }
  | { kind: 'expand'; pick: number; bytes: number }
  | { kind: 'shrink'; pick: number; bytes: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('alloc' as const),
      bytes: fc.integer({ min: 0, max: 3000 }),
      align: fc.constantFrom(8, 16, 32, 64, 256, 4096),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expand' as const), pick: fc.nat(), bytes: fc.integer({ min: 0, max: 5000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('shrink' as const), pick: fc.nat(), bytes: fc.integer({ min: 0, max: 3000 }) }) },
)

t.test('random sequences keep every invariant', async (t) => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
      const buffer = new ArrayBuffer(256 * 1024)
      const a = RbTreeBestFit.format(buffer, 64, buffer.byteLength - 64)
      const initialFree = a.freeMemory
      const live = new Map<number, { size: number; align: number }>()
      for (const o of ops) {
        const offsets = [...live.keys()]
        if (o.kind === 'alloc') {
          const at = a.tryAllocate(o.bytes, { align: o.align })
          if (at < 0) continue
          if (at % Math.max(o.align, 16) !== 0) throw new Error(`offset ${at} not aligned to ${o.align}`)
          if (a.sizeOf(at) < o.bytes) throw new Error('block smaller than asked')
          if (a.sizeOf(at) > o.bytes + 16 + 32)
            throw new Error(`block of ${a.sizeOf(at)} for ${o.bytes} bytes wastes more than the overhead`)
          live.set(at, { size: a.sizeOf(at), align: o.align })
        } else if (offsets.length > 0) {
          const at = offsets[o.pick % offsets.length] as number
          if (o.kind === 'free') {
            a.deallocate(at)
            live.delete(at)
          } else if (o.kind === 'expand') {
            const size = a.expand(at, o.bytes)
            if (size >= 0) {
              if (size < o.bytes) throw new Error('expand returned less than asked')
              live.set(at, { size, align: 16 })
            } else if (a.sizeOf(at) !== (live.get(at)?.size ?? -1)) throw new Error('a failed expand changed the block')
          } else {
            const before = a.sizeOf(at)
            const size = a.shrink(at, o.bytes)
            if (size < Math.min(o.bytes, before) || size > before) throw new Error('shrink kept less than asked, or grew')
            live.set(at, { size, align: 16 })
          }
        }
        // No two live blocks overlap (each block spans [offset - 16, offset + size)).
        const spans = [...live].map(([at, b]) => [at - 16, at + b.size] as const).sort((x, y) => x[0] - y[0])
        for (let i = 1; i < spans.length; i++)
          if ((spans[i] as readonly number[])[0]! < (spans[i - 1] as readonly number[])[1]!) throw new Error('live blocks overlap')
      }
      const report = a.checkSanity()
      if (!report.ok) throw new Error(report.problems.join('; '))
      const used = [...live.values()].reduce((sum, b) => sum + b.size + 16, 0)
      if (a.freeMemory + used !== initialFree) throw new Error(`free ${a.freeMemory} + used ${used} != ${initialFree}`)
      for (const at of live.keys()) a.deallocate(at)
      if (!a.allMemoryDeallocated() || a.freeMemory !== initialFree || a.numFreeBlocks !== 1)
        throw new Error('freeing everything did not leave one free block')
    }),
    { numRuns: 300 },
  )
  t.pass('300 random sequences held every invariant')
})
