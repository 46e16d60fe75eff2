// deallocate decides from the allocator's own block header (its mark bit)
// whether a block holds a constructed object, never from the block's bytes.
import t from 'tap'
import { ManagedHeapMemory, t as types } from '@shmkit/named-store'

const RECORD_TAGS = [0x52454301, 0x52454302, 0x52454303]

t.test('a raw block whose bytes look like an object record is freed like any other', async (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  const free = seg.freeMemory
  for (const tag of RECORD_TAGS) {
    const block = seg.allocate(64)
    seg.at(block, types.uint32).value = tag
    seg.deallocate(block)
  }
  t.equal(seg.freeMemory, free, 'nothing leaked')
  t.ok(seg.allMemoryDeallocated())
})

t.test("an anonymous object's memory, once destroyed, is raw memory again", async (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  const free = seg.freeMemory
  let x = 7
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff) >>> 8
  const live: number[] = []
  let refused = 0
  let blocks = 0
  // Objects come and go while raw blocks of every alignment are taken and given back:
  // aligned blocks start where object records used to be.
  for (let round = 0; round < 3000; round++) {
    const r = next() % 3
    if (r === 0) live.push(seg.anonymous(types.array(types.int32, 1 + (next() % 16)), 1).offset)
    else if (r === 1 && live.length > 0) seg.destroyPtr(live.splice(next() % live.length, 1)[0] as number)
    else {
      const block = seg.allocate(8 + (next() % 64), { align: [8, 16, 32, 64][next() % 4] as number })
      blocks++
      try {
        seg.deallocate(block)
      } catch {
        refused++
      }
    }
  }
  t.ok(blocks > 500)
  t.equal(refused, 0, 'no raw block was refused')
  for (const offset of live) seg.destroyPtr(offset)
  t.equal(seg.freeMemory, free, 'nothing leaked')
})

t.test("an object's block is refused, and its record survives", async (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  const named = seg.construct('n', types.int32, 5)
  const anonymous = seg.anonymous(types.int32, 6)
  for (const view of [named, anonymous]) {
    // The block starts at the object's record; the word before the object points back at it.
    const block = seg.at(view.offset - 4, types.uint32).value
    t.throws(() => seg.deallocate(block), {
      name: 'ShmError',
      code: 'EINVAL',
      message: new RegExp(`invalid offset: ${block} holds a constructed object`),
    })
    t.throws(() => seg.deallocate(view.offset), { name: 'ShmError', code: 'EINVAL' }, 'the object offset is not a block either')
  }
  t.equal(seg.find('n', types.int32)?.value, 5)
  t.equal(anonymous.value, 6)
  t.ok(seg.checkSanity())
  const raw = seg.allocate(32)
  t.throws(() => seg.destroyPtr(raw), { name: 'ShmError', code: 'EINVAL' }, 'a raw block is no object to destroyPtr')
  seg.deallocate(raw)
})
