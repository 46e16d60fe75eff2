// A child runs random container operations (map set/delete/update with
// out-of-line strings, a cache with eviction, vector push/truncate of
// strings) and is SIGKILLed at random instants. After each kill, once the
// lock is recovered, every container must be whole and each operation must
// have happened or not; at the end destroying them must free every byte
// (nothing leaked across all the rollbacks). SHMKIT_KILLS sets the count
// (15 in the suite; `pnpm soak` runs 10,000).
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ManagedSharedMemory, t as types } from '@shmkit/named-store'
import { segmentName } from './helpers/segments.js'

const KILLS = Number(process.env.SHMKIT_KILLS ?? 15)
const Value = types.struct({ n: types.float64, text: types.str() })
const mapType = types.map(types.str(), Value)
const cacheType = types.map(types.int32, types.json(), { maxEntries: 50 })
const vectorType = types.vector(types.str())
const textOf = (n: number): string => `v${n}`.padEnd(4 + (n % 200), '~')
const elementOf = (i: number): string => `e${i}`.padEnd(2 + (i % 60), '#')

const compiled = fileURLToPath(new URL('../dist/test/fixtures/killable-containers.js', import.meta.url))
const source = fileURLToPath(new URL('./fixtures/killable-containers.ts', import.meta.url))
const childArgs = existsSync(compiled) && !import.meta.url.endsWith('.js') ? [compiled] : ['--import', 'tsx', source]

async function runAndKill(name: string, seed: number, delayMs: number): Promise<string[]> {
  const child = spawn(process.execPath, [...childArgs, name, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => {
      const check = (): void => (out.includes('ready\n') ? resolve(true) : void setTimeout(check, 1))
      check()
    }),
    exited.then(() => false),
  ])
  if (!ready) throw new Error(`child died before it was ready: ${err}`)
  await new Promise((resolve) => setTimeout(resolve, delayMs))
  child.kill('SIGKILL')
  const end = await exited
  if (end.signal !== 'SIGKILL') throw new Error(`child ended by itself (${end.code}): ${out.slice(-300)} ${err}`)
  return out.split('\n')
}

t.test(
  `${KILLS} SIGKILLs inside container operations leave every container whole`,
  { timeout: Math.max(300_000, KILLS * 3000) },
  async (t) => {
    const name = segmentName(t)
    const seg = ManagedSharedMemory.create(name, 32 << 20)
    t.teardown(() => seg.close())
    const map = seg.construct('kmap', mapType)
    const cache = seg.construct('kcache', cacheType)
    const vector = seg.construct('kvec', vectorType)
    // A read-only handle cannot take the lock: it reads between even container
    // generations only, so a generation a rollback left odd would stall it (ETIMEDOUT after 2 s).
    const ro = ManagedSharedMemory.open(name, { readOnly: true })
    t.teardown(() => ro.close())
    const roMap = ro.find('kmap', mapType)
    const roCache = ro.find('kcache', cacheType)
    const roVector = ro.find('kvec', vectorType)
    if (roMap === undefined || roCache === undefined || roVector === undefined) throw new Error('containers missing')
    const model = new Map<string, number>()
    let seed = 4242
    let failures = 0
    let cut = 0
    let recoveries = 0
    const fail = (kill: number, what: string): void => {
      failures++
      t.fail(`after kill ${kill}: ${what}`)
    }
    for (let kill = 0; kill < KILLS && failures < 5; kill++) {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff
      const lines = await runAndKill(name, seed, 5 + (seed % 40))
      let pending: string | undefined
      for (const line of lines) {
        if (line === '' || line === 'ready') continue
        if (line.startsWith('BAD')) fail(kill, `the child read a torn value: ${line}`)
        else if (line[0] !== '=') pending = line
        else {
          const op = pending ?? ''
          const [key = '', n] = op.slice(1).split(' ')
          if (op[0] === '+') model.set(key, Number(n))
          else if (op[0] === '-') model.delete(key)
          else if (op[0] === 'u') model.set(key, Number(line.slice(1)))
          pending = undefined
        }
      }
      const before = seg.lockRecoveries
      seg.withLock(() => {})
      recoveries += seg.lockRecoveries - before
      // The cut operation happened or did not: both states are allowed, nothing else.
      if (pending !== undefined) {
        cut++
        const [key = '', n] = pending.slice(1).split(' ')
        if ('+-u'.includes(pending[0] ?? '')) {
          const old = model.get(key)
          const now = map.get(key)?.n
          const allowed =
            pending[0] === '+' ? [old, Number(n)] : pending[0] === '-' ? [old, undefined] : [old, old === undefined ? now : old + 1]
          if (!allowed.includes(now)) fail(kill, `${pending} cut: ${key} is ${now}, expected one of ${allowed.join(', ')}`)
          if (now === undefined) model.delete(key)
          else model.set(key, now)
        } else if (pending[0] === 'p') {
          const length = Number(pending.slice(1))
          if (vector.length !== length && vector.length !== length + 2)
            fail(kill, `push of 2 at length ${length} cut: length is ${vector.length}`)
        }
      }
      const report = seg.sanityReport()
      if (!report.ok) fail(kill, report.problems.slice(0, 5).join('; '))
      const entries = map.entries()
      if (entries.length !== map.size) fail(kill, `map size ${map.size} but ${entries.length} entries`)
      for (const [key, value] of entries) {
        if (value.text !== textOf(value.n ?? -1)) fail(kill, `${key} holds a torn value ${JSON.stringify(value).slice(0, 80)}`)
        if (model.get(key) !== value.n) fail(kill, `${key} is ${value.n}, the operations say ${model.get(key)}`)
      }
      for (const key of model.keys()) if (!map.has(key)) fail(kill, `${key} was set before the kill but is gone`)
      const cached = cache.entries()
      if (cached.length > 50 || cached.length !== cache.size) fail(kill, `cache holds ${cached.length} entries, size says ${cache.size}`)
      for (const [, v] of cached) {
        const j = v as { n: number; text: string }
        if (j.text !== textOf(j.n)) fail(kill, `cache value torn: ${JSON.stringify(v).slice(0, 80)}`)
      }
      const elements = vector.toArray()
      const broken = elements.findIndex((e, i) => e !== elementOf(i))
      if (broken >= 0) fail(kill, `vector element ${broken} is ${JSON.stringify(elements[broken])}`)
      try {
        if (roMap.size !== map.size || roCache.size !== cache.size || roVector.length !== vector.length)
          fail(kill, 'the read-only handle reads other sizes than the writable one')
      } catch (e) {
        fail(kill, `the read-only handle cannot read the containers: ${(e as Error).message}`)
      }
    }
    t.equal(failures, 0, 'every kill left the containers whole, each cut operation done or undone')
    for (const n of ['kmap', 'kcache', 'kvec']) seg.destroy(n)
    t.ok(seg.allMemoryDeallocated(), 'after all the rollbacks, destroying the containers frees every byte: nothing leaked')
    t.ok(seg.checkSanity())
    t.comment(`kills: ${KILLS}, lock recoveries: ${recoveries}, operations cut: ${cut}, map entries at the end: ${model.size}`)
  },
)
