// Synchronisation benchmarks, side by side with the Boost.Interprocess harness
// (../shared/bench/boost/sync_bench: mutex_uncontended, mutex_contended,
// condition_pingpong, semaphore_pingpong; its README fixes each workload), plus
// the async API: the cost of `await sem.waitAsync()` over the blocking wait in
// a ping-pong (p50, p99 per round trip) and the event loop's lag (p99 of a 1 ms
// interval timer) with 1,000 async waits pending.
//
//   npx tsx benchmarks/sync.ts          (one JSON line per workload on stdout)
//   SHMKIT_BENCH_QUICK=1 npx tsx benchmarks/sync.ts
import { execFile, spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ManagedSharedMemory, t } from '@shmkit/named-store'
import { buildBoost } from './lib/boost.js'

const quick = process.env.SHMKIT_BENCH_QUICK === '1'
const run = promisify(execFile)

const SyncState = t.struct({
  m: t.mutex,
  c: t.condition,
  ping: t.semaphore,
  pong: t.semaphore,
  turn: t.int32,
  counter: t.int32,
  ready: t.int32,
  go: t.int32,
})

function open(name: string): { seg: ManagedSharedMemory; s: ReturnType<typeof SyncState.view> } {
  const seg = ManagedSharedMemory.open(name)
  const s = seg.find('sync', SyncState)
  if (s === undefined) throw new Error('no sync state')
  return { seg, s }
}

/** The child side of each two-process workload. */
async function child(workload: string, name: string, n: number): Promise<void> {
  const { seg, s } = open(name)
  s.ready = 1
  while (s.go === 0) {
    // spin: the parent starts the clock at go
  }
  if (workload === 'mutex_contended') {
    for (let i = 0; i < n / 2; i++) {
      s.m.lock()
      s.counter++
      s.m.unlock()
    }
  } else if (workload === 'condition_pingpong') {
    for (let i = 0; i < n; i++) {
      s.m.lock()
      while (s.turn !== 1) s.c.wait(s.m)
      s.turn = 0
      s.c.notifyOne()
      s.m.unlock()
    }
  } else if (workload === 'semaphore_pingpong') {
    for (let i = 0; i < n; i++) {
      s.ping.wait()
      s.pong.post()
    }
  }
  seg.close()
}

/** Times the parent side of a two-process workload from "go" to the child's exit. */
async function twoProcess(
  workload: string,
  n: number,
  parent: (s: ReturnType<typeof SyncState.view>) => void | Promise<void>,
): Promise<number> {
  const name = `shmkit-bench-sync-${process.pid}`
  ManagedSharedMemory.remove(name)
  const seg = ManagedSharedMemory.create(name, 1 << 20)
  try {
    const s = seg.construct('sync', SyncState)
    const kid = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'child', workload, name, String(n)], {
      stdio: 'inherit',
    })
    const exited = new Promise<number | null>((resolve) => kid.on('close', resolve))
    while (s.ready === 0) await new Promise((r) => setTimeout(r, 1))
    const started = performance.now()
    s.go = 1
    await parent(s)
    const code = await exited
    const seconds = (performance.now() - started) / 1000
    if (code !== 0) throw new Error(`${workload} child exited with ${code}`)
    return (seconds * 1e9) / n
  } finally {
    seg.close()
    ManagedSharedMemory.remove(name)
  }
}

async function boost(workload: string, n: number): Promise<number | undefined> {
  const dir = await buildBoost()
  if (dir === undefined) return undefined
  try {
    const { stdout } = await run(join(dir, 'sync_bench'), [workload, String(n)], { maxBuffer: 1 << 20 })
    const line = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { ns_per_op?: number }
    return line.ns_per_op
  } catch (error) {
    process.stderr.write(`  Boost ${workload} failed: ${String(error)}\n`)
    return undefined
  }
}

function emit(row: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(row)}\n`)
}

async function compared(workload: string, n: number, target: number, ours: () => Promise<number>): Promise<void> {
  const ns = await ours()
  const theirs = await boost(workload, n)
  const row: Record<string, unknown> = { workload, ops: n, ns_per_op: ns, target }
  if (theirs !== undefined) {
    row.boost_ns_per_op = theirs
    row.ratio = ns / theirs
  }
  process.stderr.write(
    `  ${workload}: ${ns.toFixed(1)} ns/op${theirs === undefined ? '' : ` (Boost ${theirs.toFixed(1)}, ratio ${(ns / theirs).toFixed(2)})`}\n`,
  )
  emit(row)
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN
}

async function main(): Promise<void> {
  const n = quick ? 20_000 : 1_000_000
  const pingN = quick ? 2_000 : 50_000

  await compared('mutex_uncontended', n, 1.5, async () => {
    const name = `shmkit-bench-sync-u-${process.pid}`
    ManagedSharedMemory.remove(name)
    const seg = ManagedSharedMemory.create(name, 1 << 20)
    try {
      const s = seg.construct('sync', SyncState)
      const m = s.m
      const started = performance.now()
      for (let i = 0; i < n; i++) {
        m.lock()
        s.counter++
        m.unlock()
      }
      return ((performance.now() - started) * 1e6) / n
    } finally {
      seg.close()
      ManagedSharedMemory.remove(name)
    }
  })

  await compared('mutex_contended', n, 1.5, () =>
    twoProcess('mutex_contended', n, (s) => {
      for (let i = 0; i < n / 2; i++) {
        s.m.lock()
        s.counter++
        s.m.unlock()
      }
    }),
  )

  await compared('condition_pingpong', pingN, 1.2, () =>
    twoProcess('condition_pingpong', pingN, (s) => {
      for (let i = 0; i < pingN; i++) {
        s.m.lock()
        s.turn = 1
        s.c.notifyOne()
        while (s.turn !== 0) s.c.wait(s.m)
        s.m.unlock()
      }
    }),
  )

  await compared('semaphore_pingpong', pingN, 1.2, () =>
    twoProcess('semaphore_pingpong', pingN, (s) => {
      for (let i = 0; i < pingN; i++) {
        s.ping.post()
        s.pong.wait()
      }
    }),
  )

  // The async API: the same semaphore ping-pong, each round trip timed, parent waiting sync vs async.
  const roundTrips = async (parentWait: (s: ReturnType<typeof SyncState.view>) => Promise<unknown> | unknown): Promise<number[]> => {
    const times: number[] = []
    await twoProcess('semaphore_pingpong', pingN, async (s) => {
      for (let i = 0; i < pingN; i++) {
        const started = performance.now()
        s.ping.post()
        await parentWait(s)
        times.push((performance.now() - started) * 1e6)
      }
    })
    return times.sort((a, b) => a - b)
  }
  const syncTimes = await roundTrips((s) => s.pong.wait())
  const asyncTimes = await roundTrips((s) => s.pong.waitAsync())
  for (const [p, label] of [
    [0.5, 'p50'],
    [0.99, 'p99'],
  ] as const) {
    const a = percentile(asyncTimes, p)
    const b = percentile(syncTimes, p)
    process.stderr.write(
      `  semaphore round trip ${label}: async ${a.toFixed(0)} ns, sync ${b.toFixed(0)} ns, overhead ${(a - b).toFixed(0)} ns\n`,
    )
    // Percentiles of two separate runs: a difference below the noise can come out negative; the row says so.
    emit({
      workload: `sem_waitAsync_overhead_${label}`,
      label: `sem waitAsync overhead ${label} (async ${Math.round(a)} − sync ${Math.round(b)} ns)`,
      ops: pingN,
      ns_per_op: a - b,
      async_ns: a,
      sync_ns: b,
    })
  }

  // Event-loop lag with 1,000 async waits pending: 800 on one semaphore, 200 on 200 others.
  {
    const name = `shmkit-bench-sync-lag-${process.pid}`
    ManagedSharedMemory.remove(name)
    const seg = ManagedSharedMemory.create(name, 4 << 20)
    try {
      const shared = seg.construct('shared', t.semaphore)
      const own = seg.constructArray('own', t.semaphore, 200)
      const waits: Promise<boolean>[] = []
      for (let i = 0; i < 800; i++) waits.push(shared.waitAsync())
      for (let i = 0; i < 200; i++) waits.push(own.get(i).waitAsync())
      await new Promise((r) => setTimeout(r, 500)) // the engine's threads start
      const lags: number[] = []
      let last = performance.now()
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          const now = performance.now()
          lags.push(Math.max(0, now - last - 1))
          last = now
          if (lags.length >= (quick ? 500 : 3000)) {
            clearInterval(timer)
            resolve()
          }
        }, 1)
      })
      shared.post(800)
      for (let i = 0; i < 200; i++) own.get(i).post()
      await Promise.all(waits)
      lags.sort((a, b) => a - b)
      const p99 = percentile(lags, 0.99)
      process.stderr.write(
        `  event-loop lag with 1,000 pending async waits: p50 ${percentile(lags, 0.5).toFixed(3)} ms, p99 ${p99.toFixed(3)} ms\n`,
      )
      emit({
        workload: 'event_loop_lag_p99_1000_waits',
        ops: lags.length,
        ns_per_op: p99 * 1e6,
        lag_ms_p99: p99,
        lag_ms_p50: percentile(lags, 0.5),
        // As a ratio to the issue's bound (2 ms), so the report shows it met or missed.
        ratio: p99 / 2,
        target: 1,
        baseline: '2 ms',
      })
    } finally {
      seg.close()
      ManagedSharedMemory.remove(name)
    }
  }
}

if (process.argv[2] === 'child') {
  await child(process.argv[3] as string, process.argv[4] as string, Number(process.argv[5]))
} else {
  await main()
}
