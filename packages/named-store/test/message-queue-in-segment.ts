// t.messageQueue: a MessageQueue that lives in a segment, constructed and
// found by name, embeddable in a struct, shared by processes, robust when
// one of them dies holding its lock.
import t from 'tap'
import { spawn } from 'node:child_process'
import { ManagedHeapMemory, ManagedSharedMemory, MessageQueue, ShmError, t as types, typeFromName } from '@shmkit/named-store'
import { boxType } from './fixtures/mq-segment-box.js'
import { compiledFixture, segmentName } from './helpers/segments.js'

const err = (code: string, message?: RegExp) => (message === undefined ? { name: 'ShmError', code } : { name: 'ShmError', code, message })
const text = (data: Uint8Array): string => new TextDecoder().decode(data)

t.test('construct, send/receive by priority, find by name, ETYPE for other limits, destroy gives every byte back', async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 4 << 20)
  const free0 = seg.freeMemory
  const type = types.messageQueue({ maxMessages: 4, maxMessageSize: 32 })
  t.equal(type.name, 'message_queue(4,32)')
  t.equal(typeFromName(type.name).name, type.name, 'tools can read the type back from its name')
  const q = seg.construct('jobs', type)
  t.ok(q instanceof MessageQueue)
  t.equal(q.maxMessages, 4)
  t.equal(q.maxMessageSize, 32)
  q.send('low', 1)
  q.send('high', 9)
  q.send('mid', 5)
  t.equal(q.trySend('x'.repeat(32)), true)
  t.equal(q.trySend('full'), false, 'four messages fill it')
  t.throws(() => q.send('x'.repeat(33)), err('EMSGSIZE'))
  const found = seg.find('jobs', types.messageQueue({ maxMessages: 4, maxMessageSize: 32 }))
  t.ok(found, 'another view of the same queue')
  t.equal(found?.numMessages, 4)
  t.same(
    [found?.receive(), q.receive(), found?.receive()].map((m) => m && [text(m.data), m.priority]),
    [
      ['high', 9],
      ['mid', 5],
      ['low', 1],
    ],
  )
  t.throws(() => seg.find('jobs', types.messageQueue({ maxMessages: 8, maxMessageSize: 32 })), err('ETYPE'))
  t.match([...seg.names()], [{ name: 'jobs', type: 'message_queue(4,32)' }])
  found?.close()
  t.equal(q.numMessages, 1, 'closing one view leaves the queue and the other views as they were')
  t.throws(() => found?.send('x'), err('ECLOSED'))
  t.equal(seg.destroy('jobs'), true)
  t.equal(seg.freeMemory, free0)
  t.ok(seg.allMemoryDeallocated())
})

t.test('bad limits are EINVAL with paths, before anything reaches a segment', (t) => {
  t.throws(() => types.messageQueue({} as never), err('EINVAL'))
  try {
    types.messageQueue({ maxMessages: 0, maxMessageSize: 8, extra: 1 } as never)
    t.fail('accepted')
  } catch (e) {
    t.ok(e instanceof ShmError)
    t.same(
      (e as ShmError).issues?.map((i) => i.path.join('.')).sort(),
      ['', 'maxMessages'].sort(),
      'the bad count and the unknown key are both named',
    )
  }
  t.throws(() => types.messageQueue({ maxMessages: 1 << 20, maxMessageSize: 1 << 20 }), err('EINVAL', /more than the \d+ a queue may hold/))
  t.throws(() => types.messageQueue(undefined as never), err('EINVAL'))
  t.end()
})

t.test('in a struct: the zeroed field is a working queue; the read snapshot counts its messages', async (t) => {
  using seg = new ManagedHeapMemory(1 << 20)
  const box = seg.construct('box', boxType, { n: 7 })
  box.q.send('a')
  box.q.send('b')
  t.same(seg.find('box', boxType)?.toJSON(), { q: { maxMessages: 8, maxMessageSize: 16, messages: 2 }, n: 7 })
  t.equal(text(box.q.receive().data), 'a')
})

t.test("in this thread's own memory: a wait that could never end is EDEADLK; async and timed waits work", async (t) => {
  using seg = new ManagedHeapMemory(1 << 20)
  const q = seg.construct('q', types.messageQueue({ maxMessages: 1, maxMessageSize: 8 }))
  t.throws(() => q.receive(), err('EDEADLK', /would wait forever: it is empty/))
  t.equal(q.timedReceive(20), undefined)
  const pending = q.receiveAsync({ timeoutMs: 10_000 })
  setTimeout(() => q.send('later'), 20)
  t.equal(text((await pending).data), 'later', 'an async receive is woken by a send of this thread')
  q.send('one')
  t.throws(() => q.send('two'), err('EDEADLK', /it is full/))
  t.equal(q.timedSend('two', 0, 20), false)
})

t.test('a closed segment ends its queues: ECLOSED, pending async waits included', async (t) => {
  const seg = new ManagedHeapMemory(1 << 20)
  const q = seg.construct('q', types.messageQueue({ maxMessages: 2, maxMessageSize: 8 }))
  seg.close()
  t.throws(() => q.send('x'), err('ECLOSED'))
  t.throws(() => q.tryReceive(), err('ECLOSED'))
})

t.test('3 processes send into a queue embedded in a struct, one receives: every message once, in order per sender', async (t) => {
  // Nobody touched the field before the children: they race to format it.
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 4 << 20)
  seg.construct('box', boxType)
  const PER = 300
  const children = [0, 1, 2].map((sender) =>
    spawn(process.execPath, [compiledFixture('mq-segment-peer.js'), 'send', name, String(sender), String(PER)], { stdio: 'inherit' }),
  )
  const exits = children.map((c) => new Promise<number | null>((resolve) => c.on('close', resolve)))
  const q = seg.find('box', boxType)?.q as MessageQueue
  const next = [0, 0, 0]
  let wrong = 0
  const into = new Uint8Array(16)
  const view = new DataView(into.buffer)
  for (let i = 0; i < 3 * PER; i++) {
    const m = await q.receiveAsync({ into, timeoutMs: 60_000 })
    const sender = view.getUint32(0, true)
    const seq = view.getUint32(4, true)
    if (m.size !== 8 || sender > 2 || seq !== next[sender]) wrong++
    else next[sender] = seq + 1
  }
  t.same(await Promise.all(exits), [0, 0, 0])
  t.equal(wrong, 0, 'no message lost, duplicated, torn or out of order within its sender')
  t.same(next, [PER, PER, PER])
  t.equal(q.numMessages, 0)
  t.equal(q.recoveries, 0)
})

t.test('a process killed holding the queue lock: the next sender takes it over and rebuilds the queue', async (t) => {
  const name = segmentName(t)
  using seg = ManagedSharedMemory.create(name, 4 << 20)
  // One view throughout: `recoveries` counts what this handle's view did (each `box.q` is a new view).
  const q = seg.construct('box', boxType).q
  q.send('kept')
  const holder = spawn(process.execPath, [compiledFixture('mq-segment-peer.js'), 'hold-lock', name], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise((resolve) => holder.on('close', resolve))
  t.teardown(() => {
    holder.kill('SIGKILL')
    return exited
  })
  await new Promise<void>((resolve, reject) => {
    let out = ''
    holder.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('locked')) resolve()
    })
    holder.on('close', (code) => reject(new Error(`holder exited (${code})`)))
  })
  t.equal(q.timedSend('blocked', 0, 300), false, 'a live holder keeps it')
  t.equal(q.recoveries, 0)
  holder.kill('SIGKILL')
  await exited
  t.equal(q.timedSend('after', 0, 10_000), true, 'a dead one loses it')
  t.equal(q.recoveries, 1)
  t.same([text(q.receive().data), text(q.receive().data)], ['kept', 'after'], 'the message sent before the crash survived')
})
