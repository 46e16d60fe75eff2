import { randomInt } from 'node:crypto'
import { SegmentHeader } from './header.js'
import { FileLockLiveness } from './owner-file-lock.js'
import { LocalLiveness } from './owner-local.js'
import { PidLiveness } from './owner-pid.js'
import { sharedBufferOwnerFile } from './owner-thread-file.js'
import type { OwnerClaim } from './owner.js'

const LOCK = SegmentHeader.LOCK_WORD >> 2
const OWNER_START = SegmentHeader.LOCK_OWNER_START >> 2
const OWNER_THREAD = SegmentHeader.LOCK_OWNER_THREAD >> 2
const NEXT = SegmentHeader.OWNER_TOKEN_NEXT >> 2
/** Writable handles draw tokens below HALF from the segment's counter, read-only handles above it at random. */
const HALF = 2 ** 23

/** What a segment offers to tell its owners apart. */
export interface OwnerSource {
  /** A descriptor of the segment's own file (POSIX shm, mapped file, memfd): the file-lock method. */
  fd?: number
  /** The buffer (a SharedArrayBuffer: this process's threads share it). */
  buffer: ArrayBuffer | SharedArrayBuffer
  /**
   * True only for memory no other thread or process can reach (a heap
   * segment, an external plain ArrayBuffer). A mapping is an ArrayBuffer too,
   * but others map the same pages: never local.
   */
  threadLocal: boolean
  readOnly: boolean
  target: string
}

/**
 * Claims an owner token for a new handle, by the best method the segment
 * allows: the kernel's file locks on the segment's file (or, for a
 * SharedArrayBuffer, on a memfd of this process), this thread's own registry
 * where no other thread can reach the memory, else pids (see owner-pid.ts
 * for what that cannot see: XSI segments, Windows).
 *
 * Writable handles take tokens from a counter in the header, so a token comes
 * back only after 2^23 opens; the counter skips the token a dead owner may
 * have left in the lock word. Read-only handles never write the segment (their
 * mapping is private): they draw from the upper half at random.
 */
export function claimOwner(source: OwnerSource, i32: Int32Array): { claim: OwnerClaim; startTag: number } {
  const candidates = source.readOnly
    ? (): number => HALF + randomInt(HALF - 1)
    : (): number => ((Atomics.add(i32, NEXT, 1) >>> 0) % (HALF - 1)) + 1
  const stale = (token: number): boolean => Atomics.load(i32, LOCK) >>> 0 === token
  if (source.fd === undefined && source.threadLocal && source.buffer instanceof ArrayBuffer) {
    return { claim: LocalLiveness.claim(source.buffer, candidates, source.target), startTag: 0 }
  }
  // A SharedArrayBuffer's owners are this process's threads: they lock a memfd of the process.
  const fd = source.fd ?? (source.buffer instanceof SharedArrayBuffer ? sharedBufferOwnerFile(i32) : undefined)
  if (fd !== undefined) {
    const claim = FileLockLiveness.claim(fd, candidates, stale, source.target)
    if (claim !== undefined) return { claim, startTag: 0 }
  }
  const pid = new PidLiveness({
    ownerStartOf: (token) => {
      if (Atomics.load(i32, LOCK) >>> 0 !== token) return 0
      const start = i32[OWNER_START] ?? 0
      return Atomics.load(i32, LOCK) >>> 0 === token ? start : 0
    },
    ownerThread: () => i32[OWNER_THREAD] ?? 0,
  })
  return { claim: pid, startTag: pid.startTag }
}
