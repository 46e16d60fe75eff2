// Thousands of segments with bytes changed at random, anywhere in them, each
// opened through a real mapping in a child process: every operation ends with
// an answer or a ShmError. A fault (SIGSEGV/SIGBUS) kills the child and a hang
// runs into its timeout: both fail the test, as any other exception does.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { uniqueName } from './helpers/segments.js'
import { SharedMemoryObject } from '@shmkit/ffi-shm'

const CASES = Number(process.env.SHMKIT_FUZZ_CASES ?? 3000)
const CHILDREN = 3
const compiled = fileURLToPath(new URL('../dist/test/fixtures/fuzz-child.js', import.meta.url))
const source = fileURLToPath(new URL('./fixtures/fuzz-child.ts', import.meta.url))
const childArgs = existsSync(compiled) && !import.meta.url.endsWith('.js') ? [compiled] : ['--import', 'tsx', source]

interface Outcome {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  hung: boolean
}

function run(prefix: string, first: number, count: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...childArgs, prefix, String(first), String(count)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let hung = false
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    // Generous (a loaded 2-core machine): a case takes milliseconds; only a hang gets near this.
    const timer = setTimeout(() => ((hung = true), child.kill('SIGKILL')), 60_000 + count * 200)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, hung })
    })
  })
}

t.test(
  `${CASES} corrupted segments on real mappings, in child processes: answers or ShmError, no fault, no hang`,
  { timeout: 0 },
  async (t) => {
    const prefix = uniqueName('shmkit-fuzz')
    const per = Math.ceil(CASES / CHILDREN)
    t.teardown(() => {
      for (let i = 0; i < per * CHILDREN; i++) SharedMemoryObject.remove(`${prefix}-${i}`)
    })
    const results = await Promise.all(Array.from({ length: CHILDREN }, (_, c) => run(prefix, c * per, per)))
    const outcomes: Record<string, number> = {}
    for (const [c, r] of results.entries()) {
      t.notOk(r.hung, `child ${c} did not hang`)
      t.equal(r.signal, null, `child ${c} was not killed by a signal`)
      t.equal(r.code, 0, `child ${c} exited cleanly ${r.stderr.slice(-1500)}`)
      if (r.code !== 0) continue
      const out = JSON.parse(r.stdout) as { outcomes: Record<string, number>; foreign: string[] }
      t.same(out.foreign, [], `child ${c}: no exception other than ShmError`)
      for (const [k, n] of Object.entries(out.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + n
    }
    t.ok((outcomes['open: ECORRUPT'] ?? 0) > 0 && (outcomes['checkSanity: ok'] ?? 0) > 0, 'both corrupt and usable segments came up')
    t.comment(`outcomes: ${JSON.stringify(Object.fromEntries(Object.entries(outcomes).sort()))}`)
  },
)
