import { readFileSync } from 'node:fs'
import { invalidArgument } from '@shmkit/errors'
import { FUTEX_WAIT, FUTEX_WAKE, posix, SYS_FUTEX } from './bindings/posix.js'
import { ERROR_INVALID_PARAMETER, kernel32, PROCESS_QUERY_LIMITED_INFORMATION, STILL_ACTIVE } from './bindings/windows.js'
import { errnoName } from './errors.js'
import type { MappedRegion } from './mapped-region.js'
import { parse } from './validate.js'
import { waitEngine, type AsyncWaitOptions, type AsyncWaitResult } from './wait-engine/engine.js'
import { z } from 'zod'

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
 * When the process started: on Linux in clock ticks since boot (field 22 of
 * /proc/PID/stat), on Windows as a FILETIME (GetProcessTimes). With the pid,
 * it names a process uniquely even when pids are reused. undefined where it
 * cannot be read or the process is gone: use processStartState to tell the two apart.
 */
export function processStartTime(pid: number): bigint | undefined {
  const state = processStartState(pid)
  return typeof state === 'bigint' ? state : undefined
}

/**
 * A process's start time, or why there is none: 'gone' when the OS says there
 * is no such process, 'unknown' when it exists (or may) but its start time
 * cannot be read — a liveness check must treat 'unknown' as alive.
 */
export function processStartState(pid: number): bigint | 'gone' | 'unknown' {
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid > 0xffffffff) return 'gone'
  if (process.platform === 'win32') return windowsProcessStart(pid)
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const start = fields[19]
    return start === undefined ? 'unknown' : BigInt(start)
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'unknown'
  }
}

const [creation, exited, kernelTime, userTime] = [0, 1, 2, 3].map(() => new BigUint64Array(1)) as [
  BigUint64Array,
  BigUint64Array,
  BigUint64Array,
  BigUint64Array,
]
const exitCode = new Uint32Array(1)

/**
 * OpenProcess + GetProcessTimes. A handle to an exited process can still be
 * opened while someone holds one (its pid is not reused meanwhile): its exit
 * code then says it is gone. ERROR_INVALID_PARAMETER is "no such pid";
 * anything else (access denied: another user's elevated process) is unknown.
 */
function windowsProcessStart(pid: number): bigint | 'gone' | 'unknown' {
  const k = kernel32()
  const handle = k.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
  if (handle === null || handle === 0n) return k.GetLastError() === ERROR_INVALID_PARAMETER ? 'gone' : 'unknown'
  try {
    if (k.GetExitCodeProcess(handle, exitCode) && exitCode[0] !== STILL_ACTIVE) return 'gone'
    if (!k.GetProcessTimes(handle, creation, exited, kernelTime, userTime)) return 'unknown'
    return creation[0] ?? 'unknown'
  } finally {
    k.CloseHandle(handle)
  }
}

/** Async waits accept at most this long a timeout (the same bound as futexWait's). */
export const MAX_WAIT_TIMEOUT_MS = MAX_TIMEOUT_MS

const asyncWaitOptionsSchema = z
  .object({
    timeoutMs: z.number().min(0).max(MAX_TIMEOUT_MS).optional(),
    signal: z.instanceof(AbortSignal).optional(),
  })
  .strict()

/** Validates the options every async wait takes (EINVAL naming each bad field). */
export function parseAsyncWaitOptions(options: unknown): AsyncWaitOptions {
  return parse(asyncWaitOptionsSchema, options) as AsyncWaitOptions
}

/**
 * Waits while the 32-bit word at `byteOffset` equals `expected`, like
 * futexWait, without blocking the event loop or libuv's thread pool: the
 * wait engine's own thread sleeps in the kernel (futex_waitv) and the promise
 * resolves 'woken' on a futexWake of the word, or at once if it no longer
 * holds `expected`; 'timeout' after `timeoutMs`; rejects with EABORTED when
 * `signal` aborts. Like any futex wait it may also resolve 'woken' spuriously:
 * look at the word again.
 */
export function futexWaitAsync(
  region: MappedRegion,
  byteOffset: number,
  expected: number,
  options: AsyncWaitOptions = {},
): Promise<AsyncWaitResult> {
  const address = wordAddress(region, byteOffset)
  if (futexNumber === undefined) throw invalidArgument('platform', process.platform, 'Linux (futex); check futexSupported first')
  if (!Number.isInteger(expected) || expected < -(2 ** 31) || expected >= 2 ** 32) {
    throw invalidArgument('expected', expected, 'a 32-bit integer (-2147483648 to 4294967295)')
  }
  // Polling (past the engine's threads) reads through region.buffer, which throws ECLOSED once the region is closed.
  return waitEngine().waitAsync(address, expected, parseAsyncWaitOptions(options), () =>
    Atomics.load(new Int32Array(region.buffer, byteOffset, 1), 0),
  )
}
