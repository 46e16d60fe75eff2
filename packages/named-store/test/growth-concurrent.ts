// Online growth under load, and SIGKILLs during growth. SHMKIT_SOAK_SECONDS
// lengthens the first test (default: a few seconds of growth), SHMKIT_GROW_KILLS
// sets the number of kills of the second (default 20).
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ManagedMappedFile, ManagedSharedMemory, t as types } from '@shmkit/named-store'
import { segmentName, tempPath } from './helpers/segments.js'

const MiB = 2 ** 20
const SOAK_SECONDS = Number(process.env.SHMKIT_SOAK_SECONDS ?? 0)
const KILLS = Number(process.env.SHMKIT_GROW_KILLS ?? 20)
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The compiled fixture (`pnpm test` builds first) starts faster than one through tsx. */
function fixtureArgs(name: string): string[] {
  const compiled = fileURLToPath(new URL(`../dist/test/fixtures/${name}.js`, import.meta.url))
  const source = fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url))
  return existsSync(compiled) && !import.meta.url.endsWith('.js') ? [compiled] : ['--import', 'tsx', source]
}

interface Child {
  process: ChildProcess
  out: () => string
  err: () => string
  exited: Promise<{ code: number | null; signal: string | null }>
  ready: Promise<boolean>
}

function start(fixture: string, args: string[]): Child {
  const child = spawn(process.execPath, [...fixtureArgs(fixture), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  const ready = Promise.race([
    new Promise<boolean>((resolve) => {
      const check = (): void => (out.includes('ready\n') ? resolve(true) : void setTimeout(check, 1))
      check()
    }),
    exited.then(() => false),
  ])
  return { process: child, out: () => out, err: () => err, exited, ready }
}

for (const kind of ['shm', 'file'] as const) {
  t.test(
    `online growth while 4 other processes construct, find and allocate (${kind === 'shm' ? 'ManagedSharedMemory' : 'ManagedMappedFile'})`,
    { timeout: 300_000 + SOAK_SECONDS * 2000 },
    async (t) => {
      const name = kind === 'shm' ? segmentName(t) : tempPath(t)
      const steps = Math.max(60, SOAK_SECONDS * 20)
      const step = 256 * 1024
      const seg =
        kind === 'shm'
          ? ManagedSharedMemory.create(name, MiB, { maxSize: MiB + steps * step })
          : ManagedMappedFile.create(name, MiB, { maxSize: MiB + steps * step })
      t.teardown(() => seg.close())
      const stop = seg.construct('stop', types.uint32, 0)
      const workers = [0, 1, 2, 3].map((id) => start('growth-worker', [name, String(id), kind]))
      t.teardown(() => {
        for (const w of workers) w.process.kill('SIGKILL')
      })
      for (const w of workers) t.ok(await w.ready, `worker ready ${w.err()}`)
      for (let i = 0; i < steps; i++) {
        seg.grow(step)
        await sleep(SOAK_SECONDS > 0 ? 50 : 20)
      }
      const finalSize = seg.size
      t.equal(finalSize, MiB + steps * step)
      await sleep(100)
      stop.value = 1
      let constructed = 0
      for (const w of workers) {
        const end = await w.exited
        t.equal(end.code, 0, w.err())
        const report = JSON.parse(w.out().split('\n')[1] ?? '{}') as {
          id: number
          constructed: number
          enomem: number
          errors: string[]
          size: number
          largestSize: number
        }
        t.same(report.errors, [], `worker ${report.id}: no wrong answer`)
        t.equal(report.size, finalSize, `worker ${report.id} sees the final size`)
        t.ok(report.largestSize > MiB, `worker ${report.id} worked past the first size (${report.largestSize})`)
        t.comment(`worker ${report.id}: ${report.constructed} constructed, ${report.enomem} ENOMEM while full`)
        constructed += report.constructed
      }
      t.equal(seg.numNamedObjects, constructed + 1, 'every constructed object is there')
      for (const info of seg.names()) {
        if (info.name === 'stop') continue
        const [worker, i] = info.name.slice(1).split('_').map(Number) as [number, number]
        if (seg.find(info.name, types.int32)?.value !== i * 8 + worker) t.fail(`${info.name} holds a wrong value`)
      }
      t.ok(seg.checkSanity())
    },
  )
}

t.test(
  `${KILLS} SIGKILLs during online and offline growth leave a segment that opens whole`,
  { timeout: Math.max(300_000, KILLS * 5000) },
  async (t) => {
    const name = segmentName(t)
    const seg = ManagedSharedMemory.create(name, MiB, { maxSize: 256 * MiB })
    for (let i = 0; i < 50; i++) seg.construct(`keep${i}`, types.float64, i / 4)
    seg.close()
    let previous = MiB
    let seed = 4242
    for (let kill = 0; kill < KILLS; kill++) {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff
      const mode = kill % 2 === 0 ? 'online' : 'offline'
      const child = start('grow-killable', [name, mode, String(seed)])
      if (!(await child.ready)) t.fail(`child died before it was ready: ${child.err()}`)
      await sleep(5 + (seed % 200))
      child.process.kill('SIGKILL')
      const end = await child.exited
      if (end.signal !== 'SIGKILL') {
        t.fail(`${mode} child ended by itself (${end.code}): ${child.err().slice(-300)}`)
        break
      }
      const after = ManagedSharedMemory.open(name)
      try {
        const report = after.sanityReport() // takes the lock: a dead grower's operation is rolled back first
        if (!report.ok) t.fail(`after kill ${kill} (${mode}): ${report.problems.slice(0, 4).join('; ')}`)
        if (after.size < previous) t.fail(`after kill ${kill}: size went down from ${previous} to ${after.size}`)
        previous = after.size
        for (let i = 0; i < 50; i++) if (after.find(`keep${i}`, types.float64)?.value !== i / 4) t.fail(`after kill ${kill}: keep${i} lost`)
        // (sanityReport also checks that the allocator's range ends at the header's size.) No block past the size:
        const blocks: number[] = []
        for (;;) {
          const offset = (() => {
            try {
              return after.allocate(4096)
            } catch {
              return -1
            }
          })()
          if (offset < 0) break
          blocks.push(offset)
          if (offset + 4096 > after.size) t.fail(`after kill ${kill}: block ${offset} past the size ${after.size}`)
        }
        for (const b of blocks) after.deallocate(b)
      } finally {
        after.close()
      }
    }
    t.ok(previous > MiB, `the segment grew to ${previous} bytes across the kills`)
    const last = ManagedSharedMemory.open(name)
    t.ok(last.checkSanity())
    last.close()
  },
)
