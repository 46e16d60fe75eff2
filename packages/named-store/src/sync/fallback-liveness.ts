import { randomInt } from 'node:crypto'
import { isProcessAlive } from '@shmkit/ffi-shm'
import type { SegmentMemory } from '../types/memory.js'
import type { OwnerLiveness, OwnerState } from '../segment/owner.js'

/**
 * Owners by pid, for memory shared between processes that has no liveness of
 * its own (the segment manager gives managed segments theirs). The pid is the
 * token (Linux pids stay under 2^22); threads of one process share it and are
 * told apart by the lock's owner-thread word. A recycled pid reads as alive
 * (a wait, never a wrongful takeover); a pid from another pid namespace may
 * read as dead: use a managed segment, whose liveness does not rely on pids.
 */
const pidLiveness: OwnerLiveness = {
  token: process.pid,
  stateOf(token: number): OwnerState {
    if (token === process.pid) return 'alive'
    return isProcessAlive(token) ? 'alive' : 'dead'
  },
  isHeldHere: () => false,
}

/** Threads sharing a SharedArrayBuffer (or one thread's heap buffer): a token per thread, never declared dead. */
const threadLiveness: OwnerLiveness = {
  token: randomInt(1, 2 ** 24),
  stateOf: (): OwnerState => 'unknown',
  isHeldHere: () => false,
}

/** The liveness the sync primitives use on `mem`: its own, or one by how the memory is shared. */
export function livenessOf(mem: SegmentMemory): OwnerLiveness {
  if (mem.liveness !== undefined) return mem.liveness
  return mem.words?.kind === 'futex' ? pidLiveness : threadLiveness
}
