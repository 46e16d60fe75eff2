// One cache shared by every worker of a node:cluster HTTP server: a t.map in
// cache mode (LRU by entries, per-entry TTL). Each worker serves requests on
// loopback; a "slow computation" runs only when no worker has cached it yet.
// The primary sends a bounded number of requests, checks the answers and the
// hit count, shuts the workers down and removes the segment.
//
//   npx tsx examples/cache-cluster.ts
import cluster from 'node:cluster'
import { createServer, request } from 'node:http'
import { ManagedSharedMemory, t } from '@shmkit/named-store'

const WORKERS = 2
const REQUESTS = 60
const KEYS = 10
const Answer = t.struct({ square: t.float64, computedBy: t.int32 })
const cacheType = t.map(t.str(), Answer, { maxEntries: 100, ttl: 60_000 })
const statsType = t.map(t.str(), t.uint32)

if (cluster.isPrimary) {
  const name = `shmkit-example-cache-${process.pid}`
  const seg = ManagedSharedMemory.create(name, 4 << 20)
  seg.construct('cache', cacheType)
  seg.construct('stats', statsType)
  let failed = false
  const fail = (why: string): void => {
    failed = true
    console.error(why)
  }
  try {
    cluster.setupPrimary({ execArgv: process.execArgv, args: [name] })
    const ports = await Promise.all(
      Array.from({ length: WORKERS }, () => {
        const worker = cluster.fork()
        return new Promise<number>((resolve, reject) => {
          worker.on('message', (m: { port?: number }) => m.port !== undefined && resolve(m.port))
          worker.on('exit', (code) => reject(new Error(`worker exited early (${code})`)))
        })
      }),
    )
    const get = (port: number, path: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, timeout: 10_000 }, (res) => {
          let body = ''
          res.on('data', (d: Buffer) => (body += d.toString()))
          res.on('end', () => resolve(body))
        })
        req.on('timeout', () => req.destroy(new Error('request timed out')))
        req.on('error', reject)
        req.end()
      })
    for (let i = 0; i < REQUESTS; i++) {
      const n = i % KEYS
      const port = ports[i % WORKERS] as number
      const answer = JSON.parse(await get(port, `/square/${n}`)) as { square: number }
      if (answer.square !== n * n) fail(`/square/${n} answered ${answer.square}`)
    }
    const stats = seg.find('stats', statsType)
    const computed = stats?.get('computed') ?? 0
    const hits = stats?.get('hits') ?? 0
    console.log(`${REQUESTS} requests over ${WORKERS} workers: ${computed} computed, ${hits} served from the shared cache`)
    if (computed !== KEYS) fail(`expected each of the ${KEYS} keys computed once by some worker, got ${computed}`)
    if (hits !== REQUESTS - KEYS) fail(`expected ${REQUESTS - KEYS} cache hits, got ${hits}`)
  } finally {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill()
    seg.close()
    ManagedSharedMemory.remove(name)
  }
  process.exit(failed ? 1 : 0)
} else {
  const seg = ManagedSharedMemory.open(process.argv[2] ?? '')
  const cache = seg.find('cache', cacheType)
  const stats = seg.find('stats', statsType)
  if (cache === undefined || stats === undefined) throw new Error('worker: the primary made no cache')
  const server = createServer((req, res) => {
    const n = Number(/^\/square\/(\d+)$/.exec(req.url ?? '')?.[1] ?? NaN)
    if (!Number.isInteger(n)) {
      res.writeHead(404).end()
      return
    }
    // getOrSet is atomic across processes: one worker computes, the others read its answer.
    let computed = false
    const answer = cache.getOrSet(`square:${n}`, () => {
      computed = true
      return { square: n * n, computedBy: process.pid }
    })
    stats.update(computed ? 'computed' : 'hits', (c) => (c ?? 0) + 1)
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer))
  })
  server.listen(0, '127.0.0.1', () => {
    const address = server.address()
    process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0 })
  })
  process.on('SIGTERM', () => {
    server.close()
    seg.close()
    process.exit(0)
  })
}
