// Managed-segment benchmarks, side by side with the Boost.Interprocess harness
// in ../shared/bench/boost (same workloads, same LCG, same run).
//
//   npx tsx benchmarks/named-store.ts            (from the repository root)
//   SHMKIT_BENCH_QUICK=1 npx tsx benchmarks/named-store.ts   (smaller N, for a smoke run)
//
// Prints a table on stderr and one JSON line per workload on stdout.
import { ManagedSharedMemory, t } from '@shmkit/named-store'
import { runBoost } from './lib/boost.js'
import { batchMixedPlan } from './lib/workloads.js'

const quick = process.env.SHMKIT_BENCH_QUICK === '1'
const scale = (n: number): number => (quick ? Math.max(1, Math.floor(n / 20)) : n)
const SEGMENT = 512 << 20
const segName = (tag: string): string => `shmkit-bench-${tag}-${process.pid}`

interface Row {
  workload: string
  ops: number
  ns_per_op: number
  boost_ns_per_op?: number
  ratio?: number
  target?: number
  extra?: Record<string, number>
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

function timeIt(fn: () => void): number {
  const t0 = process.hrtime.bigint()
  fn()
  return Number(process.hrtime.bigint() - t0)
}

async function record(row: Row, boostWorkload: string | undefined, boostN: number, boostField = 'ns_per_op'): Promise<void> {
  if (boostWorkload !== undefined) {
    const boost = await runBoost(boostWorkload, boostN)
    const value = boost?.[boostField]
    if (typeof value === 'number') {
      row.boost_ns_per_op = value
      row.ratio = row.ns_per_op / value
    }
  }
  rows.push(row)
  process.stdout.write(JSON.stringify(row) + '\n')
}

const cfdN = scale(100_000)
progress(`construct_find_destroy (${cfdN} int64 objects)`)
const cfd = withSegment('cfd', SEGMENT, (seg) => {
  const names = Array.from({ length: cfdN }, (_, i) => `obj_${i}`)
  // Warm up the code paths on other names.
  for (let i = 0; i < 20_000; i++) seg.construct(`warm_${i}`, t.int64, BigInt(i))
  for (let i = 0; i < 20_000; i++) seg.find(`warm_${i}`, t.int64)
  for (let i = 0; i < 20_000; i++) seg.destroy(`warm_${i}`)
  const construct = timeIt(() => {
    for (let i = 0; i < cfdN; i++) seg.construct(names[i] as string, t.int64, BigInt(i))
  })
  let bad = 0
  const find = timeIt(() => {
    for (let i = 0; i < cfdN; i++) if (seg.find(names[i] as string, t.int64)?.value !== BigInt(i)) bad++
  })
  const destroy = timeIt(() => {
    for (let i = 0; i < cfdN; i++) seg.destroy(names[i] as string)
  })
  if (bad !== 0) throw new Error(`construct_find_destroy: ${bad} wrong finds`)
  return { construct: construct / cfdN, find: find / cfdN, destroy: destroy / cfdN }
})
await record({ workload: 'construct', ops: cfdN, ns_per_op: cfd.construct, target: 1.5 }, 'construct_find_destroy', cfdN, 'construct_ns')
await record({ workload: 'find', ops: cfdN, ns_per_op: cfd.find, target: 0.5 }, 'construct_find_destroy', cfdN, 'find_ns')
await record({ workload: 'destroy', ops: cfdN, ns_per_op: cfd.destroy, target: 1.5 }, 'construct_find_destroy', cfdN, 'destroy_ns')

const hotN = scale(2_000_000)
progress(`find_hot (${hotN} finds of one name among 10,000)`)
const hot = withSegment('hot', SEGMENT, (seg) => {
  for (let i = 0; i < 10_000; i++) seg.construct(`obj_${i}`, t.int64, BigInt(i))
  let sum = 0n
  for (let i = 0; i < 100_000; i++) sum += seg.find('obj_5000', t.int64)?.value ?? 0n
  sum = 0n
  const ns = timeIt(() => {
    for (let i = 0; i < hotN; i++) sum += seg.find('obj_5000', t.int64)?.value ?? 0n
  })
  if (sum !== 5000n * BigInt(hotN)) throw new Error('find_hot: wrong sum')
  return ns / hotN
})
await record({ workload: 'find_hot', ops: hotN, ns_per_op: hot, target: 0.5 }, 'find_hot', hotN)

const afN = scale(1_000_000)
progress(`alloc_free_64 (${afN} on a managed segment, with its lock)`)
const af = withSegment('af', SEGMENT, (seg) => {
  for (let i = 0; i < 100_000; i++) seg.deallocate(seg.allocate(64))
  return (
    timeIt(() => {
      for (let i = 0; i < afN; i++) seg.deallocate(seg.allocate(64))
    }) / afN
  )
})
await record({ workload: 'alloc_free_64', ops: afN, ns_per_op: af, target: 1.0 }, 'alloc_free_64', afN)

const abN = scale(100_000)
progress(`alloc_batch_mixed (${abN} blocks of 16..4096 bytes, shuffled frees)`)
const ab = withSegment('ab', SEGMENT, (seg) => {
  const { order, sizes } = batchMixedPlan(abN)
  const blocks = new Array<number>(abN)
  return (
    timeIt(() => {
      for (let i = 0; i < abN; i++) blocks[i] = seg.allocate(sizes[i] as number)
      for (let i = 0; i < abN; i++) seg.deallocate(blocks[order[i] as number] as number)
    }) / abN
  )
})
await record({ workload: 'alloc_batch_mixed', ops: abN, ns_per_op: ab, target: 1.0 }, 'alloc_batch_mixed', abN)

const cocN = scale(2000)
progress(`create_open_close (${cocN} rounds of a 1 MiB segment)`)
const cocName = segName('coc')
ManagedSharedMemory.remove(cocName)
const coc =
  timeIt(() => {
    for (let i = 0; i < cocN; i++) {
      ManagedSharedMemory.create(cocName, 1 << 20).close()
      ManagedSharedMemory.open(cocName).close()
      ManagedSharedMemory.remove(cocName)
    }
  }) / cocN
await record({ workload: 'create_open_close', ops: cocN, ns_per_op: coc, target: 2.0 }, 'create_open_close', cocN)

const millionN = scale(1_000_000)
progress(`${millionN} names: construct all, find all, memory per name`)
const million = withSegment('million', SEGMENT, (seg) => {
  const used0 = seg.size - seg.freeMemory
  const names = Array.from({ length: millionN }, (_, i) => `obj_${i}`)
  const construct = timeIt(() => {
    for (let i = 0; i < millionN; i++) seg.construct(names[i] as string, t.int64, BigInt(i))
  })
  const bytesPerName = (seg.size - seg.freeMemory - used0) / millionN
  let bad = 0
  const find = timeIt(() => {
    for (let i = 0; i < millionN; i++) if (seg.find(names[i] as string, t.int64)?.value !== BigInt(i)) bad++
  })
  if (bad !== 0) throw new Error(`million: ${bad} wrong finds`)
  return { construct: construct / millionN, find: find / millionN, bytesPerName }
})
await record({ workload: 'million_construct', ops: millionN, ns_per_op: million.construct }, undefined, 0)
await record({ workload: 'million_find', ops: millionN, ns_per_op: million.find, extra: { bytes_per_name: million.bytesPerName } }, undefined, 0)

const fmt = (n: number | undefined, digits = 1): string => (n === undefined ? '-' : n.toFixed(digits))
process.stderr.write('\nworkload             ns/op (shmkit)  ns/op (Boost)  shmkit/Boost  target\n')
for (const row of rows) {
  const ok = row.ratio === undefined || row.target === undefined ? '' : row.ratio <= row.target ? ' ok' : ' MISSED'
  process.stderr.write(
    `${row.workload.padEnd(20)} ${fmt(row.ns_per_op).padStart(14)}  ${fmt(row.boost_ns_per_op).padStart(13)}  ${fmt(row.ratio, 2).padStart(12)}  ${row.target === undefined ? '' : '<= ' + row.target}${ok}\n`,
  )
}
process.stderr.write(`memory per name at ${millionN} names: ${million.bytesPerName.toFixed(1)} bytes\n`)
