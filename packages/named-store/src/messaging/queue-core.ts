import { ShmError } from '@shmkit/errors'
import type { LockWaiter } from '../segment/lock.js'
import type { OwnerProbe } from './owner-token.js'
import {
  QUEUE_MAGIC,
  QUEUE_VERSION,
  QueueState,
  QueueWord,
  queueGeometry,
  SLOT_HEADER_BYTES,
  SlotState,
  SlotWord,
  type QueueGeometry,
} from './queue-layout.js'
import { WordLock, type LockOutcome } from './word-lock.js'

/** How long setting up a queue in a segment waits for its lock. */
const FORMAT_TIMEOUT_MS = 30_000

/** What one attempt at an operation found. */
export const enum Attempt {
  DONE,
  /** Full (send) or empty (receive): wait for the other side's sequence word to move. */
  WOULD_BLOCK,
  /** The lock stayed busy until the deadline (or, for a try, was busy). */
  LOCK_BUSY,
}

/**
 * The message queue's algorithms over its bytes, shared by every way of
 * holding one (its own shared memory object, or an object in a segment).
 *
 * Every operation runs under the queue's lock and is bounded: a send copies
 * its payload into a free slot, then marks the slot PUBLISHED (the commit
 * point), then inserts it into the sorted index; a receive copies the payload
 * out, marks the slot FREE (the commit point), then pops it. A process killed
 * anywhere in between leaves the slots' own states true, and the next locker,
 * told that the owner died, rebuilds the index and the free stack from them:
 * no slot is lost, a committed message is delivered once, an uncommitted one
 * was never sent.
 */
export class QueueCore {
  readonly maxMessages: number
  readonly maxMessageSize: number
  private readonly w: number
  private readonly indexWord: number
  private readonly freeWord: number
  private readonly slotsByte: number
  private readonly stride: number
  private readonly lock: WordLock
  /** Index order is rebuilt from slots when a dead owner is found: counted here for tests and stats. */
  recoveries = 0

  constructor(
    readonly i32: Int32Array,
    readonly u32: Uint32Array,
    readonly u8: Uint8Array,
    /** Byte offset of the queue in the mapping (a multiple of 8). */
    readonly base: number,
    readonly waiter: LockWaiter,
    owner: OwnerProbe,
    readonly target: string,
    /**
     * A queue in a segment: the limits its type fixes. Its bytes start zeroed
     * (constructing an object zeroes it), and the first handle formats it.
     */
    expected?: QueueGeometry,
  ) {
    this.w = base >> 2
    if (expected !== undefined && base + expected.totalBytes > u8.byteLength) {
      throw new ShmError('ECORRUPT', `${target} runs past the end of its segment`, { target })
    }
    const g = expected ?? QueueCore.validate(u32, base, u8.byteLength, target)
    this.maxMessages = g.maxMessages
    this.maxMessageSize = g.maxMessageSize
    this.indexWord = (base + g.indexOffset) >> 2
    this.freeWord = (base + g.freeOffset) >> 2
    this.slotsByte = base + g.slotsOffset
    this.stride = g.slotStride
    this.lock = new WordLock(i32, this.w + QueueWord.LOCK, this.w + QueueWord.LOCK_WAITERS, waiter, owner)
    if (expected === undefined) return
    if (Atomics.load(i32, this.w + QueueWord.MAGIC) !== QUEUE_MAGIC) this.formatZeroed(expected)
    // Whoever formatted it, it must be the queue the type describes.
    const found = QueueCore.validate(u32, base, u8.byteLength, target)
    if (found.maxMessages !== expected.maxMessages || found.maxMessageSize !== expected.maxMessageSize) {
      throw new ShmError(
        'ECORRUPT',
        `${target} holds ${found.maxMessages} messages of ${found.maxMessageSize} bytes, its type says ${expected.maxMessages} of ${expected.maxMessageSize}`,
        { target },
      )
    }
  }

  /**
   * The first use of a zeroed queue in a segment, under its lock: all-zero
   * slots are all FREE, so the recovery rebuild (the slots are the truth)
   * makes it a valid empty queue; the header words follow, the magic last.
   * A process killed half-way is a dead lock owner like any other: the next
   * one takes the lock over and formats again.
   */
  private formatZeroed(g: QueueGeometry): void {
    const i32 = this.i32
    const w = this.w
    const outcome = this.lock.acquire(performance.now() + FORMAT_TIMEOUT_MS)
    if (outcome === 'timeout') {
      throw new ShmError('ETIMEDOUT', `${this.target}: its lock stayed busy for ${FORMAT_TIMEOUT_MS} ms while it was being set up`, {
        target: this.target,
      })
    }
    try {
      const magic = Atomics.load(i32, w + QueueWord.MAGIC)
      if (magic === QUEUE_MAGIC) {
        // Someone else formatted it first; if we took the lock from a dead sender or receiver, recover as take() does.
        if (outcome === 'recovered') this.rebuild()
        return
      }
      if (magic !== 0)
        throw new ShmError('ECORRUPT', `${this.target} is not a shmkit message queue (magic 0x${(magic >>> 0).toString(16)})`, {
          target: this.target,
        })
      this.rebuild(false)
      i32[w + QueueWord.VERSION] = QUEUE_VERSION
      i32[w + QueueWord.MAX_MESSAGES] = g.maxMessages
      i32[w + QueueWord.MAX_MESSAGE_SIZE] = g.maxMessageSize
      i32[w + QueueWord.SLOT_STRIDE] = g.slotStride
      i32[w + QueueWord.TOTAL_BYTES] = g.totalBytes
      Atomics.store(i32, w + QueueWord.STATE, QueueState.READY)
      Atomics.store(i32, w + QueueWord.MAGIC, QUEUE_MAGIC)
    } finally {
      this.lock.release()
    }
  }

  /** Writes an empty queue at `base`; the STATE word is set to READY last. */
  static format(i32: Int32Array, base: number, g: QueueGeometry): void {
    const w = base >> 2
    i32.fill(0, w, w + (g.slotsOffset >> 2))
    for (let s = 0; s < g.maxMessages; s++) i32[(base + g.slotsOffset + s * g.slotStride) >> 2] = SlotState.FREE
    i32[w + QueueWord.MAGIC] = QUEUE_MAGIC
    i32[w + QueueWord.VERSION] = QUEUE_VERSION
    i32[w + QueueWord.MAX_MESSAGES] = g.maxMessages
    i32[w + QueueWord.MAX_MESSAGE_SIZE] = g.maxMessageSize
    i32[w + QueueWord.SLOT_STRIDE] = g.slotStride
    i32[w + QueueWord.TOTAL_BYTES] = g.totalBytes
    const free = (base + g.freeOffset) >> 2
    // Slot 0 on top of the stack: the first message goes to the first slot.
    for (let s = 0; s < g.maxMessages; s++) i32[free + s] = g.maxMessages - 1 - s
    i32[w + QueueWord.FREE_TOP] = g.maxMessages
    Atomics.store(i32, w + QueueWord.STATE, QueueState.READY)
  }

  /** Checks a queue header before anything trusts it: ECORRUPT or EVERSION otherwise. */
  static validate(u32: Uint32Array, base: number, mappedBytes: number, target: string): QueueGeometry {
    const w = base >> 2
    const word = (k: number): number => u32[w + k] ?? 0
    if (word(QueueWord.MAGIC) !== QUEUE_MAGIC)
      throw new ShmError('ECORRUPT', `${target} is not a shmkit message queue (magic 0x${word(QueueWord.MAGIC).toString(16)})`, { target })
    if (word(QueueWord.VERSION) !== QUEUE_VERSION) {
      throw new ShmError(
        'EVERSION',
        `${target} has message queue layout version ${word(QueueWord.VERSION)}; this shmkit reads version ${QUEUE_VERSION}`,
        { target },
      )
    }
    let g: QueueGeometry
    try {
      g = queueGeometry(word(QueueWord.MAX_MESSAGES), word(QueueWord.MAX_MESSAGE_SIZE))
    } catch {
      throw new ShmError(
        'ECORRUPT',
        `${target} has impossible limits (${word(QueueWord.MAX_MESSAGES)} messages of ${word(QueueWord.MAX_MESSAGE_SIZE)} bytes)`,
        { target },
      )
    }
    if (word(QueueWord.SLOT_STRIDE) !== g.slotStride || word(QueueWord.TOTAL_BYTES) !== g.totalBytes || base + g.totalBytes > mappedBytes) {
      throw new ShmError('ECORRUPT', `${target} is inconsistent: ${g.totalBytes} bytes of queue, ${mappedBytes - base} mapped`, { target })
    }
    return g
  }

  /** Messages in the queue now (a snapshot). */
  get count(): number {
    return Atomics.load(this.i32, this.w + QueueWord.COUNT)
  }

  /** The sequence word a blocked sender (`'send'`) or receiver (`'receive'`) sleeps on, as an Int32Array index. */
  seqIndex(side: 'send' | 'receive'): number {
    return this.w + (side === 'send' ? QueueWord.RECV_SEQ : QueueWord.SEND_SEQ)
  }

  waitersIndex(side: 'send' | 'receive'): number {
    return this.w + (side === 'send' ? QueueWord.SENDERS_WAITING : QueueWord.RECEIVERS_WAITING)
  }

  lockIndex(): number {
    return this.w + QueueWord.LOCK
  }

  /**
   * One send attempt: takes the lock (waiting until `lockDeadline`, or not at
   * all when `tryOnly`), stores the message if there is room. On WOULD_BLOCK,
   * `this.observedSeq` holds the receive sequence seen under the lock and, with
   * `register`, the "senders asleep" flag is raised: the caller may then sleep
   * on `seqIndex('send')` while that value holds. The next receive clears the
   * flag and wakes every sleeper once (not once per message), so a waiter that
   * timed out or died costs at most one spurious wake.
   */
  trySendOnce(data: Uint8Array, priority: number, lockDeadline: number, tryOnly: boolean, register: boolean): Attempt {
    if (!this.take(lockDeadline, tryOnly)) return Attempt.LOCK_BUSY
    const i32 = this.i32
    const w = this.w
    let sleepers = 0
    try {
      const count = i32[w + QueueWord.COUNT] as number
      if (count >= this.maxMessages) {
        this.observedSeq = i32[w + QueueWord.RECV_SEQ] as number
        if (register) i32[w + QueueWord.SENDERS_WAITING] = 1
        return Attempt.WOULD_BLOCK
      }
      const top = (i32[w + QueueWord.FREE_TOP] as number) - 1
      const slot = this.checkedSlot(i32[this.freeWord + top])
      const at = this.slotsByte + slot * this.stride
      const sw = at >> 2
      const size = data.byteLength
      const u8 = this.u8
      if (size <= 32) for (let i = 0; i < size; i++) u8[at + SLOT_HEADER_BYTES + i] = data[i] as number
      else u8.set(data, at + SLOT_HEADER_BYTES)
      const stamp = i32[w + QueueWord.NEXT_STAMP] as number
      this.u32[sw + SlotWord.PRIORITY] = priority
      i32[sw + SlotWord.SIZE] = size
      i32[sw + SlotWord.STAMP] = stamp
      // Commit point: from here the message exists, whatever happens next.
      Atomics.store(i32, sw + SlotWord.STATE, SlotState.PUBLISHED)
      i32[w + QueueWord.FREE_TOP] = top
      i32[w + QueueWord.NEXT_STAMP] = (stamp + 1) | 0
      this.insert(slot, priority, count)
      Atomics.store(i32, w + QueueWord.COUNT, count + 1)
      Atomics.add(i32, w + QueueWord.SEND_SEQ, 1)
      sleepers = i32[w + QueueWord.RECEIVERS_WAITING] as number
      if (sleepers !== 0) i32[w + QueueWord.RECEIVERS_WAITING] = 0
    } finally {
      this.lock.release()
    }
    if (sleepers !== 0) this.waiter.wake(w + QueueWord.SEND_SEQ, 2 ** 31 - 1)
    return Attempt.DONE
  }

  /**
   * One receive attempt. On DONE, `lastSize` and `lastPriority` describe the
   * message copied into `into` (or, with `into` undefined, into a new array
   * left in `lastData`). EMSGSIZE, leaving the message queued, if `into` is
   * too small for it.
   */
  tryReceiveOnce(into: Uint8Array | undefined, lockDeadline: number, tryOnly: boolean, register: boolean): Attempt {
    if (!this.take(lockDeadline, tryOnly)) return Attempt.LOCK_BUSY
    const i32 = this.i32
    const w = this.w
    let sleepers = 0
    try {
      const count = i32[w + QueueWord.COUNT] as number
      if (count <= 0) {
        this.observedSeq = i32[w + QueueWord.SEND_SEQ] as number
        if (register) i32[w + QueueWord.RECEIVERS_WAITING] = 1
        return Attempt.WOULD_BLOCK
      }
      const slot = this.checkedSlot(i32[this.indexWord + this.ringPosition(count - 1)])
      const at = this.slotsByte + slot * this.stride
      const sw = at >> 2
      const size = i32[sw + SlotWord.SIZE] as number
      if (!(size >= 0 && size <= this.maxMessageSize) || i32[sw + SlotWord.STATE] !== SlotState.PUBLISHED) {
        throw new ShmError('ECORRUPT', `${this.target}: slot ${slot} in the index holds no valid message`, { target: this.target })
      }
      let out = into
      if (out === undefined) out = new Uint8Array(size)
      else if (out.byteLength < size) {
        throw new ShmError('EMSGSIZE', `the next message on ${this.target} has ${size} bytes; the receive buffer holds ${out.byteLength}`, {
          target: this.target,
          details: { size, bufferBytes: out.byteLength },
        })
      }
      const u8 = this.u8
      const from = at + SLOT_HEADER_BYTES
      if (size <= 32) for (let i = 0; i < size; i++) out[i] = u8[from + i] as number
      else out.set(u8.subarray(from, from + size))
      this.lastData = out
      this.lastSize = size
      this.lastPriority = this.u32[sw + SlotWord.PRIORITY] as number
      // Commit point: the message is taken.
      Atomics.store(i32, sw + SlotWord.STATE, SlotState.FREE)
      Atomics.store(i32, w + QueueWord.COUNT, count - 1)
      const top = i32[w + QueueWord.FREE_TOP] as number
      i32[this.freeWord + top] = slot
      i32[w + QueueWord.FREE_TOP] = top + 1
      Atomics.add(i32, w + QueueWord.RECV_SEQ, 1)
      sleepers = i32[w + QueueWord.SENDERS_WAITING] as number
      if (sleepers !== 0) i32[w + QueueWord.SENDERS_WAITING] = 0
    } finally {
      this.lock.release()
    }
    if (sleepers !== 0) this.waiter.wake(w + QueueWord.RECV_SEQ, 2 ** 31 - 1)
    return Attempt.DONE
  }

  /** Set by a WOULD_BLOCK attempt: the sequence value to sleep on. */
  observedSeq = 0
  lastData: Uint8Array | undefined
  lastSize = 0
  lastPriority = 0

  private take(deadline: number, tryOnly: boolean): boolean {
    const outcome: LockOutcome | 'busy' = tryOnly ? this.lock.tryAcquire() : this.lock.acquire(deadline)
    if (outcome === 'acquired') return true
    if (outcome === 'recovered') {
      try {
        this.rebuild()
      } catch (e) {
        this.lock.release()
        throw e
      }
      return true
    }
    return false
  }

  private ringPosition(logical: number): number {
    const start = this.i32[this.w + QueueWord.INDEX_START] as number
    const p = start + logical
    return p >= this.maxMessages ? p - this.maxMessages : p
  }

  private checkedSlot(value: number | undefined): number {
    if (value === undefined || !(value >= 0 && value < this.maxMessages)) {
      throw new ShmError('ECORRUPT', `${this.target}: slot number ${value} out of range 0..${this.maxMessages - 1}`, {
        target: this.target,
      })
    }
    return value
  }

  private priorityAt(logical: number): number {
    const slot = this.checkedSlot(this.i32[this.indexWord + this.ringPosition(logical)])
    return this.u32[(this.slotsByte + slot * this.stride + SlotWord.PRIORITY * 4) >> 2] as number
  }

  /**
   * Puts `slot` into the index: logical entry `count - 1` is delivered next,
   * entries are ordered by priority (higher nearer the top) and, within a
   * priority, older nearer the top (FIFO, as Boost). The new message goes
   * below every entry of its own or a higher priority. Equal priorities make
   * it an O(1) move of the ring's start.
   */
  private insert(slot: number, priority: number, count: number): void {
    let lo = 0
    let hi = count
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.priorityAt(mid) < priority) lo = mid + 1
      else hi = mid
    }
    const i32 = this.i32
    const n = this.maxMessages
    const index = this.indexWord
    const startWord = this.w + QueueWord.INDEX_START
    if (lo <= count - lo) {
      // Move entries [0, lo) one down: the ring's start moves back by one.
      const start = (((i32[startWord] as number) - 1 + n) % n) | 0
      i32[startWord] = start
      for (let i = 0; i < lo; i++) i32[index + this.ringPosition(i)] = i32[index + this.ringPosition(i + 1)] as number
    } else {
      for (let i = count; i > lo; i--) i32[index + this.ringPosition(i)] = i32[index + this.ringPosition(i - 1)] as number
    }
    i32[index + this.ringPosition(lo)] = slot
  }

  /**
   * After a process died holding the lock: the slots' states are the truth.
   * Collect the PUBLISHED ones, order them as delivery would, and rewrite the
   * index and the free stack. Bounded: maxMessages slots, one sort.
   */
  private rebuild(counted = true): void {
    const i32 = this.i32
    const w = this.w
    const published: number[] = []
    const free: number[] = []
    for (let s = 0; s < this.maxMessages; s++) {
      const sw = (this.slotsByte + s * this.stride) >> 2
      const size = i32[sw + SlotWord.SIZE] as number
      if (i32[sw + SlotWord.STATE] === SlotState.PUBLISHED && size >= 0 && size <= this.maxMessageSize) published.push(s)
      else {
        i32[sw + SlotWord.STATE] = SlotState.FREE
        free.push(s)
      }
    }
    const prio = (s: number): number => this.u32[((this.slotsByte + s * this.stride) >> 2) + SlotWord.PRIORITY] as number
    const stamp = (s: number): number => i32[((this.slotsByte + s * this.stride) >> 2) + SlotWord.STAMP] as number
    // Logical 0 is delivered last: lowest priority first, and within one, newest first.
    published.sort((a, b) => prio(a) - prio(b) || (stamp(b) - stamp(a)) | 0)
    i32[w + QueueWord.INDEX_START] = 0
    for (let i = 0; i < published.length; i++) i32[this.indexWord + i] = published[i] as number
    for (let i = 0; i < free.length; i++) i32[this.freeWord + i] = free[free.length - 1 - i] as number
    i32[w + QueueWord.FREE_TOP] = free.length
    Atomics.store(i32, w + QueueWord.COUNT, published.length)
    // Arrival stamps continue after the newest survivor.
    let newest = i32[w + QueueWord.NEXT_STAMP] as number
    for (const s of published) if (((stamp(s) - newest) | 0) >= 0) newest = (stamp(s) + 1) | 0
    i32[w + QueueWord.NEXT_STAMP] = newest
    if (counted) {
      Atomics.add(i32, w + QueueWord.RECOVERIES, 1)
      this.recoveries++
    }
    // Whoever slept on the old state looks again.
    Atomics.add(i32, w + QueueWord.SEND_SEQ, 1)
    Atomics.add(i32, w + QueueWord.RECV_SEQ, 1)
    this.waiter.wake(w + QueueWord.SEND_SEQ, 2 ** 31 - 1)
    this.waiter.wake(w + QueueWord.RECV_SEQ, 2 ** 31 - 1)
  }
}
