// The zero-copy channel's benchmark peers, beside the message queue, a Unix
// socket and child_process IPC:
//  - one-way latency of 64-byte samples: the sender stamps process.hrtime
//    into the sample, the receiver subtracts it from its own clock on
//    arrival (CLOCK_MONOTONIC, shared by every process) and acknowledges;
//    the next sample goes once the previous one was acknowledged, so every
//    sample finds an idle receiver. p50 and p99 over every sample.
//  - throughput at 4 KiB and 1 MiB with benchmarks/ipc.ts's protocol: the
//    parent stamps its round into a fixed pseudo-random payload, the reader
//    checksums every byte it got (lib/checksum.ts) and counts mismatches.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { connect, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MessageQueue, ZeroCopyChannel } from '@shmkit/named-store'
import { laneChecksum, stampedChecksum } from './checksum.js'
import { makePayload, stamp } from './ipc-plan.js'

export const LATENCY_BYTES = 64
const self = fileURLToPath(import.meta.url)

export interface LatencyResult {
  transport: string
  samples: number
  p50_ns: number
  p99_ns: number
}

export interface ThroughputResult {
  transport: string
  payload_bytes: number
  messages: number
  seconds: number
  mb_per_s: number
  bad: number
}

const uniq = (): string => `shmkit-bench-${process.pid}-${randomBytes(4).toString('hex')}`

function child(args: string[], ipc = false): ChildProcess {
  return spawn(process.execPath, [...process.execArgv, self, ...args], {
    stdio: ['ignore', 'pipe', 'inherit', ...(ipc ? (['ipc'] as const) : [])],
    ...(ipc ? { serialization: 'advanced' as const } : {}),
  })
}

/** The last JSON line the child printed, once it exits 0. */
function result<T>(c: ChildProcess): Promise<T> {
  let out = ''
  c.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  return new Promise((resolve, reject) =>
    c.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? ''
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as T)
      else reject(new Error(`benchmark peer ${c.spawnargs.slice(-4).join(' ')} exited ${code}: ${out.slice(-300)}`))
    }),
  )
}

function waitFor(check: () => boolean, what: string, seconds = 120): Promise<void> {
  const deadline = Date.now() + seconds * 1000
  return new Promise((resolve, reject) => {
    const look = (): void => {
      if (check()) resolve()
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`))
      else setTimeout(look, 2)
    }
    look()
  })
}

function percentiles(latencies: Float64Array): { p50_ns: number; p99_ns: number } {
  const sorted = Float64Array.from(latencies).sort()
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number
  return { p50_ns: at(0.5), p99_ns: at(0.99) }
}

const now = (): number => Number(process.hrtime.bigint() & 0xfffffffffffffn)

// ---- latency ---------------------------------------------------------------

export async function channelLatency(samples: number, wait: 'spin' | 'block'): Promise<LatencyResult> {
  const name = uniq()
  const ch = ZeroCopyChannel.create(name, { slotCount: 1, slotSize: LATENCY_BYTES })
  try {
    const peer = child(['latency-channel', name, String(samples), wait])
    const done = result<LatencyResult>(peer)
    await waitFor(() => ch.numSubscribers === 1, 'the subscriber')
    const pub = ch.publisher()
    for (let i = 0; i < samples; i++) {
      // slotCount 1: the loan waits until the subscriber released the previous sample (the acknowledgement).
      const s = pub.loan({ timeoutMs: 60_000 })
      new Float64Array(s.data.buffer, s.data.byteOffset, 1)[0] = now()
      s.publish(LATENCY_BYTES)
    }
    return await done
  } finally {
    ch.close()
    ZeroCopyChannel.remove(name)
  }
}

function latencyChannelPeer(name: string, samples: number, wait: 'spin' | 'block'): LatencyResult {
  using ch = ZeroCopyChannel.open(name)
  const sub = ch.subscriber({ wait })
  const lat = new Float64Array(samples)
  for (let i = 0; i < samples; i++) {
    const s = sub.receive({ timeoutMs: 60_000 })
    lat[i] = now() - (new Float64Array(s.data.buffer, s.data.byteOffset, 1)[0] as number)
    s.release()
  }
  return { transport: `zero-copy channel (${wait})`, samples, ...percentiles(lat.subarray(Math.floor(samples / 10))) }
}

export async function queueLatency(samples: number): Promise<LatencyResult> {
  const name = uniq()
  const q = MessageQueue.create(`${name}-q`, { maxMessages: 1, maxMessageSize: LATENCY_BYTES })
  const ack = MessageQueue.create(`${name}-a`, { maxMessages: 1, maxMessageSize: 1 })
  try {
    const peer = child(['latency-queue', name, String(samples)])
    const done = result<LatencyResult>(peer)
    await ack.receiveAsync({ timeoutMs: 120_000 })
    const msg = new Uint8Array(LATENCY_BYTES)
    const f = new Float64Array(msg.buffer, 0, 1)
    const into = new Uint8Array(1)
    for (let i = 0; i < samples; i++) {
      f[0] = now()
      q.send(msg)
      ack.receive(into)
    }
    return await done
  } finally {
    q.close()
    ack.close()
    MessageQueue.remove(`${name}-q`)
    MessageQueue.remove(`${name}-a`)
  }
}

function latencyQueuePeer(name: string, samples: number): LatencyResult {
  using q = MessageQueue.open(`${name}-q`)
  using ack = MessageQueue.open(`${name}-a`)
  const into = new Uint8Array(LATENCY_BYTES)
  const f = new Float64Array(into.buffer, 0, 1)
  const one = new Uint8Array(1)
  const lat = new Float64Array(samples)
  ack.send(one)
  for (let i = 0; i < samples; i++) {
    q.receive(into)
    lat[i] = now() - (f[0] as number)
    ack.send(one)
  }
  return { transport: 'message queue', samples, ...percentiles(lat.subarray(Math.floor(samples / 10))) }
}

export async function socketLatency(samples: number): Promise<LatencyResult> {
  const path = join(tmpdir(), `${uniq()}.sock`)
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(path, resolve))
  try {
    const peer = child(['latency-socket', path, String(samples)])
    const done = result<LatencyResult>(peer)
    const socket = await new Promise<Socket>((resolve) => server.once('connection', resolve))
    socket.setNoDelay(true)
    const msg = Buffer.alloc(LATENCY_BYTES)
    let sent = 0
    const send = (): void => {
      msg.writeDoubleLE(now(), 0)
      socket.write(msg)
      sent++
    }
    socket.on('data', (d: Buffer) => {
      for (let i = 0; i < d.length && sent < samples; i++) send()
    })
    send()
    const r = await done
    socket.destroy()
    return r
  } finally {
    server.close()
    rmSync(path, { force: true })
  }
}

function latencySocketPeer(path: string, samples: number): Promise<LatencyResult> {
  return new Promise((resolve) => {
    const socket = connect(path)
    socket.setNoDelay(true)
    const lat = new Float64Array(samples)
    let got = 0
    let pending: Buffer = Buffer.alloc(0)
    const ack = Buffer.from([1])
    socket.on('data', (d: Buffer) => {
      const t = now()
      pending = pending.length === 0 ? d : Buffer.concat([pending, d])
      while (pending.length >= LATENCY_BYTES && got < samples) {
        lat[got++] = t - pending.readDoubleLE(0)
        pending = pending.subarray(LATENCY_BYTES)
        socket.write(ack)
      }
      if (got === samples) {
        socket.end()
        resolve({ transport: 'unix socket', samples, ...percentiles(lat.subarray(Math.floor(samples / 10))) })
      }
    })
  })
}

export async function ipcLatency(samples: number): Promise<LatencyResult> {
  const peer = child(['latency-ipc', String(samples)], true)
  const done = result<LatencyResult>(peer)
  const msg = Buffer.alloc(LATENCY_BYTES)
  let sent = 0
  const send = (): void => {
    msg.writeDoubleLE(now(), 0)
    peer.send(msg)
    sent++
  }
  peer.on('message', (m) => {
    if (m === 'ready' || sent < samples) send()
  })
  const r = await done
  return r
}

function latencyIpcPeer(samples: number): Promise<LatencyResult> {
  return new Promise((resolve) => {
    const lat = new Float64Array(samples)
    let got = 0
    process.on('message', (m: unknown) => {
      const t = now()
      const b = Buffer.isBuffer(m) ? m : Buffer.from(m as Uint8Array)
      lat[got++] = t - b.readDoubleLE(0)
      if (got === samples) {
        process.removeAllListeners('message')
        process.disconnect?.()
        resolve({ transport: 'child_process IPC', samples, ...percentiles(lat.subarray(Math.floor(samples / 10))) })
      } else process.send?.('ack')
    })
    process.send?.('ready')
  })
}

// ---- throughput ------------------------------------------------------------

export async function channelThroughput(payloadBytes: number, messages: number): Promise<ThroughputResult> {
  const name = uniq()
  const ch = ZeroCopyChannel.create(name, { slotCount: 4, slotSize: payloadBytes })
  const { payload } = makePayload(payloadBytes)
  try {
    const peer = child(['throughput-channel', name, String(payloadBytes), String(messages)])
    const done = result<ThroughputResult>(peer)
    await waitFor(() => ch.numSubscribers === 1, 'the subscriber')
    const pub = ch.publisher()
    const t0 = performance.now()
    for (let k = 1; k <= messages; k++) {
      const s = pub.loan({ timeoutMs: 60_000 })
      s.data.set(payload)
      stamp(s.data, k)
      s.publish(payloadBytes)
    }
    const r = await done
    const seconds = (performance.now() - t0) / 1000
    return { ...r, seconds, mb_per_s: (payloadBytes * messages) / seconds / 1e6 }
  } finally {
    ch.close()
    ZeroCopyChannel.remove(name)
  }
}

function throughputChannelPeer(name: string, payloadBytes: number, messages: number): ThroughputResult {
  using ch = ZeroCopyChannel.open(name)
  // Blocking, not spinning: a spinning reader on a busy 2-core machine takes the writer's core.
  const sub = ch.subscriber({ wait: 'block' })
  const { checksum } = makePayload(payloadBytes)
  let bad = 0
  for (let k = 1; k <= messages; k++) {
    const s = sub.receive({ timeoutMs: 60_000 })
    if (laneChecksum(s.data) !== stampedChecksum(checksum, k)) bad++
    s.release()
  }
  return { transport: 'zero-copy channel', payload_bytes: payloadBytes, messages, seconds: 0, mb_per_s: 0, bad }
}

export async function queueThroughput(payloadBytes: number, messages: number): Promise<ThroughputResult> {
  const name = uniq()
  const q = MessageQueue.create(name, { maxMessages: 4, maxMessageSize: payloadBytes })
  const ready = MessageQueue.create(`${name}-ready`, { maxMessages: 1, maxMessageSize: 1 })
  const { payload } = makePayload(payloadBytes)
  try {
    const peer = child(['throughput-queue', name, String(payloadBytes), String(messages)])
    const done = result<ThroughputResult>(peer)
    await ready.receiveAsync({ timeoutMs: 120_000 })
    const t0 = performance.now()
    for (let k = 1; k <= messages; k++) {
      stamp(payload, k)
      q.send(payload)
    }
    const r = await done
    const seconds = (performance.now() - t0) / 1000
    return { ...r, seconds, mb_per_s: (payloadBytes * messages) / seconds / 1e6 }
  } finally {
    q.close()
    ready.close()
    MessageQueue.remove(name)
    MessageQueue.remove(`${name}-ready`)
  }
}

function throughputQueuePeer(name: string, payloadBytes: number, messages: number): ThroughputResult {
  using q = MessageQueue.open(name)
  const { checksum } = makePayload(payloadBytes)
  const into = new Uint8Array(payloadBytes)
  using ready = MessageQueue.open(`${name}-ready`)
  ready.send(new Uint8Array(1))
  let bad = 0
  for (let k = 1; k <= messages; k++) {
    q.receive(into)
    if (laneChecksum(into) !== stampedChecksum(checksum, k)) bad++
  }
  return { transport: 'message queue', payload_bytes: payloadBytes, messages, seconds: 0, mb_per_s: 0, bad }
}

// ---- child entry -----------------------------------------------------------

if (process.argv[1] === self) {
  const [role, a, b, c] = process.argv.slice(2)
  const print = (r: unknown): void => void process.stdout.write(JSON.stringify(r) + '\n')
  if (role === 'latency-channel') print(latencyChannelPeer(a ?? '', Number(b), c === 'spin' ? 'spin' : 'block'))
  else if (role === 'latency-queue') print(latencyQueuePeer(a ?? '', Number(b)))
  else if (role === 'latency-socket') print(await latencySocketPeer(a ?? '', Number(b)))
  else if (role === 'latency-ipc') print(await latencyIpcPeer(Number(a)))
  else if (role === 'throughput-channel') print(throughputChannelPeer(a ?? '', Number(b), Number(c)))
  else if (role === 'throughput-queue') print(throughputQueuePeer(a ?? '', Number(b), Number(c)))
  else throw new Error(`unknown role ${role}`)
}
