// N senders × M receivers in separate processes on one queue: every message is
// delivered exactly once (counted), and nothing is left in the queue.
import t from 'tap'
import { MessageQueue } from '@shmkit/named-store'
import { queueName } from './helpers/queues.js'
import { runFixture } from './helpers/segments.js'

const PER_SENDER = Number(process.env.SHMKIT_MQ_MESSAGES ?? 2000)

t.test(`3 senders × 2 receivers, ${PER_SENDER} messages each: exactly once`, { timeout: 240_000 }, async (t) => {
  const name = queueName(t)
  using mq = MessageQueue.create(name, { maxMessages: 8, maxMessageSize: 16 })
  const receivers = [0, 1].map(() => runFixture('mq-peer.ts', ['receive', name]))
  const senders = await Promise.all([0, 1, 2].map((id) => runFixture('mq-peer.ts', ['send', name, String(id), String(PER_SENDER)])))
  for (const [id, r] of senders.entries()) t.equal(r.code, 0, `sender ${id} exited cleanly${r.code === 0 ? '' : ': ' + r.stderr}`)
  // Empty messages tell the receivers to stop; priority 0 and newest, so they come after everything sent.
  for (let i = 0; i < 2; i++) mq.send(new Uint8Array(0), 0)
  const results = await Promise.all(receivers)
  const seen = new Map<string, number>()
  for (const [id, r] of results.entries()) {
    t.equal(r.code, 0, `receiver ${id} exited cleanly${r.code === 0 ? '' : ': ' + r.stderr}`)
    for (const line of r.stdout.split('\n')) if (line !== '') seen.set(line, (seen.get(line) ?? 0) + 1)
  }
  let missing = 0
  let duplicated = 0
  for (let s = 0; s < 3; s++) {
    for (let q = 0; q < PER_SENDER; q++) {
      const n = seen.get(`${s}:${q}`) ?? 0
      if (n === 0) missing++
      if (n > 1) duplicated++
    }
  }
  t.equal(seen.size, 3 * PER_SENDER, 'no message that was never sent')
  t.equal(missing, 0, 'no message lost')
  t.equal(duplicated, 0, 'no message delivered twice')
  t.equal(mq.numMessages, 0, 'the queue is empty')
  t.equal(mq.recoveries, 0)
})
