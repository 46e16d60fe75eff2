import { spawn, spawnSync } from 'node:child_process'
import { fixture, type ChildResult } from './segments.js'

/**
 * Why a private mount namespace with a small tmpfs cannot be had here
 * (not root, no unshare, a kernel that refuses), or undefined when it can.
 */
export function smallTmpfsUnavailable(): string | undefined {
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs /dev/shm'], {
    encoding: 'utf8',
  })
  if (probe.error !== undefined) return `unshare cannot run: ${probe.error.message}`
  if (probe.status !== 0) return `cannot mount a tmpfs in a private mount namespace: ${probe.stderr.trim()}`
  return undefined
}

/**
 * Runs a TypeScript fixture in a private mount namespace whose /dev/shm is a
 * fresh tmpfs of `size` (e.g. '16m'): the machine's /dev/shm is untouched,
 * and whatever the fixture leaves there vanishes with the namespace.
 */
export function runInSmallTmpfs(name: string, size: string, args: string[] = [], timeoutMs = 120_000): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const script = `mount -t tmpfs -o size=${size} tmpfs /dev/shm && exec "$@"`
    const child = spawn(
      'unshare',
      ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', process.execPath, '--import', 'tsx', fixture(name), ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}
