import { ShmError } from '@shmkit/errors'
import { abortedError, waitWhileEqualAsync } from './async-wait.js'
import type { ChannelCore } from './channel-core.js'
import { LAGGARD_CHECK_MS } from './channel-core.js'
import { ChannelSlotWord, ChannelWord, seqNext } from './channel-layout.js'
import { deadlineOf, remainingMs, waitWhileEqual } from './word-wait.js'

/** A slot loaned to the publisher: write the sample into `data` in place, then `publish`. */
export interface LoanedSample {
  /** The slot's payload bytes (all `slotSize` of them), in shared memory: no copy. */
  readonly data: Uint8Array
  /** The sequence number this sample will carry. */
  readonly seq: number
  /** Makes the first `size` bytes (default: all) visible to every subscriber. */
  publish(size?: number): void
}

/** How a loan waits for a free slot: `timeoutMs` (default: as long as it takes), `signal` for the async form. */
export interface LoanOptions {
  timeoutMs?: number
  signal?: AbortSignal
}

/**
 * The one publisher of a channel. It loans the slot the next sample goes to
 * once every subscriber has released what that slot held (backpressure), and
 * reclaims the entry of a subscriber that died holding it back.
 */
export class Publisher {
  private loaned = false
  private closed = false
  /** Subscribers found dead and reclaimed by this publisher. */
  reclaimed = 0

  constructor(private readonly core: ChannelCore) {
    const i32 = core.i32
    const at = core.word(ChannelWord.PUBLISHER)
    const token = core.owner.token
    const current = Atomics.compareExchange(i32, at, 0, token)
    if (current !== 0) {
      if (current === token || core.owner.stateOf(current) !== 'dead' || Atomics.compareExchange(i32, at, current, token) !== current) {
        throw new ShmError('EBUSY', `${core.target} already has a publisher (owner ${current}): a channel has one`, { target: core.target })
      }
    }
  }

  /** Waits (blocking this thread) for a free slot and loans it; ETIMEDOUT after `timeoutMs`. */
  loan(options: { timeoutMs?: number } = {}): LoanedSample {
    this.assertReady()
    const core = this.core
    const deadline = deadlineOf(options.timeoutMs)
    const seq = core.published()
    let lastCheck = -Infinity
    for (;;) {
      const observed = Atomics.load(core.i32, core.word(ChannelWord.RELEASE_SEQ))
      const laggard = core.blockingSubscriber(seq)
      if (laggard < 0) return this.loanSlot(seq)
      const now = performance.now()
      if (now - lastCheck >= LAGGARD_CHECK_MS) {
        lastCheck = now
        if (core.reclaimIfDead(laggard)) {
          this.reclaimed++
          continue
        }
      }
      if (remainingMs(deadline) <= 0) throw this.timeout(options.timeoutMs)
      Atomics.store(core.i32, core.word(ChannelWord.PUBLISHER_SLEEPING), 1)
      if (core.blockingSubscriber(seq) < 0) continue
      waitWhileEqual(core.i32, core.word(ChannelWord.RELEASE_SEQ), observed, core.waiter, Math.min(deadline, now + LAGGARD_CHECK_MS))
    }
  }

  /** Loans the next slot if it is free now; undefined when a subscriber still holds it. */
  tryLoan(): LoanedSample | undefined {
    this.assertReady()
    const core = this.core
    const seq = core.published()
    const laggard = core.blockingSubscriber(seq)
    if (laggard >= 0) {
      if (!core.reclaimIfDead(laggard)) return undefined
      this.reclaimed++
      return this.tryLoan()
    }
    return this.loanSlot(seq)
  }

  /** Like loan, without blocking the event loop; rejects ETIMEDOUT, EABORTED or ECLOSED. */
  async loanAsync(options: LoanOptions = {}): Promise<LoanedSample> {
    this.assertReady()
    const core = this.core
    const deadline = deadlineOf(options.timeoutMs)
    for (;;) {
      if (options.signal?.aborted === true) throw abortedError(options.signal, core.target)
      const observed = Atomics.load(core.i32, core.word(ChannelWord.RELEASE_SEQ))
      const sample = this.tryLoan()
      if (sample !== undefined) return sample
      const left = remainingMs(deadline)
      if (left <= 0) throw this.timeout(options.timeoutMs)
      // Raise the flag a releasing subscriber checks before it wakes anyone, then look once more (as loan does).
      Atomics.store(core.i32, core.word(ChannelWord.PUBLISHER_SLEEPING), 1)
      if (core.blockingSubscriber(core.published()) < 0) continue
      // Look again at least every LAGGARD_CHECK_MS: the laggard may have died.
      await waitWhileEqualAsync(
        core.words,
        core.i32,
        core.word(ChannelWord.RELEASE_SEQ),
        observed,
        Math.min(deadline, performance.now() + LAGGARD_CHECK_MS),
        options.signal,
        core.target,
      )
      this.assertOpen()
    }
  }

  /** Copies `bytes` into a loaned slot and publishes it (the convenient, one-copy form). */
  send(bytes: Uint8Array, options: { timeoutMs?: number } = {}): void {
    if (!(bytes instanceof Uint8Array) || bytes.byteLength > this.core.g.slotSize) {
      throw new ShmError(
        bytes instanceof Uint8Array ? 'EMSGSIZE' : 'EINVAL',
        `a sample must be a Uint8Array of at most ${this.core.g.slotSize} bytes`,
        { target: this.core.target },
      )
    }
    const sample = this.loan(options)
    sample.data.set(bytes)
    sample.publish(bytes.byteLength)
  }

  /** Gives up the publisher role (a loaned, unpublished sample is dropped). Idempotent. */
  close(): void {
    if (this.closed) return
    this.closed = true
    Atomics.compareExchange(this.core.i32, this.core.word(ChannelWord.PUBLISHER), this.core.owner.token, 0)
  }

  private loanSlot(seq: number): LoanedSample {
    const core = this.core
    this.loaned = true
    const data = new Uint8Array(core.u8.buffer, core.u8.byteOffset + core.payloadByte(seq), core.g.slotSize)
    let published = false
    return {
      data,
      seq,
      publish: (size = core.g.slotSize) => {
        if (published) throw new ShmError('EINVAL', `sample ${seq} of ${core.target} was already published`, { target: core.target })
        this.assertOpen()
        if (!Number.isSafeInteger(size) || size < 0 || size > core.g.slotSize) {
          throw new ShmError('EINVAL', `invalid size: got ${String(size)}, expected an integer from 0 to ${core.g.slotSize}`, {
            target: core.target,
            issues: [{ path: ['size'], message: `from 0 to ${core.g.slotSize}` }],
          })
        }
        published = true
        this.loaned = false
        this.publishSlot(seq, size)
      },
    }
  }

  private publishSlot(seq: number, size: number): void {
    const core = this.core
    const i32 = core.i32
    const sw = core.slotByte(seq) >> 2
    i32[sw + ChannelSlotWord.SIZE] = size
    Atomics.store(i32, sw + ChannelSlotWord.SEQ, seq)
    Atomics.store(i32, core.word(ChannelWord.PUBLISHED), seqNext(seq, core.g.seqModulus))
    if (Atomics.load(i32, core.word(ChannelWord.SUBSCRIBERS_SLEEPING)) !== 0) {
      Atomics.store(i32, core.word(ChannelWord.SUBSCRIBERS_SLEEPING), 0)
      core.waiter.wake(core.word(ChannelWord.PUBLISHED), 2 ** 31 - 1)
    }
  }

  private timeout(timeoutMs: number | undefined): ShmError {
    return new ShmError(
      'ETIMEDOUT',
      `no free slot in ${this.core.target} after ${timeoutMs} ms: a subscriber has not released its samples`,
      { target: this.core.target },
    )
  }

  private assertOpen(): void {
    if (this.closed) throw new ShmError('ECLOSED', `the publisher of ${this.core.target} is closed`, { target: this.core.target })
  }

  private assertReady(): void {
    this.assertOpen()
    if (this.loaned)
      throw new ShmError('EINVAL', `publish the loaned sample of ${this.core.target} before loaning another`, { target: this.core.target })
  }
}
