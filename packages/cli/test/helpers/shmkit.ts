import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { MappedRegion, SharedMemoryObject } from '@shmkit/ffi-shm'
import { ManagedSharedMemory } from '@shmkit/named-store'

/** The built CLI, as `pnpm shmkit` and an installed `shmkit` run it. */
export const CLI = fileURLToPath(new URL('../../dist/src/main.js', import.meta.url))

export interface CliRun {
  status: number | null
  stdout: string
  stderr: string
}

export function shmkit(...args: string[]): CliRun {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 })
  if (run.error !== undefined) throw run.error
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

export function shmkitJson<T>(...args: string[]): { status: number | null; json: T; stderr: string } {
  const run = shmkit('--json', ...args)
  let json: T
  try {
    json = JSON.parse(run.stdout) as T
  } catch {
    throw new Error(`shmkit --json ${args.join(' ')} printed no JSON (exit ${run.status}):\n${run.stdout}\n${run.stderr}`)
  }
  return { status: run.status, json, stderr: run.stderr }
}

/** A segment name no other run (or test) uses. */
export function uniqueName(tag: string): string {
  return `shmkit-cli-test-${tag}-${process.pid}-${randomBytes(4).toString('hex')}`
}

/** Removes a POSIX object whatever it holds; quiet when it is already gone. */
export function removeQuietly(name: string): void {
  try {
    ManagedSharedMemory.remove(name)
  } catch {
    // Already removed by the test itself.
  }
}

/** A plain POSIX shared memory object holding `bytes`: someone else's, not a segment. */
export function createForeignObject(name: string, bytes: Uint8Array): void {
  const object = SharedMemoryObject.create(name)
  try {
    object.truncate(bytes.length)
    const region = new MappedRegion(object)
    new Uint8Array(region.buffer).set(bytes)
    region.close()
  } finally {
    object.close()
  }
}

/** Overwrites a 32-bit word of a segment from outside the library, as a stray writer would. */
export function writeWord(name: string, byteOffset: number, value: number): void {
  const object = SharedMemoryObject.open(name)
  try {
    const region = new MappedRegion(object)
    new Uint32Array(region.buffer)[byteOffset >> 2] = value
    region.close()
  } finally {
    object.close()
  }
}
