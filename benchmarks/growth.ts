// Online growth under load: a segment grows from 64 MiB to 1 GiB in 64 MiB
// steps while another process keeps allocating and freeing 64-byte blocks;
// the figure is that process's worst pause (the longest gap between two of
// its operations), beside its worst pause over the same time without growth
// (what the shared machine alone costs).
//
//   npx tsx benchmarks/growth.ts
//
// Prints one JSON line per workload on stdout. Reserves up to 1 GiB of /dev/shm.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { ManagedSharedMemory, t } from '@shmkit/named-store'

const MiB = 2 ** 20
const START = 64 * MiB
const END = 1024 * MiB
const STEP = 64 * MiB
const allocatorChild = fileURLToPath(new URL(`./lib/growth-allocator${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url))

interface AllocatorReport {
  ops: number
  worstPauseUs: number
  p999PauseUs: number
}

async function run(grow: boolean): Promise<{ allocator: AllocatorReport; growMs: number[]; size: number }> {
  const name = `shmkit-bench-growth-${process.pid}-${randomBytes(4).toString('hex')}`
  const seg = ManagedSharedMemory.create(name, START, { maxSize: END })
  try {
    const stop = seg.construct('stop', t.uint32, 0)
    const child = spawn(process.execPath, [...process.execArgv, allocatorChild, name], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
    while (!out.includes('ready\n')) await new Promise((resolve) => setTimeout(resolve, 5))
    await new Promise((resolve) => setTimeout(resolve, 200))
    const growMs: number[] = []
    for (let size = START; size < END; size += STEP) {
      const t0 = performance.now()
      if (grow) seg.grow(STEP)
      else await new Promise((resolve) => setTimeout(resolve, 30)) // the baseline idles about as long
      growMs.push(performance.now() - t0)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
    stop.value = 1
    await exited
    return { allocator: JSON.parse(out.split('\n')[1] ?? '{}') as AllocatorReport, growMs, size: seg.size }
  } finally {
    seg.close()
    ManagedSharedMemory.remove(name)
  }
}

const baseline = await run(false)
const growing = await run(true)
if (growing.size !== END) throw new Error(`grew to ${growing.size}, not ${END}`)
const total = growing.growMs.reduce((a, b) => a + b, 0)
process.stderr.write(
  `  grow 64 MiB -> 1 GiB in ${growing.growMs.length} steps: ${total.toFixed(1)} ms in grow() (worst step ${Math.max(...growing.growMs).toFixed(1)} ms); ` +
    `allocating process: worst pause ${growing.allocator.worstPauseUs} us (99.9th percentile ${growing.allocator.p999PauseUs} us, ${growing.allocator.ops} ops), ` +
    `without growth ${baseline.allocator.worstPauseUs} us (99.9th ${baseline.allocator.p999PauseUs} us)\n`,
)
console.log(
  JSON.stringify({
    workload: 'grow_64MiB_to_1GiB_online_worst_pause',
    label: 'grow 64 MiB -> 1 GiB online: worst pause of an allocating process',
    ns_per_op: growing.allocator.worstPauseUs * 1000,
    // Against the same allocation loop with no growth, in the same run: what growing adds to the worst pause.
    ratio: growing.allocator.worstPauseUs / baseline.allocator.worstPauseUs,
    baseline: 'no growth',
    worst_pause_us: growing.allocator.worstPauseUs,
    p999_pause_us: growing.allocator.p999PauseUs,
    baseline_worst_pause_us: baseline.allocator.worstPauseUs,
    baseline_p999_pause_us: baseline.allocator.p999PauseUs,
    grow_total_ms: Number(total.toFixed(1)),
    grow_worst_step_ms: Number(Math.max(...growing.growMs).toFixed(1)),
  }),
)
