import { randomBytes } from 'node:crypto'
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rmSync } from 'node:fs'
import { ManagedMappedFile, ManagedSharedMemory } from '@shmkit/named-store'

type Teardown = { teardown(fn: () => void | Promise<void>): void }

/** A name no other run or test uses. */
export function uniqueName(prefix = 'shmkit-test'): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`
}

/** A segment name removed when the test ends, whatever happens. */
export function segmentName(t: Teardown, prefix?: string): string {
  const name = uniqueName(prefix)
  t.teardown(() => {
    ManagedSharedMemory.remove(name)
  })
  return name
}

/** A temp file path removed when the test ends. */
export function tempPath(t: Teardown, prefix = 'shmkit-test'): string {
  const path = join(tmpdir(), `${uniqueName(prefix)}.seg`)
  t.teardown(() => {
    ManagedMappedFile.remove(path)
    rmSync(path, { force: true })
  })
  return path
}

export const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))
/** A fixture as tsc compiled it (`pnpm test` builds first): worker threads do not get tsx's loader. */
export const compiledFixture = (name: string): string => fileURLToPath(new URL(`../../dist/test/fixtures/${name}`, import.meta.url))

export interface ChildResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs a TypeScript fixture in a fresh Node process (through tsx). */
export function runFixture(name: string, args: string[], options: { timeoutMs?: number } = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

/** A fixture child still running: `ready` once its stdout said "held" or "started". */
export interface RunningFixture {
  child: ChildProcess
  ready: Promise<void>
  out: () => string
  closed: Promise<unknown>
}

/**
 * Starts a TypeScript fixture (through tsx) and returns while it runs (runFixture waits for its end).
 * With `t`, the child is killed in teardown, resumed first in case a test stopped it.
 */
export function startFixture(name: string, args: string[], t?: Teardown): RunningFixture {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture(name), ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  const ready = new Promise<void>((resolve) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (/held|started/.test(out)) resolve()
    })
  })
  const closed = new Promise((resolve) => child.on('close', resolve))
  t?.teardown(() => {
    child.kill('SIGCONT')
    child.kill('SIGKILL')
  })
  return { child, ready, out: () => out, closed }
}
