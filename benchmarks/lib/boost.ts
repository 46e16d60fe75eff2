// Builds and runs the Boost.Interprocess baseline (../shared/bench/boost) so a
// benchmark can print shmkit/Boost ratios measured in the same run.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Where the Boost harness lives: $SHMKIT_BOOST_DIR, else ../shared/bench/boost beside the repository. */
export function boostDir(): string {
  return process.env.SHMKIT_BOOST_DIR ?? join(repoRoot, '..', 'shared', 'bench', 'boost')
}

export type BoostResult = Record<string, number | string> & { workload: string }

let built: Promise<string | undefined> | undefined

/** Builds the harness once; undefined (with a note on stderr) when Boost's headers or the harness are missing. */
export function buildBoost(): Promise<string | undefined> {
  built ??= (async () => {
    if (process.env.SHMKIT_BENCH_BOOST === '0') {
      process.stderr.write('  (SHMKIT_BENCH_BOOST=0: Boost figures skipped)\n')
      return undefined
    }
    const script = join(boostDir(), 'build.sh')
    if (!existsSync(script)) {
      process.stderr.write(`  (no Boost harness at ${boostDir()}: Boost figures skipped)\n`)
      return undefined
    }
    if (!existsSync('/usr/include/boost/interprocess')) {
      process.stderr.write('  (Boost headers missing — apt-get install -y libboost1.81-dev — Boost figures skipped)\n')
      return undefined
    }
    const { stdout } = await run('bash', [script], { maxBuffer: 1 << 20 })
    return stdout.trim().split('\n').pop()
  })()
  return built
}

/** Runs one Boost workload; its JSON line, or undefined when Boost is not available. */
export async function runBoost(workload: string, n: number): Promise<BoostResult | undefined> {
  const out = await buildBoost()
  if (out === undefined) return undefined
  const { stdout } = await run(join(out, 'boost_bench'), [workload, String(n)], { maxBuffer: 1 << 20 })
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as BoostResult
}
