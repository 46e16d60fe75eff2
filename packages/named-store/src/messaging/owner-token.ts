import { randomInt } from 'node:crypto'
import type { SharedMemoryObject } from '@shmkit/ffi-shm'
import { currentPid, isProcessAlive } from '@shmkit/ffi-shm'
import { FileLockLiveness } from '../segment/owner-file-lock.js'

/**
 * Who owns a claimed slot, lock or subscriber entry of a queue or channel,
 * and whether that owner still lives. "unknown" is never "dead".
 */
export interface OwnerProbe {
  /** A non-zero 31-bit number naming this owner. */
  readonly token: number
  stateOf(token: number): 'alive' | 'dead' | 'unknown'
}

/** A handle's owner token, given back when the handle closes. */
export interface MappingOwner extends OwnerProbe {
  /** 'file-lock' (the kernel's record) or 'pid' (the fallback). */
  readonly method: string
  release(): void
}

/** Queue and channel tokens are drawn at random below this (file-lock tokens must stay under 2^24). */
const TOKEN_SPACE = 2 ** 23

/**
 * Claims the owner token of one queue or channel handle by the segment
 * manager's method (segment/owner-file-lock.ts): a shared OFD lock on byte
 * 2^40 + token of the object's own file, which the kernel drops when the
 * handle's description closes, however the process ends and in whatever pid
 * namespace it runs. A waiter asks the kernel whether the byte is still held:
 * no pid, no /proc. Tokens are random (the object has no counter word), and a
 * candidate `inUse` says is still written somewhere (a dead owner's token in
 * the lock word, say) is skipped, so a new handle never revives a dead
 * owner's claims.
 *
 * Where the object has no descriptor (Windows) or its file system has no OFD
 * locks, the token is the pid: a recycled pid reads as alive (a wait, never a
 * wrongful takeover), but a peer in another pid namespace may read as dead.
 */
export function claimMappingOwner(shm: SharedMemoryObject, inUse: (token: number) => boolean, target: string): MappingOwner {
  const fd = shm.descriptor
  if (fd !== undefined) {
    const claim = FileLockLiveness.claim(fd, () => randomInt(1, TOKEN_SPACE), inUse, target)
    if (claim !== undefined) return claim
  }
  return pidOwner()
}

/** The pid fallback: this process's pid, alive while `kill(pid, 0)` finds it. */
export function pidOwner(): MappingOwner {
  const pid = currentPid()
  return {
    method: 'pid',
    token: pid,
    stateOf: (token) => (token === pid || isProcessAlive(token) ? 'alive' : token > 0 ? 'dead' : 'unknown'),
    release: () => {},
  }
}
