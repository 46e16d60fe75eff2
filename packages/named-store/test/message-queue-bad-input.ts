// MessageQueue refuses bad input with typed errors (EINVAL with paths,
// EMSGSIZE, ECLOSED, ECORRUPT), never a crash or a hang.
import t from 'tap'
import { MappedRegion, SharedMemoryObject } from '@shmkit/ffi-shm'
import { MessageQueue } from '@shmkit/named-store'
import { queueName } from './helpers/queues.js'

t.test('bad limits and options: EINVAL naming the path', async (t) => {
  const name = queueName(t)
  t.throws(() => MessageQueue.create(name, { maxMessages: 0, maxMessageSize: 8 }), {
    name: 'ShmError',
    code: 'EINVAL',
    message: /maxMessages/,
    issues: [{ path: ['maxMessages'] }],
  })
  t.throws(() => MessageQueue.create(name, { maxMessages: 4, maxMessageSize: 1.5 }), {
    code: 'EINVAL',
    issues: [{ path: ['maxMessageSize'] }],
  })
  t.throws(() => MessageQueue.create(name, { maxMessages: 4, maxMessageSize: 2 ** 28 + 1 }), { code: 'EINVAL', message: /maxMessageSize/ })
  t.throws(
    () => MessageQueue.create(name, { maxMessages: 1 << 20, maxMessageSize: 1 << 20 }),
    { code: 'EINVAL', message: /more than the/ },
    'a queue over 2 GiB',
  )
  t.throws(() => MessageQueue.create(name, { maxMessages: 4, maxMessageSize: 8, extra: 1 } as never), {
    code: 'EINVAL',
    message: /extra|unrecognized/i,
  })
  t.throws(() => MessageQueue.create(name, undefined as never), { code: 'EINVAL' })
  t.throws(() => MessageQueue.open(name, { timeoutMs: -1 }), { code: 'EINVAL', issues: [{ path: ['timeoutMs'] }] })
  t.notOk(MessageQueue.remove(name), 'no failed create left anything behind')
})

t.test('bad messages, priorities, buffers and timeouts', async (t) => {
  const name = queueName(t)
  using mq = MessageQueue.create(name, { maxMessages: 2, maxMessageSize: 8 })
  t.throws(() => mq.send(new Uint8Array(9)), { name: 'ShmError', code: 'EMSGSIZE', message: /9 bytes .* 8 bytes/ })
  t.throws(() => mq.trySend('123456789'), { code: 'EMSGSIZE' }, 'a string measured in UTF-8 bytes')
  t.throws(() => mq.send('ééééé'), { code: 'EMSGSIZE' }, '5 characters, 10 bytes')
  t.throws(() => mq.send(42 as never), { code: 'EINVAL', message: /invalid data: got 42/ })
  t.throws(() => mq.send(null as never), { code: 'EINVAL' })
  t.throws(() => mq.send('x', -1), { code: 'EINVAL', message: /priority/ })
  t.throws(() => mq.send('x', 2 ** 32), { code: 'EINVAL', message: /priority/ })
  t.throws(() => mq.send('x', 0.5), { code: 'EINVAL', message: /priority/ })
  t.throws(() => mq.timedSend('x', 0, -5), { code: 'EINVAL', message: /timeoutMs/ })
  t.throws(() => mq.timedReceive(Number.NaN), { code: 'EINVAL', message: /timeoutMs/ })
  t.throws(() => mq.receive([] as never), { code: 'EINVAL', message: /into/ })
  await t.rejects(mq.sendAsync('x', { priority: -1 }), { code: 'EINVAL', issues: [{ path: ['priority'] }] })
  await t.rejects(mq.receiveAsync({ timeoutMs: 'soon' } as never), { code: 'EINVAL', issues: [{ path: ['timeoutMs'] }] })
  await t.rejects(mq.receiveAsync({ signal: {} } as never), { code: 'EINVAL', issues: [{ path: ['signal'] }] })
  await t.rejects(mq.sendAsync(new Uint8Array(9)), { code: 'EMSGSIZE' })
  t.equal(mq.numMessages, 0, 'nothing was sent by any refused call')
})

t.test('use after close is ECLOSED', async (t) => {
  const name = queueName(t)
  const mq = MessageQueue.create(name, { maxMessages: 2, maxMessageSize: 8 })
  mq.close()
  t.throws(() => mq.send('x'), { code: 'ECLOSED' })
  t.throws(() => mq.trySend('x'), { code: 'ECLOSED' })
  t.throws(() => mq.tryReceive(), { code: 'ECLOSED' })
  t.throws(() => mq.timedReceive(1), { code: 'ECLOSED' })
  t.throws(() => mq.numMessages, { code: 'ECLOSED' })
  await t.rejects(mq.sendAsync('x'), { code: 'ECLOSED' })
})

t.test('an object that is not a queue: ECORRUPT or EVERSION, never a hang', async (t) => {
  const name = queueName(t)
  const shm = SharedMemoryObject.create(name)
  t.teardown(() => shm.close())
  shm.truncate(4096)
  t.throws(() => MessageQueue.open(name, { timeoutMs: 50 }), { code: 'ECORRUPT', message: /never finished/ }, 'a zeroed object')
  const region = new MappedRegion(shm)
  t.teardown(() => region.close())
  const words = new Int32Array(region.buffer)
  words[0] = 2
  t.throws(() => MessageQueue.open(name, { timeoutMs: 50 }), { code: 'ECORRUPT', message: /not a shmkit message queue/ })
  const good = queueName(t)
  MessageQueue.create(good, { maxMessages: 4, maxMessageSize: 8 }).close()
  const src = SharedMemoryObject.open(good)
  const goodRegion = new MappedRegion(src)
  new Uint8Array(region.buffer).set(new Uint8Array(goodRegion.buffer).subarray(0, 4096))
  goodRegion.close()
  src.close()
  words[2] = 99
  t.throws(() => MessageQueue.open(name, { timeoutMs: 50 }), { code: 'EVERSION' })
  words[2] = 1
  words[3] = 1 << 30
  t.throws(() => MessageQueue.open(name, { timeoutMs: 50 }), { code: 'ECORRUPT', message: /impossible limits/ })
  words[3] = 4
  words[4] = 4000
  t.throws(() => MessageQueue.open(name, { timeoutMs: 50 }), { code: 'ECORRUPT', message: /inconsistent/ })
  words[4] = 8
  using mq = MessageQueue.open(name)
  t.equal(mq.maxMessages, 4, 'restored, it opens')
  // A corrupt index entry is ECORRUPT on receive, not an out-of-range write.
  mq.send('a')
  const indexWords = 32
  const indexStart = 17
  words[indexWords + (words[indexStart] as number)] = 1000
  t.throws(() => mq.receive(), { code: 'ECORRUPT', message: /slot number 1000/ })
})
