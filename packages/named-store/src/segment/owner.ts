import { threadId } from 'node:worker_threads'

/** What a lock waiter may conclude about an owner token. */
export type OwnerState = 'alive' | 'dead' | 'unknown'

/**
 * Who holds what in a segment: every handle has a token, and anyone can ask
 * whether the handle behind a token still lives. The segment lock (and every
 * process-shared mutex in a segment) stores tokens, never pids.
 */
export interface OwnerLiveness {
  /** This handle's owner id: nonzero, < 2**24, unique among the live handles of the segment. */
  readonly token: number
  /** Never 'dead' for a live holder; 'unknown' is never treated as dead. */
  stateOf(token: number): OwnerState
  /** True when `token` belongs to a handle opened by this very thread (a wait on it would self-deadlock). */
  isHeldHere(token: number): boolean
}

/** An owner token the handle gives back when it closes. */
export interface OwnerClaim extends OwnerLiveness {
  /** How owners are told apart, for messages and tools: 'file-lock', 'thread', 'pid'. */
  readonly method: string
  /** Gives the token up: from now on it reads as dead (unless claimed again). */
  release(): void
}

/** Tokens fit 24 bits, so a lock word can carry one with bits to spare. */
export const MAX_OWNER_TOKEN = 2 ** 24 - 1

export function isOwnerToken(token: number): boolean {
  return Number.isInteger(token) && token > 0 && token <= MAX_OWNER_TOKEN
}

/** This thread's number (threadId + 1, never 0), as stored in a lock's owner-thread word. */
export const thisThread = threadId + 1

/**
 * The tokens of handles open in this thread, by segment. Module state is per
 * thread (every worker loads its own copy), so this is exactly "opened by
 * this very thread". Keys identify the segment: a file's device and inode,
 * or the buffer object itself.
 */
const openHere = new Map<unknown, Set<number>>()

export function registerHere(segment: unknown, token: number): void {
  let tokens = openHere.get(segment)
  if (tokens === undefined) {
    tokens = new Set()
    openHere.set(segment, tokens)
  }
  tokens.add(token)
}

export function unregisterHere(segment: unknown, token: number): void {
  const tokens = openHere.get(segment)
  if (tokens === undefined) return
  tokens.delete(token)
  if (tokens.size === 0) openHere.delete(segment)
}

export function openedHere(segment: unknown, token: number): boolean {
  return openHere.get(segment)?.has(token) ?? false
}
