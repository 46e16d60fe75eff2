import { ShmError } from '@shmkit/errors'
import { SharedMemoryObject, type MappedRegion } from '@shmkit/ffi-shm'
import { z } from 'zod'
import { openOrCreateWith } from '../managed/open-or-create.js'
import { DEFAULT_OPEN_TIMEOUT_MS, parseOptions } from '../managed/options.js'
import { regionWaiter } from '../segment/waiters.js'
import { regionWords } from '../sync/word-waiter.js'
import { ChannelCore } from './channel-core.js'
import {
  CHANNEL_HEADER_BYTES,
  channelGeometry,
  ChannelWord,
  EntryWord,
  MAX_SLOT_SIZE,
  MAX_SLOTS,
  MAX_SUBSCRIBERS,
} from './channel-layout.js'
import { Publisher } from './channel-publisher.js'
import { Subscriber, type SubscriberWaitMode } from './channel-subscriber.js'
import { createMapping, openMapping, type NamedMapping } from './named-mapping.js'
import { claimMappingOwner, type MappingOwner } from './owner-token.js'

const limits = {
  slotCount: z.number().int().min(1).max(MAX_SLOTS),
  slotSize: z.number().int().min(1).max(MAX_SLOT_SIZE),
  maxSubscribers: z.number().int().min(1).max(MAX_SUBSCRIBERS).optional(),
}
const createSchema = z.object({ ...limits, mode: z.number().int().min(0).max(0o777).optional() }).strict()
const openSchema = z.object({ timeoutMs: z.number().int().min(0).max(600_000).optional() }).strict()
const openOrCreateSchema = createSchema.extend(openSchema.shape).strict()
const subscriberSchema = z.object({ wait: z.enum(['spin', 'block']).optional() }).strict()

/** A new channel: `slotCount` slots of `slotSize` bytes, up to `maxSubscribers` (default 8) subscribers. @useDeclaredType */
export type ChannelCreateOptions = z.infer<typeof createSchema>
/** Options of ZeroCopyChannel.open: `timeoutMs` to wait for a channel still being created. @useDeclaredType */
export type ChannelOpenOptions = z.infer<typeof openSchema>
/** Options of ZeroCopyChannel.openOrCreate: the create limits plus the open `timeoutMs`. @useDeclaredType */
export type ChannelOpenOrCreateOptions = z.infer<typeof openOrCreateSchema>

const targetOf = (name: string): string => `channel "${name}"`

/**
 * A zero-copy publish/subscribe channel (iceoryx2's model): a ring of
 * fixed-size slots in shared memory. The publisher loans a slot, writes the
 * sample in place and publishes it; every subscriber receives a view of the
 * same bytes and releases it. No byte is copied between processes.
 *
 * ```ts
 * const ch = ZeroCopyChannel.create('frames', { slotCount: 8, slotSize: 1 << 20 })
 * const pub = ch.publisher()
 * const s = pub.loan(); fill(s.data); s.publish(size)
 * // another process
 * const sub = ZeroCopyChannel.open('frames').subscriber({ wait: 'spin' })
 * const sample = sub.receive(); use(sample.data); sample.release()
 * ```
 */
export class ZeroCopyChannel {
  private readonly core: ChannelCore
  /** This handle's owner token (publisher and subscriber claims carry it), given back on close. */
  private readonly owner: MappingOwner
  private readonly endpoints = new Set<Publisher | Subscriber>()
  private closed = false

  private constructor(
    readonly name: string,
    private readonly mapping: NamedMapping,
  ) {
    const buffer = mapping.region.buffer
    const i32 = new Int32Array(buffer, 0, buffer.byteLength >> 2)
    const target = targetOf(name)
    const g = ChannelCore.validate(i32, 0, buffer.byteLength, target)
    this.owner = claimMappingOwner(mapping.shm, (token) => ChannelCore.tokenInUse(i32, 0, g, token), target)
    try {
      this.core = new ChannelCore(
        i32,
        new Uint8Array(buffer),
        0,
        regionWaiter(mapping.region, target),
        regionWords(mapping.region),
        this.owner,
        target,
      )
    } catch (e) {
      this.owner.release()
      throw e
    }
  }

  /** Creates a channel; EEXIST if the name is taken, EINVAL (with paths) for bad limits. */
  static create(name: string, options: ChannelCreateOptions): ZeroCopyChannel {
    const opts = parseOptions(createSchema, options, 'options', targetOf(name))
    const g = channelGeometry(opts.slotCount, opts.slotSize, opts.maxSubscribers ?? 8)
    const mapping = createMapping(name, g.totalBytes, opts.mode, (region: MappedRegion) =>
      ChannelCore.format(new Int32Array(region.buffer), 0, g),
    )
    return ZeroCopyChannel.adopt(name, mapping)
  }

  /** Opens an existing channel; ENOENT if there is none, ECORRUPT/EVERSION if it is not a channel. */
  static open(name: string, options?: ChannelOpenOptions): ZeroCopyChannel {
    const opts = parseOptions(openSchema, options, 'options', targetOf(name))
    return ZeroCopyChannel.adopt(
      name,
      openMapping(name, 'channel', CHANNEL_HEADER_BYTES, ChannelWord.STATE, 2, opts.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS),
    )
  }

  /** Opens the channel, creating it with these limits if it does not exist. */
  static openOrCreate(name: string, options: ChannelOpenOrCreateOptions): ZeroCopyChannel {
    const opts = parseOptions(openOrCreateSchema, options, 'options', targetOf(name))
    const { timeoutMs, ...create } = opts
    return openOrCreateWith(
      () => ZeroCopyChannel.create(name, create),
      () => ZeroCopyChannel.open(name, timeoutMs === undefined ? {} : { timeoutMs }),
      targetOf(name),
    )
  }

  /** Removes the name; processes that have the channel open keep using it. */
  static remove(name: string): boolean {
    return SharedMemoryObject.remove(name)
  }

  private static adopt(name: string, mapping: NamedMapping): ZeroCopyChannel {
    try {
      return new ZeroCopyChannel(name, mapping)
    } catch (e) {
      mapping.region.close()
      mapping.shm.close()
      throw e
    }
  }

  get slotCount(): number {
    return this.core.g.slotCount
  }

  get slotSize(): number {
    return this.core.g.slotSize
  }

  get maxSubscribers(): number {
    return this.core.g.maxSubscribers
  }

  /** Subscribers now in the table (live, or dead and not yet reclaimed). */
  get numSubscribers(): number {
    this.assertOpen()
    let n = 0
    for (let e = 0; e < this.core.g.maxSubscribers; e++)
      if (Atomics.load(this.core.i32, this.core.entryWord(e, EntryWord.ACTIVE)) !== 0) n++
    return n
  }

  /** Dead subscribers whose entries were reclaimed, by any process. */
  get reclaimedSubscribers(): number {
    this.assertOpen()
    return Atomics.load(this.core.i32, this.core.word(ChannelWord.RECLAIMED))
  }

  /** Becomes the channel's publisher; EBUSY while another live one exists. */
  publisher(): Publisher {
    this.assertOpen()
    const p = new Publisher(this.core)
    this.endpoints.add(p)
    return p
  }

  /** Joins as a subscriber, seeing samples published from now on; ENOSPC when maxSubscribers live ones exist. */
  subscriber(options?: { wait?: SubscriberWaitMode }): Subscriber {
    this.assertOpen()
    const opts = parseOptions(subscriberSchema, options, 'options', this.core.target)
    const s = new Subscriber(this.core, opts.wait ?? 'block')
    this.endpoints.add(s)
    return s
  }

  /** Closes every publisher and subscriber made from this handle, then unmaps. Idempotent. */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const e of this.endpoints) e.close()
    // After the endpoints: their claims carry the token, and are given back first.
    this.owner.release()
    this.mapping.region.close()
    this.mapping.shm.close()
  }

  /** Same as close(). */
  [Symbol.dispose](): void {
    this.close()
  }

  private assertOpen(): void {
    if (this.closed) throw new ShmError('ECLOSED', `${this.core.target} is closed`, { target: this.core.target })
  }
}
