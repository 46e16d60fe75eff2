// Streaming frames through a zero-copy channel: the parent publishes 200
// frames of 256 KiB (written in place into the channel's slots) and two
// subscriber processes read each frame where it lies, with no copy, check it
// and release it. One subscriber is slow on purpose: the publisher waits for
// it (backpressure) instead of overwriting frames it has not read.
//
//   npx tsx examples/channel-frames.ts
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ZeroCopyChannel } from '@shmkit/named-store'

const [role, channelName, speed] = process.argv.slice(2)
const FRAMES = 200
const FRAME_BYTES = 256 << 10

/** What the parent writes into frame k, word by word, so a subscriber can check every byte. */
const wordOf = (k: number, i: number): number => (k * 2654435761 + i) >>> 0

if (role === 'subscriber') {
  using channel = ZeroCopyChannel.open(channelName ?? '')
  const sub = channel.subscriber({ wait: 'block' })
  process.stdout.write('ready\n')
  let bad = 0
  for (let k = 0; k < FRAMES; k++) {
    const frame = await sub.receiveAsync({ timeoutMs: 60_000 })
    const words = new Uint32Array(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength / 4)
    if (words[0] !== k) bad++
    for (let i = 1; i < words.length; i += 997) if (words[i] !== wordOf(k, i)) bad++
    if (speed === 'slow' && k % 20 === 0) await new Promise((r) => setTimeout(r, 5))
    frame.release()
  }
  console.log(`subscriber ${process.pid} (${speed}): ${FRAMES} frames, ${bad} bad`)
  process.exitCode = bad === 0 ? 0 : 1
} else {
  const name = `shmkit-example-frames-${process.pid}`
  let status = 1
  try {
    using channel = ZeroCopyChannel.create(name, { slotCount: 4, slotSize: FRAME_BYTES })
    const children = ['fast', 'slow'].map((s) =>
      spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'subscriber', name, s], {
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    )
    const exits = children.map((c) => {
      c.stdout?.on('data', (d: Buffer) => process.stdout.write(d.toString().replace('ready\n', '')))
      return new Promise<number | null>((resolve) => c.on('exit', (code) => resolve(code)))
    })
    // Publish only once both subscribers have joined: a subscriber sees what is published after it joins.
    const deadline = Date.now() + 60_000
    while (channel.numSubscribers < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
    const pub = channel.publisher()
    const t0 = performance.now()
    for (let k = 0; k < FRAMES; k++) {
      const frame = await pub.loanAsync({ timeoutMs: 60_000 }) // waits while a subscriber still holds the slot
      const words = new Uint32Array(frame.data.buffer, frame.data.byteOffset, FRAME_BYTES / 4)
      words[0] = k
      for (let i = 1; i < words.length; i += 997) words[i] = wordOf(k, i)
      frame.publish(FRAME_BYTES)
    }
    const codes = await Promise.all(exits)
    const seconds = (performance.now() - t0) / 1000
    console.log(`parent: ${FRAMES} frames of ${FRAME_BYTES >> 10} KiB to 2 subscribers in ${seconds.toFixed(2)} s`)
    status = codes.every((c) => c === 0) ? 0 : 1
  } finally {
    ZeroCopyChannel.remove(name)
  }
  process.exit(status)
}
