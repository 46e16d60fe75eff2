import { SegmentHeader } from './header.js'

/**
 * The two generation words of the seqlock every lock-free reader validates
 * against (read/read-protocol.ts). A writer makes them odd, under the lock,
 * before its first write, and even again after its last (after the journal
 * is committed), so an even, unchanged generation around a read means no
 * writer touched what it covers:
 * - INDEX: the name table and the records it points at (construct, destroy);
 * - ALLOCATOR: the allocator's metadata, moved by every mutation.
 * Two words rather than one because raw allocate/deallocate, the hottest
 * mutations, change nothing a find reads: with one word each of them would
 * throw away every handle's find cache.
 */
export const INDEX_GENERATION = SegmentHeader.GENERATION >> 2
export const ALLOCATOR_GENERATION = SegmentHeader.ALLOCATOR_GENERATION >> 2

/** What a reader reads: which generations must stay put around it. */
export const ReadScope = {
  INDEX: 1,
  ALLOCATOR: 2,
  BOTH: 3,
} as const
export type ReadScope = (typeof ReadScope)[keyof typeof ReadScope]

/**
 * A writer starts: the generations it covers go odd. Call holding the lock.
 * Stores rather than adds (only the lock holder writes these words): a word
 * found odd here can only be corrupt, and stays odd instead of turning even
 * mid-write; leaveWrite then makes it even, so writers heal it.
 */
export function enterWrite(i32: Int32Array, index: boolean): void {
  Atomics.store(i32, ALLOCATOR_GENERATION, Atomics.load(i32, ALLOCATOR_GENERATION) | 1)
  if (index) Atomics.store(i32, INDEX_GENERATION, Atomics.load(i32, INDEX_GENERATION) | 1)
}

/** The writer is done (journal committed or rolled back): even again, and new. */
export function leaveWrite(i32: Int32Array, index: boolean): void {
  if (index) Atomics.store(i32, INDEX_GENERATION, (Atomics.load(i32, INDEX_GENERATION) | 1) + 1)
  Atomics.store(i32, ALLOCATOR_GENERATION, (Atomics.load(i32, ALLOCATOR_GENERATION) | 1) + 1)
}

/**
 * After a dead writer's work was rolled back: both words move strictly
 * forward to an even value, so a reader that began before the crash never
 * sees its starting generation again.
 */
export function settleAfterRecovery(i32: Int32Array): void {
  for (const word of [INDEX_GENERATION, ALLOCATOR_GENERATION]) {
    const generation = Atomics.load(i32, word)
    Atomics.store(i32, word, (generation | 1) + 1)
  }
}
