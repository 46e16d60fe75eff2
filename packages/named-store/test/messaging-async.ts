// Async waits of the message queue and the channel sleep in the wait engine
// (futex, one thread for many waits), woken by a peer in any process: no
// polling timers while they wait, and no lost wake-ups.
import t from 'tap'
import { createHook } from 'node:async_hooks'
import { MessageQueue, ZeroCopyChannel } from '@shmkit/named-store'
import { runFixture, uniqueName } from './helpers/segments.js'

const WAITS = 20

function queueName(t: { teardown(fn: () => void): void }, prefix = 'shmkit-mq-async'): string {
  const name = uniqueName(prefix)
  t.teardown(() => {
    MessageQueue.remove(name)
  })
  return name
}

/** Timers and immediates created while `fn`'s promise is pending: a polling wait makes hundreds a second. */
async function timersDuring(ms: number): Promise<number> {
  let created = 0
  const hook = createHook({
    init(_id, type) {
      if (type === 'Timeout' || type === 'Immediate') created++
    },
  }).enable()
  await new Promise((resolve) => setTimeout(resolve, ms))
  hook.disable()
  return created - 1 // our own sleep
}

t.test(`${WAITS} pending receiveAsync on a queue set no polling timers, and all get their message`, async (t) => {
  using mq = MessageQueue.create(queueName(t), { maxMessages: WAITS, maxMessageSize: 8 })
  const received = Array.from({ length: WAITS }, () => mq.receiveAsync())
  const timers = await timersDuring(1000)
  // The engine arms one timeout per wait (its 1 s look-again bound); polling made ~250 per wait per second.
  t.ok(timers <= 3 * WAITS, `${timers} timers in 1 s for ${WAITS} waits`)
  for (let i = 0; i < WAITS; i++) mq.send(Uint8Array.of(i))
  const got = (await Promise.all(received)).map((m) => m.data[0]).sort((a, b) => (a ?? 0) - (b ?? 0))
  t.same(
    got,
    Array.from({ length: WAITS }, (_, i) => i),
    'every message received once',
  )
})

t.test('pending sendAsync on a full queue sets no polling timers, and all are sent once there is room', async (t) => {
  using mq = MessageQueue.create(queueName(t), { maxMessages: 1, maxMessageSize: 8 })
  mq.send(Uint8Array.of(255))
  const sent = Array.from({ length: WAITS }, (_, i) => mq.sendAsync(Uint8Array.of(i)))
  const timers = await timersDuring(1000)
  t.ok(timers <= 3 * WAITS, `${timers} timers in 1 s for ${WAITS} waits`)
  const got: number[] = []
  for (let i = 0; i <= WAITS; i++) got.push((await mq.receiveAsync()).data[0] ?? -1)
  await Promise.all(sent)
  t.same(
    got.sort((a, b) => a - b),
    [...Array.from({ length: WAITS }, (_, i) => i), 255],
  )
})

t.test('pending channel receiveAsync sets no polling timers, and every subscriber gets the sample', async (t) => {
  const name = uniqueName('shmkit-ch-async')
  t.teardown(() => {
    ZeroCopyChannel.remove(name)
  })
  using ch = ZeroCopyChannel.create(name, { slotCount: 4, slotSize: 16, maxSubscribers: 4 })
  const subscribers = Array.from({ length: 4 }, () => ch.subscriber())
  const pub = ch.publisher()
  const samples = subscribers.map((s) => s.receiveAsync())
  const timers = await timersDuring(1000)
  t.ok(timers <= 12, `${timers} timers in 1 s for 4 waits`)
  pub.send(Uint8Array.of(42))
  for (const sample of await Promise.all(samples)) {
    t.equal(sample.data[0], 42)
    sample.release()
  }
})

t.test('100 async round trips with another process: every wake reaches the other side', { timeout: 60_000 }, async (t) => {
  // A lost wake-up would cost the look-again bound (1 s) per round trip: this would take minutes, not a second.
  const there = queueName(t)
  const back = queueName(t)
  using out = MessageQueue.create(there, { maxMessages: 4, maxMessageSize: 8 })
  using home = MessageQueue.create(back, { maxMessages: 4, maxMessageSize: 8 })
  const child = runFixture('mq-peer.ts', ['relay-async', there, back])
  const started = performance.now()
  let wrong = 0
  for (let i = 1; i <= 100; i++) {
    await out.sendAsync(Uint8Array.of(i))
    const m = await home.receiveAsync({ timeoutMs: 30_000 })
    if (m.data[0] !== i) wrong++
  }
  const elapsed = performance.now() - started
  await out.sendAsync(new Uint8Array(0))
  t.equal((await home.receiveAsync({ timeoutMs: 30_000 })).size, 0, 'the relay passed the end on')
  const result = await child
  t.equal(result.code, 0, result.stderr)
  t.equal(wrong, 0, 'every message came back, in order')
  t.ok(elapsed < 50_000, `100 round trips in ${elapsed.toFixed(0)} ms`)
})
