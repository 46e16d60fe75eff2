// The other process of benchmarks/growth.ts: allocates and frees 64-byte
// blocks until the 'stop' flag is set, in batches of 100 operations: the
// longest batch is the worst pause (a batch normally takes tens of us).
import { ManagedSharedMemory, t } from '@shmkit/named-store'

const seg = ManagedSharedMemory.open(process.argv[2] ?? '')
const stop = seg.find('stop', t.uint32)
if (stop === undefined) throw new Error('no stop flag')
const gaps: number[] = []
let ops = 0
let last = process.hrtime.bigint()
console.log('ready')
while (stop.value === 0) {
  for (let i = 0; i < 100; i++) seg.deallocate(seg.allocate(64))
  ops += 100
  const now = process.hrtime.bigint()
  gaps.push(Number(now - last) / 1000)
  last = now
}
gaps.sort((a, b) => a - b)
const worst = gaps[gaps.length - 1] ?? 0
const p999 = gaps[Math.floor(gaps.length * 0.999)] ?? 0
console.log(JSON.stringify({ ops, worstPauseUs: Math.round(worst), p999PauseUs: Math.round(p999) }))
seg.close()
