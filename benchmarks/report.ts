// Runs every benchmark of the workspace, one after the other, and writes the
// report: a table on stdout, docs/bench/results.json, docs/bench/results.md
// (the table for the README) and the charts docs/bench/chart.svg (IPC
// throughput) and docs/bench/boost.svg (shmkit vs Boost, when measured).
//
//   pnpm bench                                     (builds, then runs this)
//   SHMKIT_BENCH_QUICK=1 npx tsx benchmarks/report.ts   (short runs, for a smoke test)
//   SHMKIT_BENCH_ONLY=ipc npx tsx benchmarks/report.ts  (a comma-separated subset)
//
// Each benchmark runs as a child process printing one JSON line per workload
// on stdout and its progress on stderr (passed through here).
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, platform, release, totalmem } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { renderBarChart } from './lib/chart.js'
import {
  boostChart,
  ipcChart,
  parseResultLine,
  renderMarkdownTable,
  renderTextTable,
  targetMet,
  type BenchOutcome,
  type ResultRow,
} from './lib/report-model.js'

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = resolve(here, '..')
const outDir = process.env.SHMKIT_BENCH_OUT ?? join(repoRoot, 'docs', 'bench')
const quick = process.env.SHMKIT_BENCH_QUICK === '1'
/** A benchmark still running after this long has hung: it is killed and reported. */
const timeLimitSeconds = Number(process.env.SHMKIT_BENCH_TIME_LIMIT ?? (quick ? 600 : 1800))
const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js'

const benches = [
  { name: 'allocator', file: `allocator${extension}` },
  { name: 'named-store', file: `named-store${extension}` },
  { name: 'ipc', file: `ipc${extension}` },
  { name: 'sync', file: `sync${extension}` },
  { name: 'growth', file: `growth${extension}` },
  { name: 'messaging', file: `messaging${extension}` },
  { name: 'containers', file: `containers${extension}` },
].filter((b) => process.env.SHMKIT_BENCH_ONLY === undefined || process.env.SHMKIT_BENCH_ONLY.split(',').includes(b.name))

function note(text: string): void {
  process.stderr.write(`${text}\n`)
}

function runBench(name: string, file: string, index: number): Promise<BenchOutcome> {
  const path = join(here, file)
  const header = `[${index + 1}/${benches.length}] ${name}`
  if (!existsSync(path)) {
    note(`${header}: ${relative(repoRoot, path)} not present, skipped`)
    return Promise.resolve({ name, file, status: 'missing', seconds: 0, rows: [] })
  }
  note(`${header}: running ${relative(repoRoot, path)} (at most ${timeLimitSeconds} s)`)
  const started = performance.now()
  // Same runtime as this process: tsx's loader travels in execArgv.
  const child = spawn(process.execPath, [...process.execArgv, path], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: repoRoot,
    env: process.env,
  })
  const rows: ResultRow[] = []
  createInterface({ input: child.stdout }).on('line', (line) => {
    const row = parseResultLine(name, line)
    if (row === undefined) process.stderr.write(`  ${name}: ${line}\n`)
    else rows.push(row)
  })
  // A heartbeat for benchmarks that print no progress of their own.
  const heartbeat = setInterval(
    () => note(`${header}: still running, ${Math.round((performance.now() - started) / 1000)} s, ${rows.length} results so far`),
    30_000,
  )
  let timedOut = false
  const limit = setTimeout(() => {
    timedOut = true
    child.kill('SIGTERM')
    setTimeout(() => child.kill('SIGKILL'), 5000).unref()
  }, timeLimitSeconds * 1000)
  return new Promise((resolveOutcome) => {
    const finish = (status: BenchOutcome['status'], why?: string): void => {
      clearInterval(heartbeat)
      clearTimeout(limit)
      const seconds = (performance.now() - started) / 1000
      note(`${header}: ${status}, ${rows.length} results in ${seconds.toFixed(1)} s${why === undefined ? '' : ` (${why})`}`)
      resolveOutcome({ name, file, status, seconds, rows, ...(why === undefined ? {} : { note: why }) })
    }
    child.once('error', (e) => finish('failed', e.message))
    child.once('close', (code, signal) => {
      if (timedOut) finish('timed out', `killed after ${timeLimitSeconds} s`)
      else if (code === 0) finish('ok')
      else finish('failed', `exit ${signal ?? code}`)
    })
  })
}

// Figures from a busy machine are noisy: the report says how busy it was.
const loadBefore = loadavg()[0] ?? 0
const outcomes: BenchOutcome[] = []
for (const [index, bench] of benches.entries()) outcomes.push(await runBench(bench.name, bench.file, index))

const rows = outcomes.flatMap((o) => o.rows)
const cpu = cpus()
const loadAfter = loadavg()[0] ?? 0
const machine =
  `${cpu.length} x ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${platform()} ${release()}, Node ${process.version}` +
  (platform() === 'win32' ? '' : `, load average ${loadBefore.toFixed(1)} before and ${loadAfter.toFixed(1)} after`)
const generatedAt = new Date().toISOString()

mkdirSync(outDir, { recursive: true })
writeFileSync(
  join(outDir, 'results.json'),
  JSON.stringify(
    {
      generated_at: generatedAt,
      quick,
      machine,
      benches: outcomes.map(({ name, status, seconds, note: why, rows: r }) => ({
        name,
        status,
        seconds,
        ...(why === undefined ? {} : { note: why }),
        rows: r,
      })),
    },
    null,
    2,
  ) + '\n',
)

const charts: { file: string; alt: string }[] = []
const subtitle = `${generatedAt.slice(0, 10)}, ${cpu.length} CPUs, Node ${process.version}`
const ipc = ipcChart(rows, subtitle)
if (ipc !== undefined) {
  writeFileSync(join(outDir, 'chart.svg'), renderBarChart(ipc))
  charts.push({ file: 'chart.svg', alt: 'Parent to child throughput: shmkit, Unix socket, child_process IPC, in-process copy' })
}
const boost = boostChart(rows, subtitle)
if (boost !== undefined) {
  writeFileSync(join(outDir, 'boost.svg'), renderBarChart(boost))
  charts.push({ file: 'boost.svg', alt: 'shmkit vs Boost.Interprocess, ns per operation' })
}

const skipped = outcomes.filter((o) => o.status !== 'ok')
const fromReadme = relative(repoRoot, outDir).split('\\').join('/')
const markdown = [
  `<!-- Generated by \`pnpm bench\` (benchmarks/report.ts) on ${generatedAt}${quick ? ', quick mode' : ''}; paths are relative to the repository root, for the README. -->`,
  '',
  `Measured on ${machine}.${quick ? ' Quick mode: short runs, noisy figures.' : ''}`,
  '',
  renderMarkdownTable(rows).trimEnd(),
  '',
  ...skipped.map((o) => `- ${o.name}: ${o.status}${o.note === undefined ? '' : ` (${o.note})`}`),
  ...(skipped.length > 0 ? [''] : []),
  ...charts.map((c) => `![${c.alt}](${fromReadme}/${c.file})`),
  '',
].join('\n')
writeFileSync(join(outDir, 'results.md'), markdown)

process.stdout.write(`\nshmkit benchmarks — ${machine}\n\n`)
process.stdout.write(renderTextTable(rows))
const missed = rows.filter((r) => targetMet(r) === false)
process.stdout.write(`\n${rows.filter((r) => targetMet(r) !== undefined).length - missed.length} targets met, ${missed.length} missed`)
process.stdout.write(skipped.length === 0 ? '\n' : `; not run or failed: ${skipped.map((o) => `${o.name} (${o.status})`).join(', ')}\n`)
process.stdout.write(
  `wrote ${['results.json', 'results.md', ...charts.map((c) => c.file)].map((f) => relative(process.cwd(), join(outDir, f))).join(', ')}\n`,
)
if (outcomes.some((o) => o.status === 'failed' || o.status === 'timed out')) process.exitCode = 1
