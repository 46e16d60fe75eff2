// The channel across processes: a publisher streams samples to subscriber
// processes (every sample seen by each, in order, intact: counted), and a
// subscriber SIGKILLed while holding samples is reclaimed so the publisher
// goes on.
import t from 'tap'
import { spawn } from 'node:child_process'
import { ZeroCopyChannel } from '@shmkit/named-store'
import { channelName } from './helpers/queues.js'
import { fixture } from './helpers/segments.js'

const SAMPLES = Number(process.env.SHMKIT_CHANNEL_SAMPLES ?? 2000)

function startPeer(args: string[]): {
  ready: Promise<void>
  done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>
  kill(): void
} {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture('channel-peer.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  let onReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => (onReady = resolve))
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
    if (stdout.includes('ready\n')) onReady()
  })
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000)
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      onReady()
      resolve({ code, signal, stdout, stderr })
    }),
  )
  return { ready, done, kill: () => child.kill('SIGKILL') }
}

t.test(`a publisher streams ${SAMPLES} samples to three subscriber processes (spin, block, async)`, { timeout: 240_000 }, async (t) => {
  const name = channelName(t)
  using ch = ZeroCopyChannel.create(name, { slotCount: 8, slotSize: 256 })
  const peers = ['spin', 'block', 'async'].map((mode) => startPeer(['subscribe', name, String(SAMPLES), mode]))
  await Promise.all(peers.map((p) => p.ready))
  t.equal(ch.numSubscribers, 3, 'three subscribers joined')
  const pub = ch.publisher()
  for (let k = 0; k < SAMPLES; k++) {
    const s = await pub.loanAsync({ timeoutMs: 60_000 })
    const size = 4 + (k % 253)
    new DataView(s.data.buffer, s.data.byteOffset, 4).setUint32(0, k, true)
    for (let j = 4; j < size; j++) s.data[j] = (k * 31 + j) & 0xff
    s.publish(size)
  }
  for (const [i, p] of peers.entries()) {
    const r = await p.done
    t.equal(r.code, 0, `subscriber ${i} exited cleanly${r.code === 0 ? '' : ': ' + r.stderr}`)
    if (r.code !== 0) continue
    const summary = JSON.parse(r.stdout.split('\n')[1] ?? '{}') as { received: number; bad: number; outOfOrder: number; last: number }
    t.same(summary, { received: SAMPLES, bad: 0, outOfOrder: 0, last: SAMPLES - 1 }, `subscriber ${i}: every sample, in order, intact`)
  }
})

t.test('a subscriber killed while holding samples is reclaimed: the publisher goes on', { timeout: 120_000 }, async (t) => {
  const name = channelName(t)
  using ch = ZeroCopyChannel.create(name, { slotCount: 4, slotSize: 8 })
  const live = ch.subscriber()
  const holder = startPeer(['hold', name])
  await holder.ready
  const pub = ch.publisher()
  const buf = new Uint8Array(8)
  for (let i = 0; i < 4; i++) {
    pub.send(buf)
    live.receive().release()
  }
  // The holder has (or will have) all four slots and never releases them.
  t.equal(pub.tryLoan(), undefined, 'the holder keeps the publisher back')
  holder.kill()
  const r = await holder.done
  t.equal(r.signal, 'SIGKILL')
  const s = await pub.loanAsync({ timeoutMs: 30_000 })
  t.equal(s.seq, 4, 'the publisher loaned the next slot once the dead subscriber was reclaimed')
  s.publish(1)
  t.equal(ch.reclaimedSubscribers, 1, 'one entry reclaimed')
  t.equal(pub.reclaimed, 1)
  t.equal(ch.numSubscribers, 1, 'only the live subscriber is left')
  t.equal(live.receive({ timeoutMs: 5000 }).seq, 4, 'the live subscriber still gets every sample')
})
