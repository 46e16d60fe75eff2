// Shared by the Windows tests (node:test, run under Wine by `pnpm test:windows`).
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** A name no other run or test uses. */
export function uniqueName(prefix = 'shmkit-win'): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`
}

/** A compiled fixture next to this file (the Windows tests run the `tsc -b` output). */
export const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

export interface ChildResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs a script in another Windows Node process; killed after `timeoutMs`. */
export function runNode(script: string, args: string[], timeoutMs = 900_000): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill(), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/**
 * A full garbage collection. On Windows a closed MappedRegion's view stays
 * mapped until its ArrayBuffer is collected (stale TypedArrays must not
 * fault): tests that need the view gone call this.
 */
export async function collectGarbage(): Promise<void> {
  const { setFlagsFromString } = await import('node:v8')
  const { runInNewContext } = await import('node:vm')
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/**
 * Removes a file that a mapping may still hold. Windows refuses to delete a
 * mapped file (EPERM) until every view of it is gone: ours go when the
 * collector frees their ArrayBuffers, a just-exited child's when Wine's server
 * has finished tearing the process down. Both take a moment, so this collects
 * and retries for a few seconds before it gives up and throws the last error.
 */
export async function removeMappedFile(path: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await collectGarbage()
    try {
      rmSync(path, { force: true })
      return
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if ((code !== 'EPERM' && code !== 'EBUSY') || attempt === 20) throw e
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
}
