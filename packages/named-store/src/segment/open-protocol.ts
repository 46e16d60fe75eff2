import { ShmError } from '@shmkit/errors'
import { SegmentHeader, SegmentState, validateHeader } from './header.js'

const STATE = SegmentHeader.STATE >> 2
const nap = new Int32Array(new SharedArrayBuffer(4))

/** Sleeps the thread briefly; used only while waiting for another process. */
export function sleepMs(ms: number): void {
  Atomics.wait(nap, 0, 0, ms)
}

/** Polls `ready` until it is true or `timeoutMs` passes; returns whether it became true. */
export function waitUntil(ready: () => boolean, timeoutMs: number): boolean {
  const deadline = performance.now() + timeoutMs
  for (let pause = 0.05; ; pause = Math.min(pause * 2, 5)) {
    if (ready()) return true
    if (performance.now() >= deadline) return false
    sleepMs(pause)
  }
}

/** Claims a zeroed segment for formatting: false if someone else got there first. */
export function claimForFormat(i32: Int32Array): boolean {
  return Atomics.compareExchange(i32, STATE, SegmentState.UNINITIALIZED, SegmentState.INITIALIZING) === SegmentState.UNINITIALIZED
}

export function publishFormatted(i32: Int32Array): void {
  Atomics.store(i32, STATE, SegmentState.INITIALIZED)
}

/**
 * Waits (bounded) for a segment that another process may still be creating,
 * then validates its header. A creator that died half-way leaves the state at
 * "initializing" forever: after the timeout that is ECORRUPT, not a hang.
 */
export function awaitInitialized(i32: Int32Array, u32: Uint32Array, mappedBytes: number, target: string, timeoutMs: number): void {
  const ready = waitUntil(() => Atomics.load(i32, STATE) === SegmentState.INITIALIZED || !isTransient(Atomics.load(i32, STATE)), timeoutMs)
  const state = Atomics.load(i32, STATE)
  if (state === SegmentState.INITIALIZED) {
    validateHeader(u32, mappedBytes, target)
    return
  }
  if (!ready && isTransient(state)) {
    throw new ShmError(
      'ECORRUPT',
      `${target} was never finished: still ${state === SegmentState.INITIALIZING ? 'initializing' : 'uninitialized'} after ${timeoutMs} ms (did its creator die?)`,
      {
        target,
        hint: 'remove it and create it again',
      },
    )
  }
  if (state === SegmentState.CORRUPTED) throw new ShmError('ECORRUPT', `${target} was marked corrupted`, { target })
  throw new ShmError('ECORRUPT', `${target} is not a shmkit segment (state word 0x${(state >>> 0).toString(16)})`, { target })
}

function isTransient(state: number): boolean {
  return state === SegmentState.UNINITIALIZED || state === SegmentState.INITIALIZING
}
