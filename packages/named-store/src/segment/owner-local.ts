import { ShmError } from '@shmkit/errors'
import { isOwnerToken, openedHere, registerHere, unregisterHere, type OwnerClaim, type OwnerState } from './owner.js'

/**
 * Owners of a segment no other thread can reach (a heap segment, an external
 * plain ArrayBuffer): every live handle is registered in this thread, so a
 * token not registered here is dead — say, one left in a buffer read from a
 * file that some other process was changing.
 */
export class LocalLiveness implements OwnerClaim {
  readonly method = 'thread'
  private open = true

  private constructor(
    private readonly segment: object,
    readonly token: number,
  ) {
    registerHere(segment, token)
  }

  static claim(segment: object, candidates: () => number, target: string): LocalLiveness {
    for (let attempt = 0; attempt < 4096; attempt++) {
      const token = candidates()
      if (isOwnerToken(token) && !openedHere(segment, token)) return new LocalLiveness(segment, token)
    }
    throw new ShmError('EBUSY', `${target}: no free owner token (too many open handles?)`, { target })
  }

  stateOf(token: number): OwnerState {
    return token === this.token && this.open ? 'alive' : openedHere(this.segment, token) ? 'alive' : 'dead'
  }

  isHeldHere(token: number): boolean {
    return openedHere(this.segment, token)
  }

  release(): void {
    if (!this.open) return
    this.open = false
    unregisterHere(this.segment, this.token)
  }
}
