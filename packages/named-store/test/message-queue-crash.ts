// Processes SIGKILLed at random instants in the middle of sends and receives
// (holding the queue's lock, or between an operation's steps) lose no slot,
// duplicate no message and wedge no one. Tokens circulate: a child receives
// one and sends it back, forever, until it is killed; afterwards the parent
// must find every token once (but the one the child held, at most), fill the
// queue to exactly maxMessages, and never wait for a dead owner.
// SHMKIT_MQ_KILLS sets the number of kills (20 here; more under `pnpm soak`).
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { MessageQueue } from '@shmkit/named-store'
import { queueName } from './helpers/queues.js'

const KILLS = Number(process.env.SHMKIT_MQ_KILLS ?? 20)
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
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
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

t.test(`${KILLS} SIGKILLs mid-send/receive: no lost slot, no duplicate, no wedge`, { timeout: Math.max(300_000, KILLS * 5000) }, async (t) => {
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
  t.ok(mq.recoveries > 0, `some kills hit a process holding the lock (${mq.recoveries} recoveries, ${lostHeld} tokens died with their holder)`)
  t.comment(`${KILLS} kills: ${mq.recoveries} lock recoveries, ${lostHeld} tokens held by the killed child`)
})
