import type { LockWaiter } from '../segment/lock.js'

/** The longest single kernel sleep: a waiter looks around at least this often. */
export const MAX_SLEEP_MS = 1000

/** Loads of the word before sleeping: a few microseconds, less than a futex round trip. */
const SPINS = 2000
/**
 * Loads the word at `index` up to `spins` times; true as soon as it no
 * longer holds `expected`. What a waiter does before it raises a "waiting"
 * flag: a raised flag costs the peer a futex wake on its next operation, so a
 * waiter that would have been answered within microseconds must not raise it.
 */
export function spinWhileEqual(i32: Int32Array, index: number, expected: number, spins = SPINS): boolean {
  for (let i = 0; i < spins; i++) if (Atomics.load(i32, index) !== expected) return true
  return false
}

/** Milliseconds left before `deadline` (a performance.now() value; Infinity for none). */
export function remainingMs(deadline: number): number {
  return deadline === Infinity ? Infinity : Math.max(0, deadline - performance.now())
}

export function deadlineOf(timeoutMs: number | undefined): number {
  return timeoutMs === undefined ? Infinity : performance.now() + timeoutMs
}

/**
 * Sleeps while the word at `index` (an Int32Array index into the mapping)
 * still holds `expected`: spins briefly first (a peer on the other core often
 * answers within microseconds, and a futex round trip costs more), then
 * sleeps in the kernel, at most `MAX_SLEEP_MS` at a time and never past the
 * deadline. Returns false once the deadline has passed.
 */
export function waitWhileEqual(
  i32: Int32Array,
  index: number,
  expected: number,
  waiter: LockWaiter,
  deadline: number,
  spins = SPINS,
): boolean {
  if (spinWhileEqual(i32, index, expected, spins)) return true
  const left = remainingMs(deadline)
  if (left <= 0) return false
  if (Atomics.load(i32, index) !== expected) return true
  waiter.wait(index, expected, Math.min(left, MAX_SLEEP_MS))
  return true
}
