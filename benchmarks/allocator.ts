// The allocator alone (no lock, plain heap buffer) against Boost's
// rbtree_best_fit with null_mutex_family, same workloads, same run.
//
//   npx tsx benchmarks/allocator.ts
//
// Prints a table on stderr and one JSON line per workload on stdout.
import { RbTreeBestFit } from '@shmkit/allocator'
import { runBoost } from './lib/boost.js'
import { batchMixedPlan } from './lib/workloads.js'

const SEGMENT = 512 << 20

/** Boost's harness value-initialises its std::vector (a memset): touch our buffer too, outside the timing. */
function touchedBuffer(bytes: number): ArrayBuffer {
  const buffer = new ArrayBuffer(bytes)
  new Uint8Array(buffer).fill(0)
  return buffer
}

function time(fn: () => void): number {
  const t0 = process.hrtime.bigint()
  fn()
  return Number(process.hrtime.bigint() - t0)
}

function allocFree64(n: number): number {
  const a = RbTreeBestFit.format(touchedBuffer(SEGMENT), 0, SEGMENT)
  for (let i = 0; i < 200_000; i++) a.deallocate(a.allocate(64))
  return time(() => {
    for (let i = 0; i < n; i++) a.deallocate(a.allocate(64))
  }) / n
}

function allocBatchMixed(n: number): number {
  const { order, sizes } = batchMixedPlan(n)
  // Warm the code on a buffer of its own, then time a fresh one (as Boost's run does).
  const warm = RbTreeBestFit.format(new ArrayBuffer(64 << 20), 0, 64 << 20)
  for (let k = 0; k < 3; k++) {
    const blocks = sizes.slice(0, 10_000).map((s) => warm.allocate(s))
    for (const b of blocks) warm.deallocate(b)
  }
  const a = RbTreeBestFit.format(touchedBuffer(SEGMENT), 0, SEGMENT)
  const blocks = new Array<number>(n)
  return time(() => {
    for (let i = 0; i < n; i++) blocks[i] = a.allocate(sizes[i] as number)
    for (let i = 0; i < n; i++) a.deallocate(blocks[order[i] as number] as number)
  }) / n
}

const rows: { workload: string; ns_per_op: number; boost_ns_per_op?: number; ratio?: number }[] = []
for (const [workload, n, run] of [
  ['raw_alloc_free_64', 1_000_000, allocFree64],
  ['raw_alloc_batch_mixed', 100_000, allocBatchMixed],
] as const) {
  process.stderr.write(`  running ${workload} (${n})...\n`)
  const ns = run(n)
  const boost = await runBoost(workload, n)
  const row: (typeof rows)[number] = { workload, ns_per_op: ns }
  if (typeof boost?.ns_per_op === 'number') {
    row.boost_ns_per_op = boost.ns_per_op
    row.ratio = ns / boost.ns_per_op
  }
  rows.push(row)
  process.stdout.write(JSON.stringify({ ...row, target: 1.0 }) + '\n')
}
process.stderr.write('\nworkload                ns/op (shmkit)  ns/op (Boost)  shmkit/Boost  target\n')
for (const r of rows) {
  process.stderr.write(
    `${r.workload.padEnd(23)} ${r.ns_per_op.toFixed(1).padStart(14)}  ${(r.boost_ns_per_op?.toFixed(1) ?? '-').padStart(13)}  ${(r.ratio?.toFixed(2) ?? '-').padStart(12)}  <= 1.0${r.ratio === undefined ? '' : r.ratio <= 1 ? ' ok' : ' MISSED'}\n`,
  )
}
