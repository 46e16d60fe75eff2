// The same API without any OS object: a heap segment, and a segment over a
// SharedArrayBuffer that worker threads share.
//
//   npx tsx examples/managed-heap-and-buffer.ts
import { Worker } from 'node:worker_threads'
import { ManagedExternalBuffer, ManagedHeapMemory, t } from '@shmkit/named-store'

// Worker threads do not inherit tsx's TypeScript loader, so each worker runs
// this small plain-JS body, importing the compiled package by its resolved URL.
const workerBody = `
  const { workerData, parentPort } = require('node:worker_threads')
  import(${JSON.stringify(import.meta.resolve('@shmkit/named-store'))}).then(({ ManagedExternalBuffer, t }) => {
    const seg = new ManagedExternalBuffer(workerData)
    const hits = seg.find('hits', t.uint32)
    for (let i = 0; i < 100000; i++) hits.add(1)
    seg.close()
    parentPort.postMessage('done')
  })`

const heap = new ManagedHeapMemory(1 << 20)
const list = heap.constructArray('primes', t.uint32, 5, [2, 3, 5, 7, 11])
console.log(`heap: primes = [${[...list.typed].join(', ')}], free ${heap.freeMemory} of ${heap.size}`)
heap.close()

const sab = new SharedArrayBuffer(1 << 20)
const seg = new ManagedExternalBuffer(sab)
const hits = seg.construct('hits', t.uint32, 0)
await Promise.all(
  [0, 1].map(
    () =>
      new Promise((resolve, reject) => {
        const w = new Worker(workerBody, { eval: true, workerData: sab })
        w.on('message', resolve)
        w.on('error', reject)
      }),
  ),
)
console.log(`external SharedArrayBuffer: hits = ${hits.value} (2 workers x 100000 atomic adds)`)
const ok = hits.value === 200_000
seg.close()
process.exit(ok ? 0 : 1)
