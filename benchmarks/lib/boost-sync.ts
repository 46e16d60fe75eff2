// Runs one workload of the Boost baseline's sync_bench (mutexes, conditions,
// semaphores, message queues), built by ../shared/bench/boost/build.sh.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { buildBoost, type BoostResult } from './boost.js'

const run = promisify(execFile)

/** `sync_bench WORKLOAD N [SIZE]`: its JSON line, or undefined when Boost is not available. */
export async function runBoostSync(workload: string, n: number, size?: number): Promise<BoostResult | undefined> {
  const out = await buildBoost()
  if (out === undefined) return undefined
  const args = [workload, String(n), ...(size === undefined ? [] : [String(size)])]
  const { stdout } = await run(join(out, 'sync_bench'), args, { maxBuffer: 1 << 20 })
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as BoostResult
}
