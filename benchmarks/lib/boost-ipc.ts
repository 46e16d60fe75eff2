import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { Budget, Measurement } from './ipc-plan.js'

const run = promisify(execFile)
const source = fileURLToPath(new URL('./boost-ipc.cpp', import.meta.url).href.replace(/\/dist\/lib\//, '/lib/'))
const binary = join(process.env.TMPDIR ?? tmpdir(), 'shmkit-boost', 'boost_ipc')

export const BOOST_TRANSPORT = 'Boost.Interprocess (C++)'

let built: Promise<string | undefined> | undefined

/**
 * Compiles the C++ peer once (again only when its source is newer); undefined,
 * with the reason on stderr, where Boost's headers, g++ or Linux are missing.
 */
export function buildBoostIpc(): Promise<string | undefined> {
  built ??= (async () => {
    if (process.env.SHMKIT_BENCH_BOOST === '0') return undefined
    if (process.platform !== 'linux') return skip('the C++ peer sleeps on a Linux futex')
    if (!existsSync('/usr/include/boost/interprocess')) return skip('Boost headers missing — apt-get install -y libboost1.81-dev')
    if (!existsSync(source)) return skip(`${source} not found`)
    if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return binary
    mkdirSync(join(binary, '..'), { recursive: true })
    process.stderr.write('  compiling the Boost.Interprocess peer (g++ -O2)...\n')
    try {
      await run('g++', ['-O2', '-DNDEBUG', '-std=c++17', source, '-o', binary, '-lrt', '-pthread'], { timeout: 300_000 })
    } catch (e) {
      return skip(`g++ failed: ${(e as Error).message.split('\n')[0]}`)
    }
    return binary
  })()
  return built
}

function skip(why: string): undefined {
  process.stderr.write(`  (Boost.Interprocess IPC figures skipped: ${why})\n`)
  return undefined
}

/** Runs the C++ peer for one payload size; undefined when it cannot be built. */
export async function measureBoostIpc(payloadBytes: number, budget: Budget): Promise<Measurement | undefined> {
  const program = await buildBoostIpc()
  if (program === undefined) return undefined
  const { stdout } = await run(program, [String(payloadBytes), String(budget.targetSeconds), String(budget.warmupRounds)], {
    timeout: budget.deadlineSeconds * 1000,
    killSignal: 'SIGKILL',
  })
  const line = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
    rounds?: unknown
    seconds?: unknown
    ns_per_op?: unknown
    mb_per_s?: unknown
  }
  if (
    typeof line.rounds !== 'number' ||
    typeof line.seconds !== 'number' ||
    typeof line.ns_per_op !== 'number' ||
    typeof line.mb_per_s !== 'number'
  ) {
    throw new Error(`boost_ipc printed no result: ${stdout}`)
  }
  return {
    transport: BOOST_TRANSPORT,
    payloadBytes,
    rounds: line.rounds,
    seconds: line.seconds,
    nsPerOp: line.ns_per_op,
    mbPerS: line.mb_per_s,
  }
}
