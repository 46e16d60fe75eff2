import { closeSync } from 'node:fs'
import { ShmError } from '@shmkit/errors'
import { byteLockedElsewhere, fileIdentity, lockByteShared, reopenPrivately, unlockByte } from '@shmkit/ffi-shm'
import { isOwnerToken, openedHere, registerHere, unregisterHere, type OwnerClaim, type OwnerState } from './owner.js'

/** Token t is held as a lock on byte OWNER_LOCK_BASE + t: far past any data (segments stop at 4 GiB). */
export const OWNER_LOCK_BASE = 2 ** 40
/** Claims that lose a race (or meet a live holder of the candidate) try the next candidate, this many times. */
const MAX_CLAIM_ATTEMPTS = 4096

/**
 * Owner liveness from the kernel's own record: a handle owns token t while
 * its open file description holds a shared OFD lock on byte
 * OWNER_LOCK_BASE + t of the segment's file. The kernel drops the lock when
 * the description's last descriptor closes — on close(), on exit, on SIGKILL,
 * in any pid namespace, and (the description being opened through
 * fs.openSync) when a worker thread is terminated. A waiter asks F_OFD_GETLK:
 * held is alive, free is dead, a failed query is unknown. No pid, no /proc of
 * the owner, no clock.
 */
export class FileLockLiveness implements OwnerClaim {
  readonly method = 'file-lock'
  private open = true

  private constructor(
    private readonly fd: number,
    private readonly ownsFd: boolean,
    private readonly segment: string,
    readonly token: number,
  ) {
    registerHere(segment, token)
  }

  /**
   * Claims a token for a new handle of the file behind `fd`: the first
   * candidate no other description holds. `candidates` yields tokens to try;
   * `avoid` skips one that must not be reused now (say, a dead owner's token
   * still in the lock word). undefined when the kernel or file system has no
   * OFD locks: the caller falls back to another method.
   */
  static claim(fd: number, candidates: () => number, avoid: (token: number) => boolean, target: string): FileLockLiveness | undefined {
    // A description of our own: one inherited from a parent (a memfd passed
    // to a child) would share the parent's locks, and one opened through
    // fs.openSync is closed when a terminated worker's thread goes away.
    const own = reopenPrivately(fd)
    const lockFd = own ?? fd
    const giveUp = (): undefined => {
      if (own !== undefined) closeSync(own)
      return undefined
    }
    let segment: string
    try {
      segment = fileIdentity(fd)
    } catch {
      return giveUp()
    }
    for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
      const token = candidates()
      if (!isOwnerToken(token) || avoid(token) || openedHere(segment, token)) continue
      const at = OWNER_LOCK_BASE + token
      const got = lockByteShared(lockFd, at)
      if (got === 'unsupported') return giveUp()
      if (got === 'busy') continue
      // Shared locks do not exclude one another: the token is ours only if no
      // other description holds it too. Of two racing claimers, each locks
      // before it looks, so at most one sees the other absent.
      const elsewhere = byteLockedElsewhere(lockFd, at)
      if (elsewhere === false) return new FileLockLiveness(lockFd, own !== undefined, segment, token)
      unlockByte(lockFd, at)
      if (elsewhere === undefined) return giveUp()
    }
    if (own !== undefined) closeSync(own)
    throw new ShmError('EBUSY', `${target}: no free owner token after ${MAX_CLAIM_ATTEMPTS} tries (too many open handles?)`, { target })
  }

  stateOf(token: number): OwnerState {
    // No description can hold a lock outside the token range: such a word was never an owner.
    if (!isOwnerToken(token)) return 'dead'
    if (!this.open) return 'unknown'
    // Our own description never conflicts with itself, so F_OFD_GETLK cannot see our token.
    if (token === this.token) return 'alive'
    const held = byteLockedElsewhere(this.fd, OWNER_LOCK_BASE + token)
    return held === true ? 'alive' : held === false ? 'dead' : 'unknown'
  }

  isHeldHere(token: number): boolean {
    return openedHere(this.segment, token)
  }

  release(): void {
    if (!this.open) return
    this.open = false
    unregisterHere(this.segment, this.token)
    if (this.ownsFd) closeSync(this.fd)
    else unlockByte(this.fd, OWNER_LOCK_BASE + this.token)
  }
}
