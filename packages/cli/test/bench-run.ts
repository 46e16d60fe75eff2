// A smoke run of `pnpm bench`'s runner over the IPC benchmark with one small
// payload: every transport's reader proves it got every payload (a checksum
// mismatch fails the run), the report files are written, and no segment or
// socket is left behind. Figures are not asserted: a benchmark holds those.
// The C++ peer is left out: compiling it would dominate the test's time.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const shmDir = '/dev/shm'
const listShm = (): string[] => (existsSync(shmDir) ? readdirSync(shmDir).filter((n) => n.startsWith('shmkit-bench-ipc-')) : [])
const listSockets = (): string[] => readdirSync(tmpdir()).filter((n) => /^shmkit-bench-\d+-[0-9a-f]+\.sock$/.test(n))

t.test('the report runs the IPC benchmark and writes its table, JSON and chart', (t) => {
  const out = mkdtempSync(join(tmpdir(), 'shmkit-bench-report-'))
  t.teardown(() => rmSync(out, { recursive: true, force: true }))
  const segmentsBefore = listShm()
  const socketsBefore = listSockets()
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'benchmarks/report.ts'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 240_000,
    env: {
      ...process.env,
      SHMKIT_BENCH_QUICK: '1',
      SHMKIT_BENCH_BOOST: '0',
      SHMKIT_BENCH_ONLY: 'ipc',
      SHMKIT_BENCH_IPC_SIZES: '4096',
      SHMKIT_BENCH_OUT: out,
    },
  })
  t.equal(run.status, 0, run.stderr)
  t.match(run.stderr, /\[1\/1\] ipc: running/, 'progress on stderr')
  t.match(run.stderr, /ipc 4 KiB shmkit: \d+ rounds/)
  t.match(run.stdout, /^bench\s+workload\s+ns\/op\s+MB\/s\s+Boost ns\/op\s+ratio\s+target/m)

  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
    benches: {
      name: string
      status: string
      rows: { transport: string; payload_bytes: number; rounds: number; mb_per_s: number; ratio?: number; target?: number }[]
    }[]
  }
  const ipc = results.benches.find((b) => b.name === 'ipc')
  t.equal(ipc?.status, 'ok')
  t.same(ipc?.rows.map((r) => r.transport).sort(), [
    'child_process IPC',
    'in-process copy',
    'in-process copy+checksum',
    'shmkit',
    'unix socket',
  ])
  for (const row of ipc?.rows ?? []) {
    t.equal(row.payload_bytes, 4096)
    t.ok(row.rounds > 0 && row.mb_per_s > 0, `${row.transport} measured`)
  }
  t.match(
    ipc?.rows.find((r) => r.transport === 'shmkit'),
    { target: 2, ratio: Number },
    'shmkit carries its ratio to the Unix socket and the target',
  )
  t.match(readFileSync(join(out, 'results.md'), 'utf8'), /\| ipc \| ipc_4KiB_shmkit \|/)
  t.match(readFileSync(join(out, 'chart.svg'), 'utf8'), /^<svg [^>]*>[\s\S]*<rect class="bar"[\s\S]*<\/svg>\n?$/)

  t.same(listShm(), segmentsBefore, 'no benchmark segment left in /dev/shm')
  t.same(listSockets(), socketsBefore, 'no socket file left')
  t.end()
})
