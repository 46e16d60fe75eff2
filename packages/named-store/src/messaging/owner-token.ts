import { currentPid, isProcessAlive } from '@shmkit/ffi-shm'

/**
 * Who owns a claimed slot, lock or subscriber entry, and whether that owner
 * still lives. PRIVATE STAND-IN until helper H2's `OwnerLiveness`
 * (segment/owner.ts) lands on main: the token is the pid, so a recycled pid
 * reads as alive (never as dead: the safe direction) and a peer in another pid
 * namespace reads as dead (the unsafe one). "unknown" is never "dead".
 */
export interface OwnerProbe {
  /** A non-zero 31-bit number naming this owner. */
  readonly token: number
  stateOf(token: number): 'alive' | 'dead' | 'unknown'
}

let probe: OwnerProbe | undefined

/** This process's token and liveness checks. */
export function ownerProbe(): OwnerProbe {
  if (probe !== undefined) return probe
  const pid = currentPid()
  probe = {
    token: pid,
    stateOf: (token) => (token === pid || isProcessAlive(token) ? 'alive' : token > 0 ? 'dead' : 'unknown'),
  }
  return probe
}
