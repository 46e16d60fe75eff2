import { randomBytes } from 'node:crypto'
import { spawn, type StdioOptions } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { SharedMemoryObject } from '@shmkit/ffi-shm'

type Teardown = { teardown(fn: () => void): void }

export function uniqueName(prefix = 'shmkit-ffi-test'): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`
}

/** A shared memory name removed when the test ends, whatever happens. */
export function shmName(t: Teardown): string {
  const name = uniqueName()
  t.teardown(() => {
    SharedMemoryObject.remove(name)
  })
  return name
}

export interface Result {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs a command to completion, collecting its output. */
export function run(command: string, args: string[], options: { stdio?: StdioOptions; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

/** Runs a TypeScript fixture of this package in a fresh Node process. */
export function runFixture(name: string, args: string[], options: { stdio?: StdioOptions } = {}): Promise<Result> {
  const file = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))
  return run(process.execPath, ['--import', 'tsx', file, ...args], options)
}
