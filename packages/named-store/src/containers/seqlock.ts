import { ShmError } from '@shmkit/errors'
import { sleepMs } from '../segment/open-protocol.js'
import type { SegmentMemory } from '../types/memory.js'
import type { SegmentHeap } from './heap.js'

/**
 * The read protocol every container shares with the named index: each
 * container has a generation word that is odd while a writer changes it.
 * A reader reads it, reads what it returns, and reads it again: equal and
 * even, or it retries. Memory a writer frees is reused only after the
 * generation moved, so a reader that looked at freed bytes fails validation.
 */

/** Lock-free attempts before a reader waits for the writer by taking the lock. */
export const READ_ATTEMPTS = 64
/** How long a handle that cannot lock (read-only) waits out a busy writer. */
const READ_ONLY_DEADLINE_MS = 2000

/**
 * Marks the container whose generation word is at `genOffset` as being
 * written; inside `heap.mutate`. A rollback (the writer threw, or died) moves
 * the generation forward to a fresh even value, never back to one a reader
 * may have started from (journal.ts recordAdvance). Returns false when this operation already
 * holds it odd (a nested write), so only the outermost call ends it.
 */
export function beginWrite(mem: SegmentMemory, heap: SegmentHeap, genOffset: number): boolean {
  const i32 = mem.i32
  const index = genOffset >> 2
  const generation = Atomics.load(i32, index)
  if ((generation & 1) !== 0) {
    if (heap.advances(genOffset)) return false // this operation's own write, nested
    // Odd, and no writer can be inside (we hold the lock): a stale word, as a
    // rollback that skipped its advance entry left it before the journal tagged
    // them. It stays odd for this write and endWrite heals it.
    heap.recordAdvance(genOffset)
    return true
  }
  heap.recordAdvance(genOffset)
  Atomics.store(i32, index, (generation + 1) | 0)
  return true
}

/** Publishes the write `beginWrite` started. */
export function endWrite(mem: SegmentMemory, genOffset: number, began: boolean): void {
  if (began) Atomics.add(mem.i32, genOffset >> 2, 1)
}

/** Runs a mutation of the container at `genOffset` with its generation odd throughout. */
export function writeContainer<R>(mem: SegmentMemory, heap: SegmentHeap, genOffset: number, fn: () => R): R {
  return heap.mutate(() => {
    const began = beginWrite(mem, heap, genOffset)
    const result = fn()
    endWrite(mem, genOffset, began)
    return result
  })
}

/**
 * Returns `read()` as it was at one instant of the container at `genOffset`.
 * `read` must only read, bound every loop, and may throw on bytes a writer
 * was changing (it is retried). After READ_ATTEMPTS, a handle that can lock
 * reads under the lock (no writer can be inside then); a read-only handle
 * keeps trying for 2 s and then answers ETIMEDOUT.
 */
export function readContainer<R>(mem: SegmentMemory, genOffset: number, read: () => R): R {
  // Inside this handle's own operation (update's callback, withLock) no other writer can run.
  if (mem.heap?.holdsLock === true) return read()
  const i32 = mem.i32
  const index = genOffset >> 2
  for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
    const before = Atomics.load(i32, index)
    if ((before & 1) === 0) {
      let result: R
      try {
        result = read()
      } catch (e) {
        if (Atomics.load(i32, index) === before) throw e
        continue
      }
      if (Atomics.load(i32, index) === before) return result
    }
    if (attempt > 8) sleepMs(0.02 * attempt)
  }
  return readSlowly(mem, genOffset, read)
}

/** The bounded fallback of readContainer, also used by readers that inline the fast path. */
export function readSlowly<R>(mem: SegmentMemory, genOffset: number, read: () => R): R {
  const heap = mem.heap
  if (heap?.canLock === true) return heap.locked(read)
  const i32 = mem.i32
  const index = genOffset >> 2
  const deadline = performance.now() + READ_ONLY_DEADLINE_MS
  for (;;) {
    const before = Atomics.load(i32, index)
    if ((before & 1) === 0) {
      try {
        const result = read()
        if (Atomics.load(i32, index) === before) return result
      } catch (e) {
        if (Atomics.load(i32, index) === before) throw e
      }
    }
    if (performance.now() > deadline) {
      throw new ShmError(
        'ETIMEDOUT',
        `${mem.target}: a writer kept a container busy for ${READ_ONLY_DEADLINE_MS} ms; a read-only handle cannot wait it out or recover it`,
        {
          target: mem.target,
          hint: 'open the segment writable once: the next locker recovers from a dead writer',
        },
      )
    }
    sleepMs(0.2)
  }
}

/**
 * Journal entries an operation keeps in reserve before it starts another
 * out-of-line free or allocation: a loop over many such stops when less is
 * left and goes on in a new atomic step (an allocator free or allocation
 * journals a few dozen words; a struct with several strings, some hundreds).
 */
export const JOURNAL_RESERVE = 400
