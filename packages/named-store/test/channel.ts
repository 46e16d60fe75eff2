// ZeroCopyChannel in one process: in-order delivery as views of the slots,
// backpressure from a lagging subscriber, two subscribers, out-of-order
// release, wait modes, async, one publisher, bounded subscribers.
import t from 'tap'
import { MappedRegion, SharedMemoryObject } from '@shmkit/ffi-shm'
import { ShmError, ZeroCopyChannel } from '@shmkit/named-store'
import { channelName } from './helpers/queues.js'

t.test('samples arrive in order, as views of the slot, to two subscribers', async (t) => {
  const name = channelName(t)
  using ch = ZeroCopyChannel.create(name, { slotCount: 4, slotSize: 16 })
  const pub = ch.publisher()
  const a = ch.subscriber({ wait: 'spin' })
  const b = ch.subscriber({ wait: 'block' })
  t.equal(ch.numSubscribers, 2)
  let wrong = 0
  for (let i = 0; i < 100; i++) {
    const s = pub.loan()
    t.equal(s.data.byteLength, 16)
    s.data[0] = i
    s.data[1] = 255 - i
    s.publish(2)
    for (const sub of [a, b]) {
      const got = sub.receive({ timeoutMs: 5000 })
      if (got.data.byteLength !== 2 || got.data[0] !== i || got.data[1] !== 255 - i || got.seq !== i) wrong++
      // Zero copy: the subscriber's view is the very bytes the publisher wrote.
      if (got.data.buffer !== s.data.buffer || got.data.byteOffset !== s.data.byteOffset) wrong++
      got.release()
    }
  }
  t.equal(wrong, 0, 'both subscribers saw every sample, in order, in place')
  t.equal(a.tryReceive(), undefined, 'nothing more')
})

t.test('a lagging subscriber holds the publisher back; releasing frees it', async (t) => {
  const name = channelName(t)
  using ch = ZeroCopyChannel.create(name, { slotCount: 3, slotSize: 8 })
  const pub = ch.publisher()
  const fast = ch.subscriber()
  const slow = ch.subscriber()
  for (let i = 0; i < 3; i++) {
    pub.send(new Uint8Array([i]))
    fast.receive().release()
  }
  t.equal(pub.tryLoan(), undefined, 'all slots held by the slow subscriber: tryLoan is undefined')
  t.throws(() => pub.loan({ timeoutMs: 20 }), { name: 'ShmError', code: 'ETIMEDOUT' })
  await t.rejects(pub.loanAsync({ timeoutMs: 20 }), { code: 'ETIMEDOUT' })
  const held = [slow.receive(), slow.receive(), slow.receive()]
  t.same(
    held.map((s) => s.data[0]),
    [0, 1, 2],
  )
  t.equal(pub.tryLoan(), undefined, 'received but not released still holds the slot')
  held[1]?.release()
  t.equal(pub.tryLoan(), undefined, 'releasing out of order frees nothing before the oldest')
  const waiting = pub.loanAsync({ timeoutMs: 10_000 })
  setTimeout(() => held[0]?.release(), 20)
  const next = await waiting
  t.equal(next.seq, 3, 'releasing the oldest frees its slot for the waiting loan')
  next.publish(0)
  const four = pub.tryLoan()
  t.equal(four?.seq, 4, 'sample 1 was released (out of order, earlier): its slot is free too')
  four?.publish(0)
  t.equal(pub.tryLoan(), undefined, 'the slot of sample 2 is still held')
  held[2]?.release()
  held[2]?.release()
  const s = pub.tryLoan()
  t.equal(s?.seq, 5, 'released in full, the publisher moves on')
  s?.publish(1)
  t.equal(slow.pending, 3)
  slow.close()
  t.equal(ch.numSubscribers, 1, 'a closed subscriber leaves')
})

t.test('a closed subscriber no longer holds the publisher back', async (t) => {
  const name = channelName(t)
  using ch = ZeroCopyChannel.create(name, { slotCount: 2, slotSize: 8 })
  const pub = ch.publisher()
  const sub = ch.subscriber()
  pub.send(new Uint8Array(1))
  pub.send(new Uint8Array(1))
  t.equal(pub.tryLoan(), undefined)
  sub.close()
  t.ok(pub.tryLoan(), 'free again')
})

t.test('receive waits: spin and block time out; async resolves, times out and aborts', async (t) => {
  const name = channelName(t)
  using ch = ZeroCopyChannel.create(name, { slotCount: 4, slotSize: 8 })
  const pub = ch.publisher()
  const spin = ch.subscriber({ wait: 'spin' })
  const block = ch.subscriber({ wait: 'block' })
  t.throws(() => spin.receive({ timeoutMs: 10 }), { code: 'ETIMEDOUT' })
  t.throws(() => block.receive({ timeoutMs: 10 }), { code: 'ETIMEDOUT' })
  const pending = block.receiveAsync({ timeoutMs: 10_000 })
  setTimeout(() => pub.send(new Uint8Array([42])), 20)
  const s = await pending
  t.equal(s.data[0], 42)
  s.release()
  spin.receive().release()
  await t.rejects(block.receiveAsync({ timeoutMs: 10 }), { code: 'ETIMEDOUT' })
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 10)
  await t.rejects(block.receiveAsync({ signal: ac.signal }), { code: 'EABORTED' })
})

t.test('one publisher; bounded subscribers; loan rules', async (t) => {
  const name = channelName(t)
  using ch = ZeroCopyChannel.create(name, { slotCount: 2, slotSize: 8, maxSubscribers: 2 })
  const pub = ch.publisher()
  t.throws(() => ch.publisher(), { name: 'ShmError', code: 'EBUSY' }, 'a second publisher')
  ch.subscriber()
  const b = ch.subscriber()
  t.throws(() => ch.subscriber(), { code: 'ENOSPC', message: /2 live subscribers/ })
  b.close()
  t.ok(ch.subscriber(), 'a freed entry is reused')
  const s = pub.loan()
  t.throws(() => pub.loan(), { code: 'EINVAL', message: /publish the loaned sample/ })
  t.throws(() => s.publish(9), { code: 'EINVAL', issues: [{ path: ['size'] }] })
  s.publish(8)
  t.throws(() => s.publish(), { code: 'EINVAL', message: /already published/ })
  t.throws(() => pub.send(new Uint8Array(9)), { code: 'EMSGSIZE' })
  pub.close()
  t.throws(() => pub.loan(), { code: 'ECLOSED' })
  const again = ch.publisher()
  t.ok(again, 'a closed publisher makes room for another')
})

t.test('create, open, bad input', async (t) => {
  const name = channelName(t)
  t.throws(() => ZeroCopyChannel.open(name), { code: 'ENOENT' })
  t.throws(() => ZeroCopyChannel.create(name, { slotCount: 0, slotSize: 8 }), { code: 'EINVAL', issues: [{ path: ['slotCount'] }] })
  t.throws(() => ZeroCopyChannel.create(name, { slotCount: 4, slotSize: 8, maxSubscribers: 1000 }), {
    code: 'EINVAL',
    issues: [{ path: ['maxSubscribers'] }],
  })
  t.throws(() => ZeroCopyChannel.create(name, { slotCount: 4096, slotSize: 1 << 30 }), { code: 'EINVAL', message: /more than the/ })
  const ch = ZeroCopyChannel.openOrCreate(name, { slotCount: 4, slotSize: 32 })
  t.throws(() => ch.subscriber({ wait: 'sleepy' } as never), { code: 'EINVAL', issues: [{ path: ['wait'] }] })
  const other = ZeroCopyChannel.open(name)
  t.equal(other.slotSize, 32)
  const sub = other.subscriber()
  ch.publisher().send(new TextEncoder().encode('across handles'))
  t.equal(new TextDecoder().decode(sub.receive({ timeoutMs: 1000 }).data), 'across handles')
  ch.close()
  other.close()
  t.throws(() => sub.receive(), { code: 'ECLOSED' }, 'closing the channel closes its subscribers')
  t.throws(() => ch.subscriber(), { code: 'ECLOSED' })
  const e = (() => {
    try {
      other.publisher()
    } catch (err) {
      return err
    }
  })()
  t.ok(ShmError.is(e, 'ECLOSED'))
})

t.test('an object that is not a channel: ECORRUPT, never a hang', async (t) => {
  const name = channelName(t)
  const shm = SharedMemoryObject.create(name)
  t.teardown(() => shm.close())
  shm.truncate(8192)
  t.throws(() => ZeroCopyChannel.open(name, { timeoutMs: 50 }), { code: 'ECORRUPT', message: /never finished/ }, 'a zeroed object')
  const region = new MappedRegion(shm)
  t.teardown(() => region.close())
  const words = new Int32Array(region.buffer)
  words[0] = 2
  t.throws(() => ZeroCopyChannel.open(name, { timeoutMs: 50 }), { code: 'ECORRUPT', message: /not a shmkit channel/ })
  const good = channelName(t)
  ZeroCopyChannel.create(good, { slotCount: 2, slotSize: 64 }).close()
  const src = SharedMemoryObject.open(good)
  const goodRegion = new MappedRegion(src)
  new Uint8Array(region.buffer).set(new Uint8Array(goodRegion.buffer).subarray(0, Math.min(8192, goodRegion.size)))
  goodRegion.close()
  src.close()
  words[2] = 7
  t.throws(() => ZeroCopyChannel.open(name, { timeoutMs: 50 }), { code: 'EVERSION' })
  words[2] = 1
  words[3] = 1 << 20
  t.throws(() => ZeroCopyChannel.open(name, { timeoutMs: 50 }), { code: 'ECORRUPT', message: /impossible limits/ })
  words[3] = 2
  words[8] = 12345
  t.throws(() => ZeroCopyChannel.open(name, { timeoutMs: 50 }), { code: 'ECORRUPT', message: /inconsistent/ })
})
