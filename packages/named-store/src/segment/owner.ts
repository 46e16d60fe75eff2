import { threadId } from 'node:worker_threads'

// A stand-in with the interface helper H2 (issue #10) fixed; H2's file replaces it.

/** What a lock waiter may conclude about an owner token. */
export type OwnerState = 'alive' | 'dead' | 'unknown'

/**
 * Who holds what in a segment: every handle has a token, and anyone can ask
 * whether the handle behind a token still lives. Process-shared mutexes in a
 * segment store tokens, never pids.
 */
export interface OwnerLiveness {
  /** This handle's owner id: nonzero, < 2**24, unique among the live handles of the segment. */
  readonly token: number
  /** Never 'dead' for a live holder; 'unknown' is never treated as dead. */
  stateOf(token: number): OwnerState
  /** True when `token` belongs to a handle opened by this very thread (a wait on it would self-deadlock). */
  isHeldHere(token: number): boolean
}

/** Tokens fit 24 bits, so a lock word can carry one with bits to spare. */
export const MAX_OWNER_TOKEN = 2 ** 24 - 1

export function isOwnerToken(token: number): boolean {
  return Number.isInteger(token) && token > 0 && token <= MAX_OWNER_TOKEN
}

/** This thread's number (threadId + 1, never 0), as stored in a lock's owner-thread word. */
export const thisThread = threadId + 1
