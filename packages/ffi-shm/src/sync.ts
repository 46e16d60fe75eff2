import { readFileSync } from 'node:fs'
import { invalidArgument } from '@shmkit/errors'
import { FUTEX_WAIT, FUTEX_WAKE, posix, SYS_FUTEX } from './bindings/posix.js'
import { errnoName } from './errors.js'
import type { MappedRegion } from './mapped-region.js'

const futexNumber = process.platform === 'linux' ? SYS_FUTEX[process.arch] : undefined

/** Whether futexWait/futexWake work here (Linux); elsewhere callers spin and sleep. */
export const futexSupported = futexNumber !== undefined

function wordAddress(region: MappedRegion, byteOffset: number): bigint {
  if (!Number.isSafeInteger(byteOffset) || byteOffset < 0 || byteOffset + 4 > region.size || (byteOffset & 3) !== 0) {
    throw invalidArgument('byteOffset', byteOffset, `a multiple of 4 from 0 to ${region.size - 4}`)
  }
  return region.address + BigInt(byteOffset)
}

const timespec = new BigInt64Array(2)
/** One year: long enough for any wait, short enough to never overflow a timespec. */
const MAX_TIMEOUT_MS = 365 * 24 * 3600 * 1000

/**
 * Sleeps while the 32-bit word at `byteOffset` equals `expected`, at most
 * `timeoutMs`, across processes (a non-private futex: Atomics.wait refuses
 * memory that is not a SharedArrayBuffer).
 */
export function futexWait(region: MappedRegion, byteOffset: number, expected: number, timeoutMs: number): 'woken' | 'timeout' | 'mismatch' {
  const address = wordAddress(region, byteOffset)
  if (futexNumber === undefined) throw invalidArgument('platform', process.platform, 'Linux (futex); check futexSupported first')
  // The word is compared as 32 bits: accept either reading of it (Int32Array or Uint32Array).
  if (!Number.isInteger(expected) || expected < -(2 ** 31) || expected >= 2 ** 32) {
    throw invalidArgument('expected', expected, 'a 32-bit integer (-2147483648 to 4294967295)')
  }
  // Bounded so the seconds fit a timespec; a caller wanting longer waits again.
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0) || timeoutMs > MAX_TIMEOUT_MS) {
    throw invalidArgument('timeoutMs', timeoutMs, `a number of milliseconds from 0 to ${MAX_TIMEOUT_MS}`)
  }
  const ns = BigInt(Math.round(timeoutMs * 1e6))
  timespec[0] = ns / 1_000_000_000n
  timespec[1] = ns % 1_000_000_000n
  const p = posix()
  if (p.syscall6(futexNumber, address, FUTEX_WAIT, expected | 0, timespec, null, 0) === 0) return 'woken'
  const code = errnoName(p.errno())
  if (code === 'ETIMEDOUT') return 'timeout'
  if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return 'mismatch'
  return 'woken' // EINTR: let the caller look at the word again
}

/** Wakes up to `count` waiters on the word; returns how many woke. */
export function futexWake(region: MappedRegion, byteOffset: number, count: number): number {
  const address = wordAddress(region, byteOffset)
  if (!Number.isInteger(count) || count < 0 || count > 2 ** 31 - 1) throw invalidArgument('count', count, 'an integer from 0 to 2147483647')
  // FUTEX_WAKE with 0 still wakes one waiter; Atomics.notify(…, 0) wakes none.
  if (futexNumber === undefined || count === 0) return 0
  return Math.max(0, posix().syscall6(futexNumber, address, FUTEX_WAKE, count, null, null, 0))
}

/** This process's id, as the lock word records it. */
export function currentPid(): number {
  return process.pid
}

/** kill(pid, 0): alive unless the OS says there is no such process (EPERM means alive). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * When the process started, in clock ticks since boot (field 22 of
 * /proc/PID/stat): with the pid, it names a process uniquely even when pids
 * are reused. undefined where /proc is missing or the process is gone.
 */
export function processStartTime(pid: number): bigint | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const start = fields[19]
    return start === undefined ? undefined : BigInt(start)
  } catch {
    return undefined
  }
}
