// How long a process blocked on the segment lock takes to notice it was
// released by another process, and contended withLock throughput between two
// processes. On Linux the waiter sleeps in a futex and is woken by the
// releaser; on Windows (WaitOnAddress is process-local) it sleeps 1 ms at a
// time and looks again (SleepWaiter): this measures what that costs.
//
//   npx tsx benchmarks/lock-wake.ts                              (Linux)
//   tsc -b, then under Wine: wine node.exe benchmarks/dist/lock-wake.js > out.txt
//
// Prints one JSON line: the platform, the median and 90th percentile wake
// latency in µs, and contended lock/unlock pairs per second.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ManagedSharedMemory, t } from '@shmkit/named-store'

const ROUNDS = Number(process.env.SHMKIT_BENCH_ROUNDS ?? 40)
const PAIRS = Number(process.env.SHMKIT_BENCH_PAIRS ?? 20_000)
const nowUs = (): number => Number(process.hrtime.bigint() / 1000n) // system-wide monotonic (CLOCK_MONOTONIC, QueryPerformanceCounter)
const nap = new Int32Array(new SharedArrayBuffer(4))
const sleepMs = (ms: number): void => void Atomics.wait(nap, 0, 0, ms)

const [role, name] = process.argv.slice(2)

if (role === 'child') {
  const seg = ManagedSharedMemory.open(name ?? '')
  const go = seg.find('go', t.int32)!
  const done = seg.find('done', t.int32)!
  const acquired = seg.findArray('acquired', t.float64)!
  const counter = seg.find('counter', t.uint32)!
  for (let round = 0; round < ROUNDS; round++) {
    while (go.value !== round + 1) sleepMs(1)
    seg.withLock(() => acquired.set(round, nowUs())) // blocks: the parent holds the lock
    done.value = round + 1
  }
  for (let i = 0; i < PAIRS; i++) seg.withLock(() => void (counter.value = counter.value + 1))
  seg.close()
} else {
  const segment = `shmkit-bench-wake-${process.pid}`
  const seg = ManagedSharedMemory.create(segment, 1 << 20)
  try {
    const go = seg.construct('go', t.int32, 0)
    const done = seg.construct('done', t.int32, 0)
    const acquired = seg.constructArray('acquired', t.float64, ROUNDS, 0)
    const counter = seg.construct('counter', t.uint32, 0)
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'child', segment], { stdio: 'inherit' })
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    const latencies: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      let released = 0
      seg.withLock(() => {
        go.value = round + 1
        sleepMs(20) // the child is now blocked on the lock
        released = nowUs()
      })
      while (done.value !== round + 1) await new Promise((resolve) => setTimeout(resolve, 1))
      latencies.push((acquired.get(round) as number) - released)
    }
    const started = performance.now()
    for (let i = 0; i < PAIRS; i++) seg.withLock(() => void (counter.value = counter.value + 1))
    const code = await exited
    const seconds = (performance.now() - started) / 1000
    latencies.sort((a, b) => a - b)
    const pick = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN
    const report = {
      platform: process.platform,
      node: process.version,
      rounds: ROUNDS,
      wakeMedianUs: Math.round(pick(0.5)),
      wakeP90Us: Math.round(pick(0.9)),
      contendedPairsPerSecond: Math.round((2 * PAIRS) / seconds),
      lostUpdates: 2 * PAIRS - counter.value,
      childExit: code,
    }
    console.log(JSON.stringify(report))
    if (code !== 0 || report.lostUpdates !== 0) process.exitCode = 1
  } finally {
    seg.close()
    ManagedSharedMemory.remove(segment)
  }
}
