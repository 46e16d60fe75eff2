// Moving a payload from a parent to a long-lived child process, five ways:
// shmkit (a managed segment, the child reads in place), a Unix domain socket,
// the child_process IPC channel (serialization: 'advanced'), the same protocol
// in C++ on Boost.Interprocess (when Boost's headers are installed), and, as
// the ceiling, a plain copy inside one process. Every reader proves it has the
// payload with the same checksum over every 8-byte word (lib/checksum.ts).
//
//   npx tsx benchmarks/ipc.ts                      (from the repository root)
//   SHMKIT_BENCH_QUICK=1 npx tsx benchmarks/ipc.ts  (short runs, for a smoke test)
//
// Progress and a table go to stderr; one JSON line per measurement to stdout.
import { laneChecksum, stampedChecksum } from './lib/checksum.js'
import { BOOST_TRANSPORT, measureBoostIpc } from './lib/boost-ipc.js'
import { startChannel } from './lib/ipc-channel.js'
import {
  budgetFor,
  formatRate,
  formatSize,
  makePayload,
  measurement,
  measureRounds,
  PAYLOAD_SIZES,
  stamp,
  type Budget,
  type Measurement,
} from './lib/ipc-plan.js'
import { startShmkit } from './lib/ipc-shmkit.js'
import { startSocket, type AsyncSession } from './lib/ipc-socket.js'

const quick = process.env.SHMKIT_BENCH_QUICK === '1'
const sizes = (process.env.SHMKIT_BENCH_IPC_SIZES?.split(',').map(Number) ?? [...PAYLOAD_SIZES]).filter(
  (n) => Number.isSafeInteger(n) && n > 0 && n % 8 === 0,
)

const Transport = {
  SHMKIT: 'shmkit',
  SOCKET: 'unix socket',
  CHANNEL: 'child_process IPC',
  COPY: 'in-process copy',
  /** The in-process equivalent of what every reader does: a copy, then the checksum over it. */
  COPY_AND_CHECKSUM: 'in-process copy+checksum',
} as const

/** What shmkit must reach, as a multiple of which baseline's MB/s, per payload size. */
function targetFor(payloadBytes: number): { baseline: string; target: number } | undefined {
  if (payloadBytes === 4 << 10) return { baseline: Transport.SOCKET, target: 2 }
  if (payloadBytes === 1 << 20) return { baseline: Transport.SOCKET, target: 5 }
  if (payloadBytes === 64 << 20) return { baseline: Transport.COPY, target: 0.8 }
  return undefined
}

function progress(text: string): void {
  process.stderr.write(`  ${text}\n`)
}

function seconds(): number {
  return performance.now() / 1000
}

async function measureCopy(payloadBytes: number, budget: Budget, withChecksum: boolean): Promise<Measurement> {
  const { payload, checksum } = makePayload(payloadBytes)
  const target = Buffer.allocUnsafeSlow(payloadBytes)
  let round = 0
  const { rounds, seconds: elapsed } = await measureRounds(budget, (n) => {
    const start = seconds()
    for (const end = round + n; round < end; round++) {
      stamp(payload, round + 1)
      payload.copy(target)
      if (withChecksum && laneChecksum(target) !== stampedChecksum(checksum, round + 1))
        throw new Error('in-process copy: checksum mismatch')
    }
    return seconds() - start
  })
  return measurement(withChecksum ? Transport.COPY_AND_CHECKSUM : Transport.COPY, payloadBytes, rounds, elapsed)
}

async function measureShmkit(payloadBytes: number, budget: Budget): Promise<Measurement> {
  const session = await startShmkit(payloadBytes)
  try {
    const deadline = performance.now() + budget.deadlineSeconds * 1000
    const { rounds, seconds: elapsed } = await measureRounds(budget, (n) => {
      const start = seconds()
      session.run(n, deadline)
      return seconds() - start
    })
    return measurement(Transport.SHMKIT, payloadBytes, rounds, elapsed)
  } finally {
    await session.close()
  }
}

async function measureAsync(
  transport: string,
  open: (payloadBytes: number) => Promise<AsyncSession>,
  payloadBytes: number,
  budget: Budget,
): Promise<Measurement> {
  const session = await open(payloadBytes)
  try {
    const deadline = seconds() + budget.deadlineSeconds
    const { rounds, seconds: elapsed } = await measureRounds(budget, async (n) => {
      const start = seconds()
      await session.run(n, Math.max(1, deadline - start))
      return seconds() - start
    })
    return measurement(transport, payloadBytes, rounds, elapsed)
  } finally {
    await session.close()
  }
}

/** `Boost.Interprocess (C++)` -> `boost_interprocess_cpp`, for workload names. */
function slug(transport: string): string {
  return transport
    .toLowerCase()
    .replace(/c\+\+/g, 'cpp')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
}

interface IpcRow {
  workload: string
  transport: string
  payload_bytes: number
  rounds: number
  ns_per_op: number
  mb_per_s: number
  /** For shmkit rows: its MB/s over each other transport's, in this run. */
  ratios?: Record<string, number>
  /** The ratio the issue sets a target for, and the target (higher is better). */
  baseline?: string
  ratio?: number
  target?: number
  higher_is_better?: boolean
}

const rows: IpcRow[] = []
for (const payloadBytes of sizes) {
  const budget = budgetFor(payloadBytes, quick)
  const label = formatSize(payloadBytes)
  const measured: Measurement[] = []
  const steps: [string, () => Promise<Measurement | undefined>][] = [
    [Transport.COPY, () => measureCopy(payloadBytes, budget, false)],
    [Transport.COPY_AND_CHECKSUM, () => measureCopy(payloadBytes, budget, true)],
    [Transport.SHMKIT, () => measureShmkit(payloadBytes, budget)],
    [Transport.SOCKET, () => measureAsync(Transport.SOCKET, startSocket, payloadBytes, budget)],
    [Transport.CHANNEL, () => measureAsync(Transport.CHANNEL, startChannel, payloadBytes, budget)],
    [BOOST_TRANSPORT, () => measureBoostIpc(payloadBytes, budget)],
  ]
  for (const [transport, run] of steps) {
    progress(`ipc ${label} ${transport}...`)
    const m = await run()
    if (m === undefined) continue
    progress(`ipc ${label} ${transport}: ${m.rounds} rounds, ${(m.nsPerOp / 1000).toFixed(1)} us/op, ${formatRate(m.mbPerS)}`)
    measured.push(m)
  }
  const shmkit = measured.find((m) => m.transport === Transport.SHMKIT) as Measurement
  const goal = targetFor(payloadBytes)
  for (const m of measured) {
    const row: IpcRow = {
      workload: `ipc_${label.replace(' ', '')}_${slug(m.transport)}`,
      transport: m.transport,
      payload_bytes: m.payloadBytes,
      rounds: m.rounds,
      ns_per_op: m.nsPerOp,
      mb_per_s: m.mbPerS,
    }
    if (m === shmkit) {
      row.ratios = Object.fromEntries(measured.filter((o) => o !== m).map((o) => [o.transport, m.mbPerS / o.mbPerS]))
      if (goal !== undefined) {
        row.baseline = goal.baseline
        row.ratio = row.ratios[goal.baseline] as number
        row.target = goal.target
        row.higher_is_better = true
      }
    }
    rows.push(row)
    process.stdout.write(JSON.stringify(row) + '\n')
  }
}

process.stderr.write('\npayload  transport                   us/op        MB/s  shmkit x  target\n')
for (const row of rows) {
  const shmkitRow = rows.find((r) => r.payload_bytes === row.payload_bytes && r.transport === Transport.SHMKIT)
  const times = row === shmkitRow ? '' : (shmkitRow?.ratios?.[row.transport]?.toFixed(2) ?? '')
  const target = row.target === undefined ? '' : `>= ${row.target} x ${row.baseline}: ${(row.ratio ?? 0) >= row.target ? 'met' : 'MISSED'}`
  process.stderr.write(
    `${formatSize(row.payload_bytes).padEnd(8)} ${row.transport.padEnd(26)} ${(row.ns_per_op / 1000).toFixed(2).padStart(8)}  ${row.mb_per_s.toFixed(1).padStart(10)}  ${times.padStart(8)}  ${target}\n`,
  )
}
