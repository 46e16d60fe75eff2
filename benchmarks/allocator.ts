// The allocator alone (no lock, plain heap buffer) against Boost's
// rbtree_best_fit with null_mutex_family, same workloads, same run.
//
//   npx tsx benchmarks/allocator.ts
//
// Prints a table on stderr and one JSON line per workload on stdout.
// SHMKIT_BENCH_REPS sets the repetitions per side (default 5); SHMKIT_BOOST_DIR the harness.
import { RbTreeBestFit } from '@shmkit/allocator'
import { runBoost } from './lib/boost.js'
import { median, timeNs } from './lib/timing.js'
import { batchMixedPlan } from './lib/workloads.js'

const SEGMENT = 512 << 20
/** The machine is shared and memory-bound runs swing by 2x: each side runs this often, interleaved, and the medians are compared. */
const REPETITIONS = Number(process.env.SHMKIT_BENCH_REPS ?? 5)

// One 512 MiB buffer, its pages touched once (Boost's harness value-initialises its
// std::vector, a memset, outside the timing); every repetition formats it afresh.
const segment = new ArrayBuffer(SEGMENT)
new Uint8Array(segment).fill(0)

function allocFree64(n: number): number {
  const a = RbTreeBestFit.format(segment, 0, SEGMENT)
  return (
    timeNs(() => {
      for (let i = 0; i < n; i++) a.deallocate(a.allocate(64))
    }) / n
  )
}

const plans = new Map<number, ReturnType<typeof batchMixedPlan>>()

function allocBatchMixed(n: number): number {
  let plan = plans.get(n)
  if (plan === undefined) {
    plan = batchMixedPlan(n)
    plans.set(n, plan)
  }
  const { order, sizes } = plan
  const a = RbTreeBestFit.format(segment, 0, SEGMENT)
  const blocks = new Array<number>(n)
  return (
    timeNs(() => {
      for (let i = 0; i < n; i++) blocks[i] = a.allocate(sizes[i] as number)
      for (let i = 0; i < n; i++) a.deallocate(blocks[order[i] as number] as number)
    }) / n
  )
}

// Warm-up: the same code paths at a smaller scale, so the timed runs measure optimised code.
allocFree64(200_000)
allocBatchMixed(20_000)
allocBatchMixed(20_000)

const rows: { workload: string; ns_per_op: number; boost_ns_per_op?: number; ratio?: number; runs: number }[] = []
for (const [workload, n, run] of [
  ['raw_alloc_free_64', 1_000_000, allocFree64],
  ['raw_alloc_batch_mixed', 100_000, allocBatchMixed],
] as const) {
  process.stderr.write(`  running ${workload} (${n}) x${REPETITIONS}...\n`)
  const ours: number[] = []
  const theirs: number[] = []
  for (let rep = 0; rep < REPETITIONS; rep++) {
    ours.push(run(n))
    const boost = await runBoost(workload, n)
    if (typeof boost?.ns_per_op === 'number') theirs.push(boost.ns_per_op)
    process.stderr.write(
      `    run ${rep + 1}: shmkit ${(ours[rep] as number).toFixed(1)} ns/op, Boost ${theirs[rep]?.toFixed(1) ?? '-'} ns/op\n`,
    )
  }
  const row: (typeof rows)[number] = { workload, ns_per_op: median(ours), runs: REPETITIONS }
  if (theirs.length > 0) {
    row.boost_ns_per_op = median(theirs)
    row.ratio = row.ns_per_op / row.boost_ns_per_op
  }
  rows.push(row)
  process.stdout.write(JSON.stringify({ ...row, target: 1.0 }) + '\n')
}
process.stderr.write(
  '\nworkload                ns/op (shmkit)  ns/op (Boost)  shmkit/Boost  target   (medians of ' + REPETITIONS + ' interleaved runs)\n',
)
for (const r of rows) {
  process.stderr.write(
    `${r.workload.padEnd(23)} ${r.ns_per_op.toFixed(1).padStart(14)}  ${(r.boost_ns_per_op?.toFixed(1) ?? '-').padStart(13)}  ${(r.ratio?.toFixed(2) ?? '-').padStart(12)}  <= 1.0${r.ratio === undefined ? '' : r.ratio <= 1 ? ' ok' : ' MISSED'}\n`,
  )
}
