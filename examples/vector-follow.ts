// A producer appends readings to a shared t.vector; two reader processes
// follow it (lock-free reads), each summing every reading exactly once, until
// the producer marks the end. The parent checks both sums and cleans up.
//
//   npx tsx examples/vector-follow.ts
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ManagedSharedMemory, t } from '@shmkit/named-store'

const READINGS = 5_000
const Reading = t.struct({ seq: t.uint32, value: t.float64 })
const [role, name] = process.argv.slice(2)
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

if (role === 'producer') {
  const seg = ManagedSharedMemory.open(name ?? '')
  const log = seg.find('log', t.vector(Reading))
  const done = seg.find('done', t.uint32)
  if (log === undefined || done === undefined) throw new Error('producer: no log')
  for (let seq = 0; seq < READINGS; seq++) {
    log.push({ seq, value: seq * 0.5 })
    if (seq % 500 === 0) await sleep(1) // let the readers catch up now and then
  }
  done.value = 1
  seg.close()
} else if (role === 'reader') {
  const seg = ManagedSharedMemory.open(name ?? '')
  const log = seg.find('log', t.vector(Reading))
  const done = seg.find('done', t.uint32)
  if (log === undefined || done === undefined) throw new Error('reader: no log')
  let next = 0
  let sum = 0
  const deadline = Date.now() + 60_000
  // Follow the tail: read what was appended since last time, then wait a little.
  while (Date.now() < deadline) {
    const finished = done.value === 1
    const length = log.length
    for (; next < length; next++) {
      const r = log.get(next)
      if (r?.seq !== next) throw new Error(`reader: element ${next} is ${JSON.stringify(r)}`)
      sum += r.value ?? 0
    }
    if (finished && next === log.length) break
    await sleep(2)
  }
  console.log(JSON.stringify({ read: next, sum }))
  seg.close()
} else {
  const segment = `shmkit-example-vector-${process.pid}`
  const seg = ManagedSharedMemory.create(segment, 4 << 20)
  let failed = false
  try {
    seg.construct('log', t.vector(Reading))
    seg.construct('done', t.uint32, 0)
    const self = fileURLToPath(import.meta.url)
    const runChild = (childRole: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [...process.execArgv, self, childRole, segment], { stdio: ['ignore', 'pipe', 'inherit'] })
        let out = ''
        child.stdout.on('data', (d: Buffer) => (out += d.toString()))
        child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${childRole} exited ${code}`))))
      })
    const [, a, b] = await Promise.all([runChild('producer'), runChild('reader'), runChild('reader')])
    const expected = { read: READINGS, sum: (0.5 * READINGS * (READINGS - 1)) / 2 }
    for (const out of [a, b]) {
      const got = JSON.parse(out) as { read: number; sum: number }
      console.log(`reader followed ${got.read} readings, sum ${got.sum}`)
      if (got.read !== expected.read || got.sum !== expected.sum) {
        failed = true
        console.error(`expected ${JSON.stringify(expected)}`)
      }
    }
  } finally {
    seg.close()
    ManagedSharedMemory.remove(segment)
  }
  process.exit(failed ? 1 : 0)
}
