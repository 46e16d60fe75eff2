import { ShmError } from '@shmkit/errors'
import { abortedError, waitWhileEqualAsync } from './async-wait.js'
import type { ChannelCore } from './channel-core.js'
import { ChannelSlotWord, ChannelWord, EntryWord, seqDiff, seqNext } from './channel-layout.js'
import { deadlineOf, MAX_SLEEP_MS, remainingMs } from './word-wait.js'

/**
 * How a subscriber waits for the next sample: `spin` polls the publish
 * counter without sleeping (lowest latency, one core busy), `block` sleeps in
 * the kernel (futex) after a short spin. `receiveAsync` never blocks the event
 * loop whatever the mode.
 */
export type SubscriberWaitMode = 'spin' | 'block'

/** A received sample: a view of the slot in shared memory, valid until `release()`. */
export interface Sample {
  /** The sample's bytes, in place in the slot (no copy). Do not keep it past release(). */
  readonly data: Uint8Array
  readonly seq: number
  /** Hands the slot back to the publisher. Idempotent. */
  release(): void
}

/**
 * One subscriber of a channel. It sees every sample published after it
 * joined, in order, as views into the slots; a slot is reused only after
 * every subscriber has released it, so a lagging subscriber holds the
 * publisher back (and a dead one is reclaimed by it).
 */
export class Subscriber {
  private cursor: number
  private tail: number
  private readonly released: Uint8Array
  private readonly entry: number
  private closed = false

  constructor(
    private readonly core: ChannelCore,
    private readonly waitMode: SubscriberWaitMode,
  ) {
    const entry = core.claimEntry()
    if (entry < 0)
      throw new ShmError('ENOSPC', `${core.target} has ${core.g.maxSubscribers} live subscribers already (maxSubscribers)`, {
        target: core.target,
      })
    this.entry = entry
    const i32 = core.i32
    // Join at the current end; then look again, since the publisher did not
    // count us before ACTIVE was set and may have moved on meanwhile.
    Atomics.store(i32, core.entryWord(entry, EntryWord.TAIL), core.published())
    Atomics.store(i32, core.entryWord(entry, EntryWord.ACTIVE), 1)
    const start = core.published()
    Atomics.store(i32, core.entryWord(entry, EntryWord.TAIL), start)
    this.cursor = start
    this.tail = start
    this.released = new Uint8Array(core.g.slotCount)
    core.announceRelease()
  }

  /** Samples published and not yet received by this subscriber. */
  get pending(): number {
    this.assertOpen()
    return seqDiff(this.core.published(), this.cursor, this.core.g.seqModulus)
  }

  /** The next sample if one is there now, else undefined. */
  tryReceive(): Sample | undefined {
    this.assertOpen()
    if (this.core.published() === this.cursor) return undefined
    return this.take()
  }

  /** Waits (blocking this thread, as `waitMode` says) for the next sample; ETIMEDOUT after `timeoutMs`. */
  receive(options: { timeoutMs?: number } = {}): Sample {
    this.assertOpen()
    const core = this.core
    const i32 = core.i32
    const at = core.word(ChannelWord.PUBLISHED)
    const cursor = this.cursor
    if (Atomics.load(i32, at) !== cursor) return this.take()
    const deadline = deadlineOf(options.timeoutMs)
    if (this.waitMode === 'spin') {
      for (let i = 1; ; i++) {
        if (Atomics.load(i32, at) !== cursor) return this.take()
        if ((i & 1023) === 0 && remainingMs(deadline) <= 0) throw this.timeout(options.timeoutMs)
      }
    }
    for (;;) {
      for (let i = 0; i < 2000; i++) if (Atomics.load(i32, at) !== cursor) return this.take()
      const left = remainingMs(deadline)
      if (left <= 0) throw this.timeout(options.timeoutMs)
      Atomics.store(i32, core.word(ChannelWord.SUBSCRIBERS_SLEEPING), 1)
      if (Atomics.load(i32, at) !== cursor) return this.take()
      core.waiter.wait(at, cursor, Math.min(left, MAX_SLEEP_MS))
    }
  }

  /** Waits for the next sample without blocking the event loop; rejects ETIMEDOUT, EABORTED or ECLOSED. */
  async receiveAsync(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Sample> {
    this.assertOpen()
    const core = this.core
    const deadline = deadlineOf(options.timeoutMs)
    for (;;) {
      if (options.signal?.aborted === true) throw abortedError(options.signal, core.target)
      const sample = this.tryReceive()
      if (sample !== undefined) return sample
      // Raise the flag the publisher checks before it wakes anyone, then look once more (as receive does).
      Atomics.store(core.i32, core.word(ChannelWord.SUBSCRIBERS_SLEEPING), 1)
      if (core.published() !== this.cursor) continue
      if (
        !(await waitWhileEqualAsync(
          core.words,
          core.i32,
          core.word(ChannelWord.PUBLISHED),
          this.cursor,
          deadline,
          options.signal,
          core.target,
        ))
      )
        throw this.timeout(options.timeoutMs)
      this.assertOpen()
    }
  }

  /** Releases every held sample and leaves the channel. Idempotent. */
  close(): void {
    if (this.closed) return
    this.closed = true
    const i32 = this.core.i32
    Atomics.store(i32, this.core.entryWord(this.entry, EntryWord.ACTIVE), 0)
    Atomics.store(i32, this.core.entryWord(this.entry, EntryWord.TOKEN), 0)
    this.core.announceRelease()
  }

  /** Same as close(). */
  [Symbol.dispose](): void {
    this.close()
  }

  private take(): Sample {
    const core = this.core
    const seq = this.cursor
    const sw = core.slotByte(seq) >> 2
    const size = core.i32[sw + ChannelSlotWord.SIZE] as number
    if (Atomics.load(core.i32, sw + ChannelSlotWord.SEQ) !== seq || !(size >= 0 && size <= core.g.slotSize)) {
      throw new ShmError(
        'ECORRUPT',
        `${core.target}: slot of sample ${seq} holds sample ${core.i32[sw + ChannelSlotWord.SEQ]} (${size} bytes)`,
        { target: core.target },
      )
    }
    this.cursor = seqNext(seq, core.g.seqModulus)
    const data = new Uint8Array(core.u8.buffer, core.u8.byteOffset + core.payloadByte(seq), size)
    let done = false
    return {
      data,
      seq,
      release: () => {
        if (done) return
        done = true
        this.release(seq)
      },
    }
  }

  private release(seq: number): void {
    if (this.closed) return
    const core = this.core
    const n = core.g.slotCount
    const m = core.g.seqModulus
    this.released[seq % n] = 1
    let tail = this.tail
    if (tail !== seq && this.released[tail % n] !== 1) return
    // Move the shared tail over every sample released in order.
    while (tail !== this.cursor && this.released[tail % n] === 1) {
      this.released[tail % n] = 0
      tail = seqNext(tail, m)
    }
    this.tail = tail
    Atomics.store(core.i32, core.entryWord(this.entry, EntryWord.TAIL), tail)
    core.announceRelease()
  }

  private timeout(timeoutMs: number | undefined): ShmError {
    return new ShmError('ETIMEDOUT', `no sample on ${this.core.target} within ${timeoutMs} ms`, { target: this.core.target })
  }

  private assertOpen(): void {
    if (this.closed) throw new ShmError('ECLOSED', `this subscriber of ${this.core.target} is closed`, { target: this.core.target })
  }
}
