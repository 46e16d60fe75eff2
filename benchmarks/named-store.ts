// Managed-segment benchmarks, side by side with the Boost.Interprocess harness
// in ../shared/bench/boost (same workloads, same LCG, same run).
//
//   npx tsx benchmarks/named-store.ts            (from the repository root)
//   SHMKIT_BENCH_QUICK=1 npx tsx benchmarks/named-store.ts   (smaller N, for a smoke run)
//
// Every workload runs SHMKIT_BENCH_REPS times (default 5) on a fresh segment,
// interleaved with the same number of Boost runs, and the medians are compared:
// the machine is shared, and one run of either side swings by up to 2x. An
// untimed run of each workload goes first, so the JIT has compiled the paths.
//
// Prints a table on stderr and one JSON line per workload on stdout.
import { ManagedSharedMemory, t } from '@shmkit/named-store'
import { runBoost } from './lib/boost.js'
import { median, timeNs } from './lib/timing.js'
import { batchMixedPlan } from './lib/workloads.js'

const quick = process.env.SHMKIT_BENCH_QUICK === '1'
const scale = (n: number): number => (quick ? Math.max(1, Math.floor(n / 20)) : n)
const REPETITIONS = Math.max(1, Number(process.env.SHMKIT_BENCH_REPS ?? (quick ? 1 : 5)))
const SEGMENT = 512 << 20
const segName = (tag: string): string => `shmkit-bench-${tag}-${process.pid}`

interface Row {
  workload: string
  ops: number
  ns_per_op: number
  boost_ns_per_op?: number
  ratio?: number
  target?: number
  runs: number
  extra?: Record<string, number>
  /** How the report's table names the row. */
  label?: string
}
const rows: Row[] = []

function withSegment<R>(tag: string, size: number, fn: (seg: ManagedSharedMemory) => R): R {
  const name = segName(tag)
  ManagedSharedMemory.remove(name)
  const seg = ManagedSharedMemory.create(name, size)
  try {
    return fn(seg)
  } finally {
    seg.close()
    ManagedSharedMemory.remove(name)
  }
}

function progress(what: string): void {
  process.stderr.write(`  running ${what}...\n`)
}

/** Keeps a result for the closing table and prints its JSON line for the report runner. */
function emit(row: Row): void {
  rows.push(row)
  process.stdout.write(JSON.stringify(row) + '\n')
}

interface Workload {
  /** The Boost harness's workload and, per phase, the field of its JSON line. */
  boost?: { workload: string; n: number }
  phases: { workload: string; boostField: string; target?: number; label?: string }[]
  ops: number
  /** One run on a fresh segment: ns/op per phase, in `phases` order. */
  run: () => number[]
}

/**
 * Runs a workload REPETITIONS times, each shmkit run followed by a Boost run,
 * and records the median of each phase (and of Boost's).
 */
async function measure(label: string, w: Workload): Promise<void> {
  progress(`${label} x${REPETITIONS}`)
  const ours: number[][] = w.phases.map(() => [])
  const theirs: number[][] = w.phases.map(() => [])
  // One untimed run first, as the allocator bench does: the timed runs measure optimised code.
  w.run()
  for (let rep = 0; rep < REPETITIONS; rep++) {
    const ns = w.run()
    for (const [i, v] of ns.entries()) ours[i]?.push(v)
    const boost = w.boost === undefined ? undefined : await runBoost(w.boost.workload, w.boost.n)
    const boostNs = w.phases.map((phase) => boost?.[phase.boostField])
    boostNs.forEach((value, i) => {
      if (typeof value === 'number') theirs[i]?.push(value)
    })
    const shown = w.phases.map((phase, i) => {
      const value = boostNs[i]
      return `${phase.workload} ${(ns[i] ?? 0).toFixed(1)}${typeof value === 'number' ? ` (Boost ${value.toFixed(1)})` : ''}`
    })
    process.stderr.write(`    run ${rep + 1}: ${shown.join(', ')} ns/op\n`)
  }
  w.phases.forEach((phase, i) => {
    const row: Row = { workload: phase.workload, ops: w.ops, ns_per_op: median(ours[i] ?? []), runs: REPETITIONS }
    if (phase.target !== undefined) row.target = phase.target
    if (phase.label !== undefined) row.label = phase.label
    if ((theirs[i]?.length ?? 0) > 0) {
      row.boost_ns_per_op = median(theirs[i] ?? [])
      row.ratio = row.ns_per_op / row.boost_ns_per_op
    }
    emit(row)
  })
}

const cfdN = scale(100_000)
const cfdNames = Array.from({ length: cfdN }, (_, i) => `obj_${i}`)
await measure(`construct_find_destroy (${cfdN} int64 objects)`, {
  boost: { workload: 'construct_find_destroy', n: cfdN },
  phases: [
    { workload: 'construct', boostField: 'construct_ns', target: 1.5 },
    { workload: 'find', boostField: 'find_ns', target: 0.5 },
    { workload: 'destroy', boostField: 'destroy_ns', target: 1.5 },
  ],
  ops: cfdN,
  run: () =>
    withSegment('cfd', SEGMENT, (seg) => {
      const names = cfdNames
      const construct = timeNs(() => {
        for (let i = 0; i < cfdN; i++) seg.construct(names[i] as string, t.int64, BigInt(i))
      })
      let bad = 0
      const find = timeNs(() => {
        for (let i = 0; i < cfdN; i++) if (seg.find(names[i] as string, t.int64)?.value !== BigInt(i)) bad++
      })
      const destroy = timeNs(() => {
        for (let i = 0; i < cfdN; i++) seg.destroy(names[i] as string)
      })
      if (bad !== 0) throw new Error(`construct_find_destroy: ${bad} wrong finds`)
      return [construct / cfdN, find / cfdN, destroy / cfdN]
    }),
})

const hotN = scale(2_000_000)
await measure(`find_hot (${hotN} finds of one name among 10,000: a per-handle cache hit after the first)`, {
  boost: { workload: 'find_hot', n: hotN },
  phases: [{ workload: 'find_hot', boostField: 'ns_per_op', target: 0.5, label: 'find_hot (cache hit)' }],
  ops: hotN,
  run: () =>
    withSegment('hot', SEGMENT, (seg) => {
      for (let i = 0; i < 10_000; i++) seg.construct(`obj_${i}`, t.int64, BigInt(i))
      let sum = 0n
      const ns = timeNs(() => {
        for (let i = 0; i < hotN; i++) sum += seg.find('obj_5000', t.int64)?.value ?? 0n
      })
      if (sum !== 5000n * BigInt(hotN)) throw new Error('find_hot: wrong sum')
      return [ns / hotN]
    }),
})

const uncachedN = scale(1_000_000)
await measure(`find_repeat_uncached (${uncachedN} finds of one name among 10,000, every one missing the per-handle cache)`, {
  // Boost has no find cache: its find_hot is the same lookup every time, the fair comparison.
  boost: { workload: 'find_hot', n: uncachedN },
  phases: [{ workload: 'find_repeat_uncached', boostField: 'ns_per_op', target: 1.0, label: 'find_repeat_uncached (cache miss)' }],
  ops: uncachedN,
  run: () =>
    withSegment('uncached', SEGMENT, (seg) => {
      for (let i = 0; i < 10_000; i++) seg.construct(`obj_${i}`, t.int64, BigInt(i))
      // The cache keys on the type object's identity: a second object for the same type
      // (same fingerprint) alternating with t.int64 evicts the entry on every find.
      const int64Again = Object.create(t.int64) as typeof t.int64
      let sum = 0n
      const ns = timeNs(() => {
        for (let i = 0; i < uncachedN; i += 2) {
          sum += seg.find('obj_5000', t.int64)?.value ?? 0n
          sum += seg.find('obj_5000', int64Again)?.value ?? 0n
        }
      })
      if (sum !== 5000n * BigInt(Math.ceil(uncachedN / 2) * 2)) throw new Error('find_repeat_uncached: wrong sum')
      return [ns / uncachedN]
    }),
})

const afN = scale(1_000_000)
await measure(`alloc_free_64 (${afN} on a managed segment, with its lock)`, {
  boost: { workload: 'alloc_free_64', n: afN },
  phases: [{ workload: 'alloc_free_64', boostField: 'ns_per_op', target: 1.0 }],
  ops: afN,
  run: () =>
    withSegment('af', SEGMENT, (seg) => [
      timeNs(() => {
        for (let i = 0; i < afN; i++) seg.deallocate(seg.allocate(64))
      }) / afN,
    ]),
})

const abN = scale(100_000)
const abPlan = batchMixedPlan(abN)
await measure(`alloc_batch_mixed (${abN} blocks of 16..4096 bytes, shuffled frees)`, {
  boost: { workload: 'alloc_batch_mixed', n: abN },
  phases: [{ workload: 'alloc_batch_mixed', boostField: 'ns_per_op', target: 1.0 }],
  ops: abN,
  run: () =>
    withSegment('ab', SEGMENT, (seg) => {
      const { order, sizes } = abPlan
      const blocks = new Array<number>(abN)
      return [
        timeNs(() => {
          for (let i = 0; i < abN; i++) blocks[i] = seg.allocate(sizes[i] as number)
          for (let i = 0; i < abN; i++) seg.deallocate(blocks[order[i] as number] as number)
        }) / abN,
      ]
    }),
})

const cocN = scale(2000)
const cocName = segName('coc')
await measure(`create_open_close (${cocN} rounds of a 1 MiB segment)`, {
  boost: { workload: 'create_open_close', n: cocN },
  phases: [{ workload: 'create_open_close', boostField: 'ns_per_op', target: 2.0 }],
  ops: cocN,
  run: () => {
    ManagedSharedMemory.remove(cocName)
    try {
      return [
        timeNs(() => {
          for (let i = 0; i < cocN; i++) {
            ManagedSharedMemory.create(cocName, 1 << 20).close()
            ManagedSharedMemory.open(cocName).close()
            ManagedSharedMemory.remove(cocName)
          }
        }) / cocN,
      ]
    } finally {
      ManagedSharedMemory.remove(cocName)
    }
  },
})

// The million-name figures have no Boost counterpart in the harness: one run.
const millionN = scale(1_000_000)
progress(`${millionN} names: construct all, find all, memory per name`)
const million = withSegment('million', SEGMENT, (seg) => {
  const used0 = seg.size - seg.freeMemory
  const names = Array.from({ length: millionN }, (_, i) => `obj_${i}`)
  const construct = timeNs(() => {
    for (let i = 0; i < millionN; i++) seg.construct(names[i] as string, t.int64, BigInt(i))
  })
  const bytesPerName = (seg.size - seg.freeMemory - used0) / millionN
  let bad = 0
  const find = timeNs(() => {
    for (let i = 0; i < millionN; i++) if (seg.find(names[i] as string, t.int64)?.value !== BigInt(i)) bad++
  })
  if (bad !== 0) throw new Error(`million: ${bad} wrong finds`)
  return { construct: construct / millionN, find: find / millionN, bytesPerName }
})
emit({ workload: 'million_construct', ops: millionN, ns_per_op: million.construct, runs: 1 })
emit({ workload: 'million_find', ops: millionN, ns_per_op: million.find, runs: 1, extra: { bytes_per_name: million.bytesPerName } })

const fmt = (n: number | undefined, digits = 1): string => (n === undefined ? '-' : n.toFixed(digits))
process.stderr.write(
  `\nworkload             ns/op (shmkit)  ns/op (Boost)  shmkit/Boost  target   (medians of ${REPETITIONS} interleaved runs)\n`,
)
for (const row of rows) {
  const ok = row.ratio === undefined || row.target === undefined ? '' : row.ratio <= row.target ? ' ok' : ' MISSED'
  process.stderr.write(
    `${row.workload.padEnd(20)} ${fmt(row.ns_per_op).padStart(14)}  ${fmt(row.boost_ns_per_op).padStart(13)}  ${fmt(row.ratio, 2).padStart(12)}  ${row.target === undefined ? '' : '<= ' + row.target}${ok}\n`,
  )
}
process.stderr.write(`memory per name at ${millionN} names: ${million.bytesPerName.toFixed(1)} bytes\n`)
