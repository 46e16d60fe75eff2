// MessageQueue in one process: Boost's semantics (priorities, FIFO within a
// priority, full and empty, try/timed forms), async forms, for-await.
import t from 'tap'
import { MessageQueue, ShmError } from '@shmkit/named-store'
import { queueName } from './helpers/queues.js'

const text = (m: { data: Uint8Array } | undefined): string | undefined => (m === undefined ? undefined : new TextDecoder().decode(m.data))

t.test('higher priorities first, FIFO within a priority', async (t) => {
  const name = queueName(t)
  using mq = MessageQueue.create(name, { maxMessages: 16, maxMessageSize: 8 })
  const sent: [string, number][] = [
    ['a', 1],
    ['b', 5],
    ['c', 1],
    ['d', 0],
    ['e', 5],
    ['f', 2 ** 32 - 1],
    ['g', 1],
    ['h', 0],
  ]
  for (const [s, p] of sent) mq.send(s, p)
  t.equal(mq.numMessages, 8)
  const got: string[] = []
  for (let i = 0; i < 8; i++) {
    const m = mq.receive()
    got.push(`${text(m)}${m.priority}`)
  }
  t.same(got, ['f4294967295', 'b5', 'e5', 'a1', 'c1', 'g1', 'd0', 'h0'])
  t.equal(mq.numMessages, 0)
})

t.test('a long mixed run matches a model of the queue', async (t) => {
  const name = queueName(t)
  using mq = MessageQueue.create(name, { maxMessages: 7, maxMessageSize: 4 })
  const model: { v: number; p: number }[] = []
  let x = 7
  const rnd = (): number => (x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff)
  let wrong = 0
  const buf = new Uint8Array(4)
  const view = new DataView(buf.buffer)
  for (let i = 0; i < 5000; i++) {
    if (rnd() % 2 === 0) {
      const p = rnd() % 4
      view.setUint32(0, i, true)
      const ok = mq.trySend(buf, p)
      if (ok !== model.length < 7) wrong++
      if (ok) model.push({ v: i, p })
    } else {
      const m = mq.tryReceive()
      // The model's next: highest priority, earliest among those.
      let best = -1
      for (let k = 0; k < model.length; k++) if (best < 0 || (model[k] as { p: number }).p > (model[best] as { p: number }).p) best = k
      if (best < 0) {
        if (m !== undefined) wrong++
        continue
      }
      const expected = model.splice(best, 1)[0] as { v: number; p: number }
      if (m === undefined || new DataView(m.data.buffer, m.data.byteOffset).getUint32(0, true) !== expected.v || m.priority !== expected.p)
        wrong++
    }
    if (mq.numMessages !== model.length) wrong++
  }
  t.equal(wrong, 0, 'every send, receive and count agreed with the model')
})

t.test('full and empty: try and timed forms', async (t) => {
  const name = queueName(t)
  using mq = MessageQueue.create(name, { maxMessages: 2, maxMessageSize: 4 })
  t.equal(mq.tryReceive(), undefined, 'empty: tryReceive is undefined')
  t.equal(mq.timedReceive(20), undefined, 'empty: timedReceive times out')
  t.ok(mq.trySend('1'))
  t.ok(mq.timedSend('2', 0, 20))
  t.notOk(mq.trySend('3'), 'full: trySend is false')
  t.notOk(mq.timedSend('3', 9, 20), 'full: timedSend times out')
  t.equal(text(mq.timedReceive(20)), '1')
  t.equal(text(mq.tryReceive()), '2')
  t.equal(mq.numMessages, 0)
})

t.test('zero-copy receive into a caller buffer; strings, views and empty messages', async (t) => {
  const name = queueName(t)
  using mq = MessageQueue.create(name, { maxMessages: 4, maxMessageSize: 100 })
  const into = new Uint8Array(100)
  mq.send('héllo')
  const m = mq.receive(into)
  t.equal(m.data.buffer, into.buffer, 'the data is the front of the caller buffer')
  t.equal(m.size, 6)
  t.equal(text(m), 'héllo')
  mq.send(new Uint16Array([1, 2, 3]))
  t.same([...mq.receive().data], [1, 0, 2, 0, 3, 0], 'another view is sent as its bytes')
  mq.send(new Uint8Array(0), 3)
  const empty = mq.receive()
  t.equal(empty.size, 0)
  t.equal(empty.priority, 3)
  mq.send(new Uint8Array(100).fill(7))
  t.throws(() => mq.receive(new Uint8Array(99)), { name: 'ShmError', code: 'EMSGSIZE' }, 'a buffer too small for the message')
  t.equal(mq.numMessages, 1, 'the message stays queued after EMSGSIZE')
  t.equal(mq.receive(new Uint8Array(100)).data[99], 7)
})

t.test('blocking send waits for a receiver (async receive frees the slot)', async (t) => {
  const name = queueName(t)
  using mq = MessageQueue.create(name, { maxMessages: 1, maxMessageSize: 4 })
  mq.send('a')
  const sending = mq.sendAsync('b', { timeoutMs: 10_000 })
  await new Promise((r) => setTimeout(r, 20))
  t.equal(text(mq.receive()), 'a')
  await sending
  t.equal(text(mq.receive()), 'b')
})

t.test('async: resolves on a later send, times out, aborts', async (t) => {
  const name = queueName(t)
  using mq = MessageQueue.create(name, { maxMessages: 2, maxMessageSize: 8 })
  const pending = mq.receiveAsync({ timeoutMs: 10_000 })
  let ticks = 0
  const timer = setInterval(() => ticks++, 1)
  await new Promise((r) => setTimeout(r, 30))
  mq.send('late', 4)
  const m = await pending
  clearInterval(timer)
  t.equal(text(m), 'late')
  t.equal(m.priority, 4)
  t.ok(ticks >= 1, 'the event loop kept running while the receive waited (timers fired, and the send came from one)')

  await t.rejects(mq.receiveAsync({ timeoutMs: 20 }), { name: 'ShmError', code: 'ETIMEDOUT' })
  const ac = new AbortController()
  const aborted = mq.receiveAsync({ signal: ac.signal })
  setTimeout(() => ac.abort(new Error('stop')), 10)
  const e = await aborted.then(
    () => undefined,
    (err: unknown) => err,
  )
  t.ok(ShmError.is(e, 'EABORTED'), 'an abort rejects with EABORTED')
  t.equal(((e as ShmError).cause as Error).message, 'stop', 'the reason is the cause')
  t.equal(mq.numMessages, 0)

  mq.send('x')
  mq.send('y')
  await t.rejects(mq.sendAsync('z', { timeoutMs: 20 }), { code: 'ETIMEDOUT' }, 'full: sendAsync times out')
  await t.rejects(mq.sendAsync('z', { signal: AbortSignal.abort() }), { code: 'EABORTED' }, 'an already aborted signal')
  t.equal(mq.numMessages, 2, 'a timed-out or aborted send sent nothing')
})

t.test('for await receives in order and ends when the handle closes', async (t) => {
  const name = queueName(t)
  const mq = MessageQueue.create(name, { maxMessages: 8, maxMessageSize: 8 })
  for (const s of ['1', '2', '3']) mq.send(s)
  const got: string[] = []
  for await (const m of mq) {
    got.push(text(m) as string)
    // The fourth arrives while the loop waits; closing the handle ends the loop.
    if (got.length === 3) setTimeout(() => mq.send('4'), 10)
    if (got.length === 4) setTimeout(() => mq.close(), 10)
  }
  t.same(got, ['1', '2', '3', '4'])
  t.throws(() => mq.send('5'), { code: 'ECLOSED' })
  await t.rejects(mq.receiveAsync(), { code: 'ECLOSED' })
})

t.test('create, open, openOrCreate, remove', async (t) => {
  const name = queueName(t)
  t.throws(() => MessageQueue.open(name), { name: 'ShmError', code: 'ENOENT' })
  const a = MessageQueue.openOrCreate(name, { maxMessages: 3, maxMessageSize: 10 })
  t.throws(() => MessageQueue.create(name, { maxMessages: 3, maxMessageSize: 10 }), { code: 'EEXIST' })
  const b = MessageQueue.openOrCreate(name, { maxMessages: 99, maxMessageSize: 99 })
  t.equal(b.maxMessages, 3, 'an existing queue keeps its limits')
  t.equal(b.maxMessageSize, 10)
  a.send('shared', 2)
  const c = MessageQueue.open(name)
  t.equal(text(c.receive()), 'shared', 'another handle sees the message')
  a.close()
  b.close()
  c.close()
  a.close()
  t.ok(MessageQueue.remove(name))
  t.notOk(MessageQueue.remove(name))
})
