// A queue's lock holder is told apart by the kernel's record of its handle
// (an OFD lock on the queue's own object), like a segment's: a live holder in
// another pid namespace is never taken over, a dead one always is.
import t from 'tap'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { MessageQueue } from '@shmkit/named-store'
import { compiledFixture, uniqueName } from './helpers/segments.js'

const peer = compiledFixture('mq-peer.js')
const unshare = ['unshare', '-p', '-f', '--kill-child', '--mount-proc']

/** Why a command cannot run here (as root with namespaces), or undefined if it can. */
function cannotRun(argv: string[]): string | undefined {
  const run = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', timeout: 30_000 })
  if (run.status === 0) return undefined
  return `${argv.join(' ')} failed (${run.status}): ${(run.stderr || String(run.error)).trim()}`
}

function queueName(t: { teardown(fn: () => void): void }): string {
  const name = uniqueName('shmkit-mq-live')
  t.teardown(() => {
    MessageQueue.remove(name)
  })
  return name
}

/** Starts a child that takes the queue's lock and keeps it; resolves once it holds it. */
function holdLock(name: string, prefix: string[] = []): Promise<ChildProcess> {
  const argv = [...prefix, process.execPath, peer, 'hold-lock', name]
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('locked\n')) resolve(child)
    })
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()))
    child.on('close', (code) => reject(new Error(`holder exited (${code}) before it held the lock: ${err}`)))
  })
}

/** One timedSend from a child (through `prefix`): whether it got through, and whether it recovered the lock. */
function trySend(name: string, ms: number, prefix: string[] = []): { sent: boolean; recoveries: number } {
  const argv = [...prefix, process.execPath, peer, 'try-send', name, String(ms)]
  const run = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', timeout: 60_000 })
  const line = run.stdout.trim().split('\n').pop() ?? ''
  try {
    return JSON.parse(line) as { sent: boolean; recoveries: number }
  } catch {
    throw new Error(`try-send failed (${run.status} ${run.signal}): ${run.stdout} ${run.stderr}`)
  }
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.on('close', () => resolve())
    child.kill('SIGKILL')
  })
}

t.test('a live holder keeps the queue lock; a killed one loses it to the next sender, which rebuilds the queue', async (t) => {
  const name = queueName(t)
  MessageQueue.create(name, { maxMessages: 4, maxMessageSize: 16 }).close()
  const holder = await holdLock(name)
  t.teardown(() => killed(holder))
  t.same(trySend(name, 300), { sent: false, recoveries: 0 }, 'alive: the sender waits and gives up')
  await killed(holder)
  t.same(trySend(name, 5000), { sent: true, recoveries: 1 }, 'dead: taken over and sent')
  using mq = MessageQueue.open(name)
  t.equal(mq.numMessages, 1)
})

const noPidNamespace = cannotRun([...unshare, 'true'])
if (noPidNamespace !== undefined) console.log(`# skipping the pid namespace test: ${noPidNamespace}`)

t.test('a holder in another pid namespace is alive: never taken over, from either side', { skip: noPidNamespace ?? false }, async (t) => {
  // A pid means nothing across namespaces: pid-based liveness read this holder as dead and took its lock.
  const name = queueName(t)
  MessageQueue.create(name, { maxMessages: 4, maxMessageSize: 16 }).close()
  const outside = await holdLock(name)
  t.teardown(() => killed(outside))
  t.same(trySend(name, 1500, unshare), { sent: false, recoveries: 0 }, 'a sender inside a new pid namespace waits for the holder outside')
  await killed(outside)
  const inside = await holdLock(name, unshare)
  t.teardown(() => killed(inside))
  t.same(trySend(name, 1500), { sent: false, recoveries: 0 }, 'a sender outside waits for the holder inside')
  await killed(inside)
  t.same(trySend(name, 5000), { sent: true, recoveries: 1 }, 'once the holder is dead, the lock is taken over')
})
