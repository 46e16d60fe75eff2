// Processes SIGKILLed at random instants in the middle of sends and receives
// (holding the queue's lock, or between an operation's steps) lose no slot,
// duplicate no message and wedge no one. Tokens circulate: a child receives
// one and sends it back, forever, until it is killed; afterwards the parent
// must find every token once (but the one the child held, at most), fill the
// queue to exactly maxMessages, and never wait for a dead owner.
// SHMKIT_MQ_KILLS sets the number of kills (5 by default: each costs a process
// start, seconds on a loaded machine). Recovery itself is tested deterministically
// first: a dead owner's lock word and its half-done operation are planted.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { spawnSync } from 'node:child_process'
import { MappedRegion, SharedMemoryObject } from '@shmkit/ffi-shm'
import { MessageQueue } from '@shmkit/named-store'
import { QueueWord, QUEUE_HEADER_WORDS, SLOT_HEADER_BYTES, SlotState, SlotWord, queueGeometry } from '../src/messaging/queue-layout.js'
import { queueName } from './helpers/queues.js'

const KILLS = Number(process.env.SHMKIT_MQ_KILLS ?? 5)
const MAX = 8
const TOKENS = 5

const compiled = fileURLToPath(new URL('../dist/test/fixtures/mq-peer.js', import.meta.url))
const source = fileURLToPath(new URL('./fixtures/mq-peer.ts', import.meta.url))
const childArgs = existsSync(compiled) && !import.meta.url.endsWith('.js') ? [compiled] : ['--import', 'tsx', source]

async function runAndKill(mode: string, name: string, delayMs: number): Promise<void> {
  const child = spawn(process.execPath, [...childArgs, mode, name], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => {
      const check = (): void => {
        if (out.includes('ready\n')) resolve(true)
        else setTimeout(check, 1)
      }
      check()
    }),
    exited.then(() => false),
  ])
  if (!ready) throw new Error(`child died before it was ready: ${err}`)
  await new Promise((resolve) => setTimeout(resolve, delayMs))
  child.kill('SIGKILL')
  const end = await exited
  if (end.signal !== 'SIGKILL') throw new Error(`child ended by itself (${end.code}): ${err}`)
}

const token = (id: number): Uint8Array => new Uint8Array(new Uint32Array([id, ~id]).buffer)

/** A pid that belonged to a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  return Number(r.stdout)
}

const text = (m: { data: Uint8Array } | undefined): string | undefined => (m === undefined ? undefined : new TextDecoder().decode(m.data))

/**
 * Plants what a process killed at a given step would leave: its pid in the
 * lock word, and the slots, index and counters as they were at that step.
 */
t.test("a dead owner's half-done send or receive is repaired by the next locker", async (t) => {
  const g = queueGeometry(4, 8)
  const cases = [
    {
      what: 'a sender killed after its commit point (slot published, index not yet updated): delivered once',
      plant: (w: Int32Array) => {
        const top = (w[QueueWord.FREE_TOP] as number) - 1
        const slot = w[(g.freeOffset >> 2) + top] as number
        const at = (g.slotsOffset + slot * g.slotStride) >> 2
        new Uint8Array(w.buffer).set(new TextEncoder().encode('b'), g.slotsOffset + slot * g.slotStride + SLOT_HEADER_BYTES)
        w[at + SlotWord.PRIORITY] = 1
        w[at + SlotWord.SIZE] = 1
        w[at + SlotWord.STAMP] = w[QueueWord.NEXT_STAMP] as number
        w[at + SlotWord.STATE] = SlotState.PUBLISHED
      },
      expect: ['b', 'a'],
    },
    {
      what: 'a sender killed before its commit point (free slot popped, payload half-written): never sent, slot back',
      plant: (w: Int32Array) => {
        const top = (w[QueueWord.FREE_TOP] as number) - 1
        const slot = w[(g.freeOffset >> 2) + top] as number
        new Uint8Array(w.buffer).fill(
          0x55,
          g.slotsOffset + slot * g.slotStride + SLOT_HEADER_BYTES,
          g.slotsOffset + slot * g.slotStride + SLOT_HEADER_BYTES + 4,
        )
        w[QueueWord.FREE_TOP] = top
      },
      expect: ['a'],
    },
    {
      what: 'a receiver killed after its commit point (slot freed, count and index not yet updated): taken once',
      plant: (w: Int32Array) => {
        const index = QUEUE_HEADER_WORDS
        const slot = w[index + (((w[QueueWord.INDEX_START] as number) + (w[QueueWord.COUNT] as number) - 1) % 4)] as number
        w[((g.slotsOffset + slot * g.slotStride) >> 2) + SlotWord.STATE] = SlotState.FREE
      },
      expect: [],
    },
  ]
  for (const c of cases) {
    const name = queueName(t)
    using mq = MessageQueue.create(name, { maxMessages: 4, maxMessageSize: 8 })
    mq.send('a', 0)
    const shm = SharedMemoryObject.open(name)
    const region = new MappedRegion(shm)
    const words = new Int32Array(region.buffer)
    c.plant(words)
    words[QueueWord.LOCK] = deadPid()
    region.close()
    shm.close()
    const got: (string | undefined)[] = []
    for (let m = mq.timedReceive(5000); m !== undefined; m = mq.tryReceive()) got.push(text(m))
    t.same(got, c.expect, c.what)
    t.equal(mq.recoveries, 1, 'the next locker took the lock over and rebuilt the queue')
    let fitted = 0
    while (mq.trySend('x')) fitted++
    t.equal(fitted, 4, 'and every slot is usable again')
  }
})

t.test(
  `${KILLS} SIGKILLs mid-send/receive: no lost slot, no duplicate, no wedge`,
  { timeout: Math.max(300_000, KILLS * 5000) },
  async (t) => {
    const name = queueName(t)
    using mq = MessageQueue.create(name, { maxMessages: MAX, maxMessageSize: 8 })
    let nextId = 0
    for (let i = 0; i < TOKENS; i++) mq.send(token(nextId++), i % 3)
    let seed = 2024
    let lostHeld = 0
    let failures = 0
    for (let kill = 0; kill < KILLS && failures === 0; kill++) {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff
      await runAndKill(kill % 3 === 2 ? 'echo-async' : 'echo', name, 1 + (seed % 20))
      // Drain: the first receive finds any dead lock owner and rebuilds the queue.
      const got: number[] = []
      const into = new Uint8Array(8)
      const words = new Uint32Array(into.buffer)
      for (;;) {
        const m = got.length === 0 ? mq.timedReceive(10_000, into) : mq.tryReceive(into)
        if (m === undefined) break
        if (m.size !== 8 || words[1] !== ~(words[0] as number) >>> 0) failures++
        got.push(words[0] as number)
      }
      const distinct = new Set(got)
      if (got.length === 0) t.fail(`kill ${kill}: no token could be received (wedged or lost)`)
      if (distinct.size !== got.length) t.fail(`kill ${kill}: a token was received twice: ${got.join(',')}`)
      if (got.length < TOKENS - 1 || got.length > TOKENS) t.fail(`kill ${kill}: ${got.length} tokens, expected ${TOKENS - 1} or ${TOKENS}`)
      for (const id of got) if (id >= nextId) t.fail(`kill ${kill}: token ${id} was never sent`)
      // Every slot is usable: exactly MAX fit, and they come back out.
      let fitted = 0
      while (mq.trySend(token(0xffff), 0)) fitted++
      if (fitted !== MAX) t.fail(`kill ${kill}: ${fitted} messages fitted in a queue of ${MAX}`)
      for (let i = 0; i < fitted; i++) if (mq.tryReceive() === undefined) t.fail(`kill ${kill}: a filled message is missing`)
      if (mq.numMessages !== 0) t.fail(`kill ${kill}: ${mq.numMessages} messages counted in an empty queue`)
      if (got.length === TOKENS - 1) lostHeld++
      // Put the tokens back (a new one for any the child took to its grave).
      for (const id of got) mq.send(token(id), id % 3)
      while (mq.numMessages < TOKENS) mq.send(token(nextId++), 1)
    }
    t.equal(failures, 0, 'every token arrived whole')
    t.comment(`${KILLS} kills: ${mq.recoveries} lock recoveries, ${lostHeld} tokens held by the killed child`)
  },
)
