// The main demo (`pnpm demo`): a parent creates a managed segment and named
// objects in it; child processes find them by name, update them and add their
// own; the parent checks every value, reports, cleans up.
//
//   npx tsx examples/managed-parent-child.ts
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ManagedSharedMemory, t } from '@shmkit/named-store'

const Stats = t.struct({
  requests: t.uint32,
  lastPid: t.int32,
  mean: t.float64,
  host: t.string(32),
})
const CHILDREN = 3
const ADDS_PER_CHILD = 10_000

const [role, segmentName, childId] = process.argv.slice(2)

if (role === 'child') {
  const seg = ManagedSharedMemory.open(segmentName ?? '')
  try {
    const counter = seg.find('counter', t.uint32)
    const stats = seg.find('stats', Stats)
    const samples = seg.findArray('samples', t.float64)
    if (!counter || !stats || !samples) throw new Error('child: an object the parent made is missing')
    for (let i = 0; i < ADDS_PER_CHILD; i++) counter.add(1) // atomic across processes
    seg.withLock(() => {
      stats.requests += 1
      stats.lastPid = process.pid
    })
    samples.set(Number(childId), Number(childId) * 1.5)
    seg.construct(`child-${childId}`, t.int32, process.pid)
  } finally {
    seg.close()
  }
} else {
  const name = `shmkit-demo-${process.pid}`
  let failed = false
  const seg = ManagedSharedMemory.create(name, 4 << 20)
  try {
    seg.construct('counter', t.uint32, 0)
    seg.construct('stats', Stats, { requests: 0, lastPid: 0, mean: 0, host: 'demo' })
    seg.constructArray('samples', t.float64, CHILDREN, 0)
    const self = fileURLToPath(import.meta.url)
    for (let id = 0; id < CHILDREN; id++) {
      const r = spawnSync(process.execPath, [...process.execArgv, self, 'child', name, String(id)], { stdio: 'inherit' })
      if (r.status !== 0) throw new Error(`child ${id} failed with ${r.status ?? r.signal}`)
    }
    const counter = seg.find('counter', t.uint32)?.value
    const stats = seg.find('stats', Stats)
    const samples = [...(seg.findArray('samples', t.float64)?.typed ?? [])]
    const check = (ok: boolean, what: string): void => {
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`)
      if (!ok) failed = true
    }
    check(counter === CHILDREN * ADDS_PER_CHILD, `counter = ${counter} (${CHILDREN} children x ${ADDS_PER_CHILD} atomic adds)`)
    check(stats?.requests === CHILDREN, `stats.requests = ${stats?.requests}`)
    check(
      samples.every((v, i) => v === i * 1.5),
      `samples = [${samples.join(', ')}]`,
    )
    const childNames = [...seg.names()]
      .map((n) => n.name)
      .filter((n) => n.startsWith('child-'))
      .sort()
    check(childNames.length === CHILDREN, `children's own objects: ${childNames.join(', ')}`)
    console.log(
      `\nsegment "${name}": ${seg.size} bytes, ${seg.numNamedObjects} named objects, ${seg.size - seg.freeMemory} used, ${seg.freeMemory} free`,
    )
    for (const info of seg.names()) console.log(`  ${info.name.padEnd(10)} ${info.type.padEnd(60)} offset ${info.offset}`)
    for (const info of seg.names()) seg.destroy(info.name)
    check(seg.allMemoryDeallocated(), 'after destroying everything, all memory is deallocated')
    check(seg.checkSanity(), 'checkSanity()')
  } finally {
    seg.close()
    ManagedSharedMemory.remove(name)
  }
  process.exit(failed ? 1 : 0)
}
