// The read protocol under fire: writer processes churn the segment as fast as
// they can (construct, destroy, allocate, deallocate, findOrConstruct,
// withLock, anonymous objects) while reader processes read it without the
// lock, from writable and from read-only handles (find, findArray, at, names,
// stats, sanityReport). Every answer is checked; the test counts wrong
// results, spurious errors, false corruption reports and crashes, and wants 0
// of each. SHMKIT_STRESS_SECONDS sets the run time (5 in the suite; `pnpm soak`
// runs 600).
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ManagedSharedMemory } from '@shmkit/named-store'
import { segmentName } from './helpers/segments.js'

const SECONDS = Number(process.env.SHMKIT_STRESS_SECONDS ?? 5)
const compiled = fileURLToPath(new URL('../dist/test/fixtures/read-stress.js', import.meta.url))
const source = fileURLToPath(new URL('./fixtures/read-stress.ts', import.meta.url))
const childArgs = existsSync(compiled) && !import.meta.url.endsWith('.js') ? [compiled] : ['--import', 'tsx', source]

interface Counts {
  role: string
  ops: number
  wrong: number
  spurious: number
  falseCorrupt: number
  finds: number
  found: number
  sanity: number
  names: number
  stats: number
  notes: string[]
}

interface Outcome {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

function run(role: string, name: string, seed: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...childArgs, role, name, String(SECONDS), String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    // A hang is a failure too: the child is killed and reported, not waited on forever.
    const timer = setTimeout(() => child.kill('SIGKILL'), SECONDS * 1000 * 4 + 120_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

t.test(
  `writers against lock-free and read-only readers for ${SECONDS} s: 0 wrong answers, 0 spurious errors, 0 false corruption reports, 0 crashes`,
  { timeout: SECONDS * 1000 * 5 + 240_000 },
  async (t) => {
    const name = segmentName(t)
    const seg = ManagedSharedMemory.create(name, 8 << 20)
    t.teardown(() => seg.close())
    const setup = await run('setup', name, 1)
    t.equal(setup.code, 0, `setup: ${setup.stderr}`)
    const roles = ['writer', 'writer', 'reader', 'readonly', 'readonly']
    const outcomes = await Promise.all(roles.map((role, i) => run(role, name, 1000 + i * 7919)))
    const total = { wrong: 0, spurious: 0, falseCorrupt: 0, crashes: 0 }
    const summary: string[] = []
    for (const [i, outcome] of outcomes.entries()) {
      const role = roles[i] as string
      if (outcome.code !== 0 || outcome.signal !== null) {
        total.crashes++
        t.fail(`${role} ${i} ended with ${outcome.signal ?? `exit code ${outcome.code}`}: ${outcome.stderr.slice(-2000)}`)
        continue
      }
      const counts = JSON.parse(outcome.stdout) as Counts
      total.wrong += counts.wrong
      total.spurious += counts.spurious
      total.falseCorrupt += counts.falseCorrupt
      for (const note of counts.notes) t.comment(`${role} ${i}: ${note}`)
      summary.push(
        `${role} ${i}: ${counts.ops} ops` +
          (role === 'writer'
            ? ''
            : ` (${counts.finds} finds, ${counts.found} churned names found, ${counts.names} names(), ${counts.stats} stats(), ${counts.sanity} sanity checks)`),
      )
      t.ok(counts.ops > 100, `${role} ${i} made progress (${counts.ops} operations)`)
      if (role !== 'writer') t.ok(counts.sanity > 0 && counts.names > 0 && counts.stats > 0, `${role} ${i} ran every kind of read`)
    }
    t.comment(summary.join('\n'))
    t.same(
      total,
      { wrong: 0, spurious: 0, falseCorrupt: 0, crashes: 0 },
      'no wrong results, spurious errors, false corruption reports or crashes',
    )
    const report = seg.sanityReport()
    t.same(report, { ok: true, problems: [] }, 'the segment is sound afterwards')
    if (process.env.SHMKIT_STRESS_SECONDS !== undefined) console.log(JSON.stringify({ seconds: SECONDS, ...total, summary }))
  },
)
