// Arguments outside their range are EINVAL naming the range; a full range is
// ENOMEM with the figures; double frees and bogus offsets are refused intact.
import t from 'tap'
import { RbTreeBestFit, ShmError } from '@shmkit/allocator'

t.test('format validates its arguments', async (t) => {
  const buffer = new ArrayBuffer(8192)
  t.throws(() => RbTreeBestFit.format(buffer, 8, 1000), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /invalid start: got 8, expected a multiple of 16/,
  })
  t.throws(() => RbTreeBestFit.format(buffer, 0, 10), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /invalid size: got 10, expected an integer from 112/,
  })
  t.throws(() => RbTreeBestFit.format(buffer, 0, 9000), { name: 'ShmError', code: 'EINVAL', message: /invalid size/ })
  t.throws(() => RbTreeBestFit.format('x' as unknown as ArrayBuffer, 0, 100), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /invalid buffer/,
  })
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

t.test('double free and bogus offsets are refused, never corrupting', async (t) => {
  const buffer = new ArrayBuffer(64 * 1024)
  const a = RbTreeBestFit.format(buffer, 0, buffer.byteLength)
  const x = a.allocate(100)
  const y = a.allocate(100)
  a.deallocate(x)
  t.throws(() => a.deallocate(x), { name: 'ShmError', code: 'EINVAL', message: /not yet freed/ })
  t.throws(() => a.deallocate(y + 16), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => a.deallocate(3), { name: 'ShmError', code: 'EINVAL' })
  t.throws(() => a.deallocate(1e9), { name: 'ShmError', code: 'EINVAL' })
  t.ok(a.checkSanity().ok)
  a.deallocate(y)
  t.ok(a.allMemoryDeallocated())
  t.ok(ShmError.is(new ShmError('EINVAL', 'x')))
})

t.test('overhead: at most 16 bytes per allocation, smallest block 32', async (t) => {
  const a = RbTreeBestFit.format(new ArrayBuffer(64 * 1024), 0, 64 * 1024)
  const x = a.allocate(1)
  const y = a.allocate(1)
  t.equal(y - x, 32, 'two 1-byte blocks are 32 bytes apart')
  const z = a.allocate(64)
  const w = a.allocate(64)
  t.equal(w - z, 64 + 16, 'a 64-byte block costs 16 bytes of header')
})
