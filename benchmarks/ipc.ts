// Moving a payload from a parent to a long-lived child process, four ways:
// shmkit (a managed segment, the child reads in place), a Unix domain socket,
// the child_process IPC channel (serialization: 'advanced'), and, as the
// ceiling, a plain copy inside one process. Every reader proves it has the
// payload with the same checksum over every 8-byte word (lib/checksum.ts).
//
//   npx tsx benchmarks/ipc.ts                      (from the repository root)
//   SHMKIT_BENCH_QUICK=1 npx tsx benchmarks/ipc.ts  (short runs, for a smoke test)
//
// Progress and a table go to stderr; one JSON line per measurement to stdout.
import { startChannel } from './lib/ipc-channel.js'
import { budgetFor, formatRate, formatSize, makePayload, measurement, PAYLOAD_SIZES, planRounds, stamp, type Budget, type Measurement } from './lib/ipc-plan.js'
import { startShmkit } from './lib/ipc-shmkit.js'
import { startSocket, type AsyncSession } from './lib/ipc-socket.js'

const quick = process.env.SHMKIT_BENCH_QUICK === '1'
const sizes = (process.env.SHMKIT_BENCH_IPC_SIZES?.split(',').map(Number) ?? [...PAYLOAD_SIZES]).filter((n) => Number.isSafeInteger(n) && n > 0 && n % 8 === 0)

export const Transport = { SHMKIT: 'shmkit', SOCKET: 'unix socket', CHANNEL: 'child_process IPC', COPY: 'in-process copy' } as const

/** What shmkit must reach, as a multiple of which baseline's MB/s, per payload size. */
function targetFor(payloadBytes: number): { baseline: string; target: number } | undefined {
  if (payloadBytes === 4 << 10) return { baseline: Transport.SOCKET, target: 2 }
  if (payloadBytes === 1 << 20) return { baseline: Transport.SOCKET, target: 5 }
  if (payloadBytes === 64 << 20) return { baseline: Transport.COPY, target: 0.8 }
  return undefined
}

const now = (): number => performance.now() / 1000

function progress(text: string): void {
  process.stderr.write(`  ${text}\n`)
}

function measureCopy(payloadBytes: number, budget: Budget): Measurement {
  const { payload } = makePayload(payloadBytes)
  const target = Buffer.allocUnsafeSlow(payloadBytes)
  const copyRounds = (rounds: number): number => {
    const start = now()
    for (let round = 0; round < rounds; round++) {
      stamp(payload, round + 1)
      payload.copy(target)
    }
    return now() - start
  }
  const rounds = planRounds(budget, copyRounds(budget.warmupRounds))
  return measurement(Transport.COPY, payloadBytes, rounds, copyRounds(rounds))
}

async function measureShmkit(payloadBytes: number, budget: Budget): Promise<Measurement> {
  const session = await startShmkit(payloadBytes)
  try {
    const deadline = performance.now() + budget.deadlineSeconds * 1000
    let start = now()
    session.run(budget.warmupRounds, deadline)
    const rounds = planRounds(budget, now() - start)
    start = now()
    session.run(rounds, deadline)
    return measurement(Transport.SHMKIT, payloadBytes, rounds, now() - start)
  } finally {
    await session.close()
  }
}

async function measureAsync(transport: string, open: (payloadBytes: number) => Promise<AsyncSession>, payloadBytes: number, budget: Budget): Promise<Measurement> {
  const session = await open(payloadBytes)
  try {
    let start = now()
    await session.run(budget.warmupRounds, budget.deadlineSeconds)
    const rounds = planRounds(budget, now() - start)
    start = now()
    await session.run(rounds, budget.deadlineSeconds)
    return measurement(transport, payloadBytes, rounds, now() - start)
  } finally {
    await session.close()
  }
}

export interface IpcRow {
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
  const steps: [string, () => Promise<Measurement> | Measurement][] = [
    [Transport.COPY, () => measureCopy(payloadBytes, budget)],
    [Transport.SHMKIT, () => measureShmkit(payloadBytes, budget)],
    [Transport.SOCKET, () => measureAsync(Transport.SOCKET, startSocket, payloadBytes, budget)],
    [Transport.CHANNEL, () => measureAsync(Transport.CHANNEL, startChannel, payloadBytes, budget)],
  ]
  for (const [transport, run] of steps) {
    progress(`ipc ${label} ${transport}...`)
    const m = await run()
    progress(`ipc ${label} ${transport}: ${m.rounds} rounds, ${(m.nsPerOp / 1000).toFixed(1)} us/op, ${formatRate(m.mbPerS)}`)
    measured.push(m)
  }
  const shmkit = measured.find((m) => m.transport === Transport.SHMKIT) as Measurement
  const goal = targetFor(payloadBytes)
  for (const m of measured) {
    const row: IpcRow = {
      workload: `ipc_${label.replace(' ', '')}_${m.transport.replace(/[^a-z]+/gi, '_')}`,
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

process.stderr.write('\npayload  transport           us/op        MB/s  shmkit x  target\n')
for (const row of rows) {
  const shmkitRow = rows.find((r) => r.payload_bytes === row.payload_bytes && r.transport === Transport.SHMKIT)
  const times = row === shmkitRow ? '' : (shmkitRow?.ratios?.[row.transport]?.toFixed(2) ?? '')
  const target = row.target === undefined ? '' : `>= ${row.target} x ${row.baseline}: ${(row.ratio ?? 0) >= row.target ? 'met' : 'MISSED'}`
  process.stderr.write(
    `${formatSize(row.payload_bytes).padEnd(8)} ${row.transport.padEnd(18)} ${(row.ns_per_op / 1000).toFixed(2).padStart(8)}  ${row.mb_per_s.toFixed(1).padStart(10)}  ${times.padStart(8)}  ${target}\n`,
  )
}
