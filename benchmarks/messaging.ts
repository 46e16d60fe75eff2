// Message queue and zero-copy channel benchmarks, beside the Boost baseline
// measured in the same run (../shared/bench/boost, sync_bench):
//
//   mq_roundtrip N        two queues (request, response) of 16 × 64 B; the parent sends
//                         a 64-byte message holding i, the child echoes it, the parent
//                         checks it; ns per round trip.            target <= 1.2 x Boost
//   mq_throughput N SIZE  one queue of 64 × SIZE; the child sends N messages whose byte j
//                         of message k is (31k + j) mod 256, the parent receives each and
//                         checks every byte; MB/s (SIZE 64 and 4096). target >= 1.0 x Boost
//
//   channel latency       one-way latency of 64-byte samples (p50, p99), zero-copy channel with
//                         a spinning and a blocking subscriber, the message queue, a Unix socket,
//                         child_process IPC (lib/channel-bench.ts)     goal: p50 <= 2 us (spinning)
//   channel throughput    4 KiB and 1 MiB payloads, every byte checksummed by the reader: the
//                         channel, the message queue, a Unix socket, child_process IPC
//
//   npx tsx benchmarks/messaging.ts                      (from the repository root)
//   SHMKIT_BENCH_QUICK=1 npx tsx benchmarks/messaging.ts  (short runs)
//
// One JSON line per measurement on stdout, progress on stderr.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { MessageQueue } from '@shmkit/named-store'
import { runBoostSync } from './lib/boost-sync.js'
import {
  channelLatency,
  channelThroughput,
  ipcLatency,
  queueLatency,
  queueThroughput,
  socketLatency,
  type LatencyResult,
} from './lib/channel-bench.js'
import { startChannel } from './lib/ipc-channel.js'
import { budgetFor, measureRounds } from './lib/ipc-plan.js'
import { startSocket, type AsyncSession } from './lib/ipc-socket.js'

const quick = process.env.SHMKIT_BENCH_QUICK === '1'
const scale = quick ? 0.1 : 1
const self = fileURLToPath(import.meta.url)

function progress(text: string): void {
  process.stderr.write(`  ${text}\n`)
}

function spawnSelf(args: string[]): ChildProcess {
  return spawn(process.execPath, [...process.execArgv, self, 'child', ...args], { stdio: ['ignore', 'inherit', 'inherit'] })
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

const pattern = (k: number, j: number): number => (k * 31 + j) & 0xff

// ---- children ------------------------------------------------------------

function childRoundtrip(req: string, resp: string, n: number): void {
  const q = MessageQueue.open(req)
  const r = MessageQueue.open(resp)
  const buf = new Uint8Array(64)
  r.send(buf.subarray(0, 64))
  for (let i = 0; i < n; i++) {
    const m = q.receive(buf)
    r.send(m.data)
  }
  q.close()
  r.close()
}

function childThroughput(req: string, resp: string, n: number, size: number): void {
  const q = MessageQueue.open(req)
  const r = MessageQueue.open(resp)
  const buf = new Uint8Array(size)
  r.send(new Uint8Array([1]))
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < size; j++) buf[j] = (k * 31 + j) & 0xff
    q.send(buf)
  }
  q.close()
  r.close()
}

// ---- parent --------------------------------------------------------------

function queueNames(): [string, string] {
  const base = `shmkit_bench_mq_${process.pid}_${Math.random().toString(16).slice(2, 8)}`
  return [`${base}_req`, `${base}_resp`]
}

async function shmkitRoundtrip(n: number): Promise<{ seconds: number; bad: number }> {
  const [req, resp] = queueNames()
  const q = MessageQueue.create(req, { maxMessages: 16, maxMessageSize: 64 })
  const r = MessageQueue.create(resp, { maxMessages: 16, maxMessageSize: 64 })
  try {
    const child = spawnSelf(['roundtrip', req, resp, String(n)])
    const out = new Uint8Array(64)
    const outView = new DataView(out.buffer)
    const inBuf = new Uint8Array(64)
    const inView = new DataView(inBuf.buffer)
    const ready = await r.receiveAsync({ timeoutMs: 60_000 })
    void ready
    let bad = 0
    const t0 = performance.now()
    for (let i = 0; i < n; i++) {
      outView.setFloat64(0, i, true)
      q.send(out)
      const m = r.receive(inBuf)
      if (m.size !== 64 || inView.getFloat64(0, true) !== i) bad++
    }
    const seconds = (performance.now() - t0) / 1000
    if ((await exited(child)) !== 0) throw new Error('round-trip child failed')
    return { seconds, bad }
  } finally {
    q.close()
    r.close()
    MessageQueue.remove(req)
    MessageQueue.remove(resp)
  }
}

async function shmkitThroughput(n: number, size: number): Promise<{ seconds: number; bad: number }> {
  const [req, resp] = queueNames()
  const q = MessageQueue.create(req, { maxMessages: 64, maxMessageSize: size })
  const r = MessageQueue.create(resp, { maxMessages: 1, maxMessageSize: 8 })
  try {
    const child = spawnSelf(['throughput', req, resp, String(n), String(size)])
    const inBuf = new Uint8Array(size)
    await r.receiveAsync({ timeoutMs: 60_000 })
    let bad = 0
    const t0 = performance.now()
    for (let k = 0; k < n; k++) {
      const m = q.receive(inBuf)
      if (m.size !== size) {
        bad++
        continue
      }
      for (let j = 0; j < size; j++) {
        if (inBuf[j] !== ((k * 31 + j) & 0xff)) {
          bad++
          break
        }
      }
    }
    const seconds = (performance.now() - t0) / 1000
    if ((await exited(child)) !== 0) throw new Error('throughput child failed')
    return { seconds, bad }
  } finally {
    q.close()
    r.close()
    MessageQueue.remove(req)
    MessageQueue.remove(resp)
  }
}

function emit(row: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(row) + '\n')
}

async function main(): Promise<void> {
  void pattern
  const rtN = Math.round(20_000 * scale)
  progress(`mq_roundtrip ${rtN}`)
  const boostRt = await runBoostSync('mq_roundtrip', rtN)
  const rt = await shmkitRoundtrip(rtN)
  const rtNs = (rt.seconds * 1e9) / rtN
  const boostRtNs = typeof boostRt?.ns_per_op === 'number' ? boostRt.ns_per_op : undefined
  emit({
    workload: 'mq_roundtrip 64 B',
    ns_per_op: rtNs,
    ...(boostRtNs === undefined ? {} : { boost_ns_per_op: boostRtNs, ratio: rtNs / boostRtNs, target: 1.2 }),
    bad: rt.bad,
  })
  for (const [n0, size] of [
    [200_000, 64],
    [50_000, 4096],
  ] as const) {
    const n = Math.round(n0 * scale)
    progress(`mq_throughput ${n} ${size}`)
    const boost = await runBoostSync('mq_throughput', n, size)
    const tp = await shmkitThroughput(n, size)
    const mbPerS = (n * size) / tp.seconds / 1e6
    const boostMb = typeof boost?.mb_per_s === 'number' ? boost.mb_per_s : undefined
    emit({
      workload: `mq_throughput ${size} B`,
      ns_per_op: (tp.seconds * 1e9) / n,
      mb_per_s: mbPerS,
      messages_per_s: n / tp.seconds,
      ...(boostMb === undefined
        ? {}
        : { boost_mb_per_s: boostMb, boost_ns_per_op: boost?.ns_per_op, ratio: mbPerS / boostMb, target: 1, higher_is_better: true }),
      bad: tp.bad,
    })
  }
}

async function channelRows(): Promise<void> {
  const samples = Math.round(20_000 * scale)
  const latencies: [string, () => Promise<LatencyResult>][] = [
    ['channel (spin)', () => channelLatency(samples, 'spin')],
    ['channel (block)', () => channelLatency(samples, 'block')],
    ['message queue', () => queueLatency(samples)],
    ['unix socket', () => socketLatency(samples)],
    ['child_process IPC', () => ipcLatency(samples)],
  ]
  for (const [label, run] of latencies) {
    progress(`latency 64 B ${label}`)
    const r = await run()
    const spin = label === 'channel (spin)'
    emit({
      workload: `latency 64 B ${label}`,
      transport: r.transport,
      ns_per_op: r.p50_ns,
      p50_ns: r.p50_ns,
      p99_ns: r.p99_ns,
      samples: r.samples,
      ...(spin ? { ratio: r.p50_ns / 1000, target: 2, baseline: 'us (p50 one-way)' } : {}),
    })
  }
  for (const [size, count] of [
    [4 << 10, 50_000],
    [1 << 20, 1000],
  ] as const) {
    const n = Math.max(10, Math.round(count * scale))
    const label = size === 4 << 10 ? '4 KiB' : '1 MiB'
    const measured: { transport: string; mbPerS: number; nsPerOp: number; bad?: number }[] = []
    for (const [transport, run] of [
      ['zero-copy channel', () => channelThroughput(size, n)],
      ['message queue', () => queueThroughput(size, n)],
    ] as const) {
      progress(`throughput ${label} ${transport}`)
      const r = await run()
      measured.push({ transport, mbPerS: r.mb_per_s, nsPerOp: (r.seconds * 1e9) / n, bad: r.bad })
    }
    for (const [transport, open] of [
      ['unix socket', startSocket],
      ['child_process IPC', startChannel],
    ] as const) {
      progress(`throughput ${label} ${transport}`)
      const session: AsyncSession = await open(size)
      try {
        const { rounds, seconds } = await measureRounds(budgetFor(size, quick), async (k) => {
          const t0 = performance.now()
          await session.run(k, 120)
          return (performance.now() - t0) / 1000
        })
        measured.push({ transport, mbPerS: (size * rounds) / seconds / 1e6, nsPerOp: (seconds * 1e9) / rounds })
      } finally {
        await session.close()
      }
    }
    const channel = measured[0] as { mbPerS: number }
    for (const m of measured) {
      emit({
        workload: `throughput ${label} ${m.transport}`,
        transport: m.transport,
        payload_bytes: size,
        ns_per_op: m.nsPerOp,
        mb_per_s: m.mbPerS,
        ...(m.bad === undefined ? {} : { bad: m.bad }),
        ...(m === channel
          ? { ratios: Object.fromEntries(measured.filter((o) => o !== m).map((o) => [o.transport, m.mbPerS / o.mbPerS])) }
          : {}),
      })
    }
  }
}

if (process.argv[2] === 'child') {
  const [, , , kind, req, resp, n, size] = process.argv
  if (kind === 'roundtrip') childRoundtrip(req as string, resp as string, Number(n))
  else if (kind === 'throughput') childThroughput(req as string, resp as string, Number(n), Number(size))
  else throw new Error(`unknown child ${kind}`)
} else {
  const only = process.env.SHMKIT_BENCH_MESSAGING
  if (only !== 'channel') await main()
  if (only !== 'queue') await channelRows()
}
