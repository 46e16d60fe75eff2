import { ShmError } from '@shmkit/errors'
import type { LockWaiter } from '../segment/lock.js'
import {
  CHANNEL_MAGIC,
  CHANNEL_SLOT_HEADER_BYTES,
  CHANNEL_VERSION,
  ChannelSlotWord,
  ChannelWord,
  channelGeometry,
  ENTRY_WORDS,
  EntryWord,
  seqDiff,
  type ChannelGeometry,
} from './channel-layout.js'
import type { WordWaiter } from '../sync/word-waiter.js'
import type { OwnerProbe } from './owner-token.js'

/** How often a blocked publisher asks whether the subscriber holding it back still lives. */
export const LAGGARD_CHECK_MS = 10

/**
 * The channel's shared state, seen from one process: geometry, word access,
 * the subscriber table. The publisher and the subscribers build on it.
 */
export class ChannelCore {
  readonly g: ChannelGeometry
  private readonly w: number
  private readonly entriesWord: number
  readonly slotsByte: number

  constructor(
    readonly i32: Int32Array,
    readonly u8: Uint8Array,
    readonly base: number,
    readonly waiter: LockWaiter,
    /** How async waits sleep on the channel's words (the wait engine, on Linux). */
    readonly words: WordWaiter,
    readonly owner: OwnerProbe,
    readonly target: string,
  ) {
    this.g = ChannelCore.validate(i32, base, u8.byteLength, target)
    this.w = base >> 2
    this.entriesWord = (base + this.g.entriesOffset) >> 2
    this.slotsByte = base + this.g.slotsOffset
  }

  static format(i32: Int32Array, base: number, g: ChannelGeometry): void {
    const w = base >> 2
    i32.fill(0, w, w + (g.slotsOffset >> 2))
    for (let s = 0; s < g.slotCount; s++) i32[((base + g.slotsOffset + s * g.slotStride) >> 2) + ChannelSlotWord.SEQ] = -1
    i32[w + ChannelWord.MAGIC] = CHANNEL_MAGIC
    i32[w + ChannelWord.VERSION] = CHANNEL_VERSION
    i32[w + ChannelWord.SLOT_COUNT] = g.slotCount
    i32[w + ChannelWord.SLOT_SIZE] = g.slotSize
    i32[w + ChannelWord.SLOT_STRIDE] = g.slotStride
    i32[w + ChannelWord.MAX_SUBSCRIBERS] = g.maxSubscribers
    i32[w + ChannelWord.TOTAL_BYTES] = g.totalBytes
    i32[w + ChannelWord.SEQ_MODULUS] = g.seqModulus
    Atomics.store(i32, w + ChannelWord.STATE, 2)
  }

  /** Whether `token` is written anywhere an owner token lives (publisher word, subscriber entries): a new handle must not claim it. */
  static tokenInUse(i32: Int32Array, base: number, g: ChannelGeometry, token: number): boolean {
    const w = base >> 2
    if (Atomics.load(i32, w + ChannelWord.PUBLISHER) === token) return true
    const entries = (base + g.entriesOffset) >> 2
    for (let e = 0; e < g.maxSubscribers; e++) if (Atomics.load(i32, entries + e * ENTRY_WORDS + EntryWord.TOKEN) === token) return true
    return false
  }

  static validate(i32: Int32Array, base: number, mappedBytes: number, target: string): ChannelGeometry {
    const w = base >> 2
    const word = (k: number): number => i32[w + k] ?? 0
    if (word(ChannelWord.MAGIC) !== CHANNEL_MAGIC)
      throw new ShmError('ECORRUPT', `${target} is not a shmkit channel (magic 0x${(word(ChannelWord.MAGIC) >>> 0).toString(16)})`, {
        target,
      })
    if (word(ChannelWord.VERSION) !== CHANNEL_VERSION) {
      throw new ShmError(
        'EVERSION',
        `${target} has channel layout version ${word(ChannelWord.VERSION)}; this shmkit reads version ${CHANNEL_VERSION}`,
        { target },
      )
    }
    let g: ChannelGeometry
    try {
      g = channelGeometry(word(ChannelWord.SLOT_COUNT), word(ChannelWord.SLOT_SIZE), word(ChannelWord.MAX_SUBSCRIBERS))
    } catch {
      throw new ShmError('ECORRUPT', `${target} has impossible limits`, { target })
    }
    if (
      word(ChannelWord.SLOT_STRIDE) !== g.slotStride ||
      word(ChannelWord.TOTAL_BYTES) !== g.totalBytes ||
      word(ChannelWord.SEQ_MODULUS) !== g.seqModulus ||
      base + g.totalBytes > mappedBytes
    ) {
      throw new ShmError('ECORRUPT', `${target} is inconsistent: ${g.totalBytes} bytes of channel, ${mappedBytes - base} mapped`, {
        target,
      })
    }
    return g
  }

  word(k: number): number {
    return this.w + k
  }

  entryWord(entry: number, k: number): number {
    return this.entriesWord + entry * ENTRY_WORDS + k
  }

  slotByte(seq: number): number {
    return this.slotsByte + (seq % this.g.slotCount) * this.g.slotStride
  }

  payloadByte(seq: number): number {
    return this.slotByte(seq) + CHANNEL_SLOT_HEADER_BYTES
  }

  published(): number {
    return Atomics.load(this.i32, this.w + ChannelWord.PUBLISHED)
  }

  /** Moves the release sequence and wakes a sleeping publisher. */
  announceRelease(): void {
    const i32 = this.i32
    Atomics.add(i32, this.w + ChannelWord.RELEASE_SEQ, 1)
    if (Atomics.load(i32, this.w + ChannelWord.PUBLISHER_SLEEPING) !== 0) {
      Atomics.store(i32, this.w + ChannelWord.PUBLISHER_SLEEPING, 0)
      this.waiter.wake(this.w + ChannelWord.RELEASE_SEQ, 2 ** 31 - 1)
    }
  }

  /**
   * The first active subscriber that has not released the sample `seq` would
   * overwrite (its tail is `slotCount` or more behind), or -1 when the slot
   * for `seq` is free. Bounded: one pass over the table.
   */
  blockingSubscriber(seq: number): number {
    const i32 = this.i32
    const n = this.g.slotCount
    const m = this.g.seqModulus
    for (let e = 0; e < this.g.maxSubscribers; e++) {
      if (Atomics.load(i32, this.entryWord(e, EntryWord.ACTIVE)) === 0) continue
      const tail = Atomics.load(i32, this.entryWord(e, EntryWord.TAIL))
      if (seqDiff(seq, tail, m) >= n) return e
    }
    return -1
  }

  /**
   * Frees entry `e` if its owner is dead ("unknown" is not dead); true if it
   * did. Its unreleased samples stop holding the publisher back.
   */
  reclaimIfDead(e: number): boolean {
    const i32 = this.i32
    const token = Atomics.load(i32, this.entryWord(e, EntryWord.TOKEN))
    if (token === 0 || this.owner.stateOf(token) !== 'dead') return false
    if (Atomics.compareExchange(i32, this.entryWord(e, EntryWord.TOKEN), token, -1) !== token) return false
    Atomics.store(i32, this.entryWord(e, EntryWord.ACTIVE), 0)
    Atomics.store(i32, this.entryWord(e, EntryWord.TOKEN), 0)
    Atomics.add(i32, this.w + ChannelWord.RECLAIMED, 1)
    this.announceRelease()
    return true
  }

  /** Claims a free subscriber entry (reclaiming dead ones if none is free); -1 if all are taken by live subscribers. */
  claimEntry(): number {
    const i32 = this.i32
    for (let pass = 0; pass < 2; pass++) {
      for (let e = 0; e < this.g.maxSubscribers; e++) {
        if (Atomics.compareExchange(i32, this.entryWord(e, EntryWord.TOKEN), 0, this.owner.token) === 0) return e
      }
      let reclaimed = false
      for (let e = 0; e < this.g.maxSubscribers; e++) if (this.reclaimIfDead(e)) reclaimed = true
      if (!reclaimed) break
    }
    return -1
  }
}
