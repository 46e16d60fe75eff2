// Repeatable figures for the raw layer: what a koffi call, a map/unmap and a
// cross-process futex hand-off cost, and how fast bytes go into a mapping.
// Not a test: nothing here asserts a speed.
//
//   cd /work/main && npx tsc -b packages/ffi-shm && npx tsx packages/ffi-shm/bench/raw.ts
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { futexSupported, futexWait, futexWake, MappedRegion, SharedMemoryObject } from '@shmkit/ffi-shm'

const [role, childName, childRounds] = process.argv.slice(2)

/** The child of the ping-pong: answers each odd turn with the next even one. */
function pong(name: string, rounds: number): void {
  using shm = SharedMemoryObject.open(name)
  using region = new MappedRegion(shm)
  const words = new Int32Array(region.buffer)
  for (let i = 0; i < rounds; i++) {
    const mine = 2 * i + 1
    for (let spins = 0; Atomics.load(words, 0) !== mine; spins++) {
      if (spins > 10_000_000) throw new Error('the parent stopped answering')
      futexWait(region, 0, mine - 1, 1000)
    }
    Atomics.store(words, 0, mine + 1)
    futexWake(region, 0, 1)
  }
}

function nsPerOp(ops: number, fn: () => void): number {
  fn() // warm up the call path once
  const start = process.hrtime.bigint()
  for (let i = 0; i < ops; i++) fn()
  return Number(process.hrtime.bigint() - start) / ops
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

async function ping(region: MappedRegion, name: string, rounds: number): Promise<number> {
  const words = new Int32Array(region.buffer)
  Atomics.store(words, 0, 0)
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'pong', name, String(rounds)], {
    stdio: 'inherit',
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  // Let the child start before the clock does: its first answer comes after it mapped the object.
  Atomics.store(words, 0, 1)
  futexWake(region, 0, 1)
  for (let spins = 0; Atomics.load(words, 0) !== 2; spins++) {
    if (spins > 100_000) throw new Error('the child never answered')
    futexWait(region, 0, 1, 100)
  }
  const start = process.hrtime.bigint()
  for (let i = 1; i < rounds; i++) {
    const mine = 2 * i + 1
    Atomics.store(words, 0, mine)
    futexWake(region, 0, 1)
    for (let spins = 0; Atomics.load(words, 0) !== mine + 1; spins++) {
      if (spins > 10_000_000) throw new Error('the child stopped answering')
      futexWait(region, 0, mine, 1000)
    }
  }
  const ns = Number(process.hrtime.bigint() - start) / (rounds - 1)
  if ((await exited) !== 0) throw new Error('the pong child failed')
  return ns
}

async function main(): Promise<void> {
  const name = `shmkit-bench-raw-${process.pid}-${randomBytes(4).toString('hex')}`
  const MiB = 1 << 20
  using shm = SharedMemoryObject.create(name)
  try {
    shm.truncate(64 * MiB)
    using region = new MappedRegion(shm)
    const results: Record<string, number> = {}
    results['fstat size getter, ns/op'] = nsPerOp(100_000, () => void shm.size)
    if (futexSupported) results['futexWake with no waiter (one koffi call), ns/op'] = nsPerOp(200_000, () => void futexWake(region, 0, 1))
    results['map + close 1 MiB window, us/op'] = nsPerOp(2_000, () => new MappedRegion(shm, { size: MiB }).close()) / 1000
    const source = Buffer.alloc(64 * MiB, 7)
    const target = new Uint8Array(region.buffer)
    const copies = [1, 2, 3, 4, 5].map(() => nsPerOp(3, () => target.set(source)))
    results['copy 64 MiB into the mapping, MB/s (median of 5)'] = (64 * MiB) / (median(copies) / 1e9) / 1e6
    if (futexSupported) {
      const rounds = 20_000
      results['futex ping-pong between two processes, ns per round trip'] = await ping(region, name, rounds)
    }
    for (const [what, value] of Object.entries(results)) console.log(`${what.padEnd(62)} ${value.toFixed(value < 10 ? 2 : 0)}`)
    console.log(JSON.stringify({ bench: 'ffi-shm-raw', node: process.version, pageSize: MappedRegion.pageSize, results }))
  } finally {
    SharedMemoryObject.remove(name)
  }
}

if (role === 'pong') pong(childName ?? '', Number(childRounds))
else await main()
