import { existsSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ShmError } from '@shmkit/errors'
import { probeSegment, type Probe } from './probe-segment.js'
import { summarize, type LockState } from './segment-summary.js'

/** One shmkit segment as `ls` shows it. */
export type ListedSegment =
  | {
      name: string
      status: 'ok'
      size: number
      used: number
      free: number
      numNamedObjects: number
      lock: LockState
      version: number
    }
  | { name: string; status: 'other-version'; size: number; version: number; problem: string }
  | { name: string; status: 'corrupt'; size: number; problem: string }
  | { name: string; status: 'initializing'; size: number; problem: string }

/** Where POSIX shared memory objects are visible as files on this platform. */
export function shmDirectory(): string {
  // ffi-shm emulates POSIX objects on Windows with files in this folder, as Boost does.
  return process.platform === 'win32' ? join(tmpdir(), 'shmkit-shm') : '/dev/shm'
}

/**
 * Every shmkit segment among the POSIX shared memory objects. Other programs'
 * objects, and objects this user cannot open, are skipped without a word:
 * they are none of our business. Segments of another layout version and
 * corrupt ones are listed, since that is exactly what a user wants to find.
 */
export function scanSharedMemory(directory = shmDirectory(), timeoutMs = 100): ListedSegment[] {
  if (!existsSync(directory)) {
    throw new ShmError('ENOTSUP', `cannot list shared memory objects here: ${directory} does not exist on ${process.platform}`)
  }
  const names = readdirSync(directory, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort()
  const listed: ListedSegment[] = []
  for (const name of names) {
    const row = listOne(name, timeoutMs)
    if (row !== undefined) listed.push(row)
  }
  return listed
}

function listOne(name: string, timeoutMs: number): ListedSegment | undefined {
  let probe: Probe
  try {
    probe = probeSegment({ kind: 'posix', name }, timeoutMs)
  } catch (e) {
    // Gone since readdir, not ours to read, or a name shm_open refuses.
    if (e instanceof ShmError) return undefined
    throw e
  }
  switch (probe.status) {
    case 'foreign':
      return undefined
    case 'other-version':
      return { name, status: 'other-version', size: probe.size, version: probe.version, problem: probe.problem }
    case 'corrupt':
    case 'initializing':
      return { name, status: probe.status, size: probe.size, problem: probe.problem }
    case 'ok': {
      const segment = probe.segment
      try {
        const s = summarize(segment)
        return {
          name,
          status: 'ok',
          size: s.size,
          used: s.used,
          free: s.free,
          numNamedObjects: s.numNamedObjects,
          lock: s.lock,
          version: s.version,
        }
      } catch (e) {
        if (e instanceof ShmError) return { name, status: 'corrupt', size: probe.size, problem: e.message }
        throw e
      } finally {
        segment.close()
      }
    }
  }
}
