// Each handle caches recent finds (lookups are lock-free); these tests make
// sure the cache never answers with something the segment no longer holds.
import t from 'tap'
import { ManagedSharedMemory, t as types } from '@shmkit/named-store'
import { segmentName } from './helpers/segments.js'

function twoHandles(t: { teardown(fn: () => void): void }): [ManagedSharedMemory, ManagedSharedMemory] {
  const name = segmentName(t)
  const a = ManagedSharedMemory.create(name, 1 << 20)
  const b = ManagedSharedMemory.open(name)
  t.teardown(() => {
    b.close()
    a.close()
  })
  return [a, b]
}

t.test('a hot find sees another handle destroy and reconstruct the name', async (t) => {
  const [a, b] = twoHandles(t)
  a.construct('x', types.int32, 1)
  for (let i = 0; i < 3; i++) t.equal(b.find('x', types.int32)?.value, 1, `find ${i + 1}`)
  t.equal(a.destroy('x'), true)
  t.equal(b.find('x', types.int32), undefined, 'gone for the caching handle too')
  a.construct('x', types.float64, 2.5)
  t.throws(() => b.find('x', types.int32), { name: 'ShmError', code: 'ETYPE' }, 'the new type, not the cached one')
  t.equal(b.find('x', types.float64)?.value, 2.5)
})

t.test('the cache is keyed by type: a cached find with one type does not answer for another', async (t) => {
  const [a, b] = twoHandles(t)
  a.construct('n', types.uint32, 42)
  t.equal(b.find('n', types.uint32)?.value, 42)
  t.equal(b.find('n', types.uint32)?.value, 42)
  t.throws(() => b.find('n', types.int32), { name: 'ShmError', code: 'ETYPE', message: /uint32/ })
})

t.test('names sharing cache slots each find their own object', async (t) => {
  const [a, b] = twoHandles(t)
  // 2,000 names over 256 slots: every slot is shared and overwritten many times.
  const n = 2000
  for (let i = 0; i < n; i++) a.construct(`k${i}`, types.int32, i)
  let wrong = 0
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < n; i++) {
      const j = (i * 7919 + round) % n
      if (b.find(`k${j}`, types.int32)?.value !== j) wrong++
    }
  }
  t.equal(wrong, 0, 'every find returned its own value')
  for (let i = 0; i < n; i += 2) a.destroy(`k${i}`)
  let stale = 0
  for (let i = 0; i < n; i++) {
    const found = b.find(`k${i}`, types.int32)
    if (i % 2 === 0 ? found !== undefined : found?.value !== i) stale++
  }
  t.equal(stale, 0, 'destroyed names miss, the others still hit')
})

t.test('a closed handle refuses finds even for cached names', async (t) => {
  const name = segmentName(t)
  const a = ManagedSharedMemory.create(name, 1 << 20)
  a.construct('x', types.int32, 5)
  t.equal(a.find('x', types.int32)?.value, 5)
  t.equal(a.find('x', types.int32)?.value, 5)
  a.close()
  t.throws(() => a.find('x', types.int32), { name: 'ShmError', code: 'ECLOSED' })
})
