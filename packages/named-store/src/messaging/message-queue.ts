import { ShmError } from '@shmkit/errors'
import { SharedMemoryObject, type MappedRegion } from '@shmkit/ffi-shm'
import { z } from 'zod'
import { openOrCreateWith } from '../managed/open-or-create.js'
import { DEFAULT_OPEN_TIMEOUT_MS, parseOptions } from '../managed/options.js'
import { regionWaiter } from '../segment/waiters.js'
import { bufferWords, regionWords, type WordWaiter } from '../sync/word-waiter.js'
import { livenessOf } from '../sync/fallback-liveness.js'
import type { LockWaiter } from '../segment/lock.js'
import { closedError, type SegmentMemory } from '../types/memory.js'
import { abortedError, waitWhileEqualAsync } from './async-wait.js'
import {
  type MessageData,
  checkPriority,
  checkReceiveBuffer,
  checkTimeout,
  messageBytes,
  parseReceiveAsync,
  parseSendAsync,
  type ReceiveAsyncOptions,
  type SendAsyncOptions,
} from './message-input.js'
import { createMapping, openMapping, type NamedMapping } from './named-mapping.js'
import { claimMappingOwner, type MappingOwner, type OwnerProbe } from './owner-token.js'
import { Attempt, QueueCore } from './queue-core.js'
import {
  MAX_MESSAGE_SIZE,
  MAX_MESSAGES,
  QUEUE_HEADER_BYTES,
  type QueueGeometry,
  QueueState,
  QueueWord,
  queueGeometry,
} from './queue-layout.js'
import { deadlineOf, spinWhileEqual, waitWhileEqual } from './word-wait.js'

/** What a queue's bytes live in: its own shared memory object, or an object in a segment. */
interface QueueBacking {
  i32: Int32Array
  u32: Uint32Array
  u8: Uint8Array
  /** Byte offset of the queue in that memory. */
  base: number
  waiter: LockWaiter
  words: WordWaiter
  owner: OwnerProbe
  target: string
  /** The limits a queue in a segment has by its type; undefined for a named queue (its header says). */
  geometry: QueueGeometry | undefined
  /** Gives the memory up: unmaps a named queue (and its owner token); nothing for one in a segment. */
  release(): void
  /** True once the memory is gone underneath (the segment was closed): operations are ECLOSED. */
  gone(): boolean
}

/** A message taken from a queue. */
export interface ReceivedMessage {
  /** The message's bytes: a new array, or the front of the buffer passed to receive. */
  readonly data: Uint8Array
  readonly size: number
  readonly priority: number
}

const limits = {
  maxMessages: z.number().int().min(1).max(MAX_MESSAGES),
  maxMessageSize: z.number().int().min(1).max(MAX_MESSAGE_SIZE),
}
const createSchema = z.object({ ...limits, mode: z.number().int().min(0).max(0o777).optional() }).strict()
const openSchema = z.object({ timeoutMs: z.number().int().min(0).max(600_000).optional() }).strict()
const openOrCreateSchema = createSchema.extend(openSchema.shape).strict()

/** Limits of a new queue: `maxMessages` messages of at most `maxMessageSize` bytes each. @useDeclaredType */
export type MessageQueueCreateOptions = z.infer<typeof createSchema>
/** Options of MessageQueue.open: `timeoutMs` to wait for a queue still being created. @useDeclaredType */
export type MessageQueueOpenOptions = z.infer<typeof openSchema>
/** Options of MessageQueue.openOrCreate: the create limits plus the open `timeoutMs`. @useDeclaredType */
export type MessageQueueOpenOrCreateOptions = z.infer<typeof openOrCreateSchema>

const targetOf = (name: string): string => `message queue "${name}"`
const NEVER = Infinity

/**
 * A bounded queue of prioritised messages between processes, Boost's
 * `message_queue`: a sender blocks while it is full, a receiver while it is
 * empty; higher priorities are received first, and messages of one priority
 * in the order they were sent.
 *
 * ```ts
 * const mq = MessageQueue.create('jobs', { maxMessages: 64, maxMessageSize: 256 })
 * mq.send('hello', 1)
 * const { data, priority } = mq.receive()
 * for await (const msg of mq) handle(msg)   // receiveAsync in a loop; ends on close()
 * ```
 *
 * A process killed in the middle of a send or receive loses no slot and
 * wedges no one: see `QueueCore` (messaging/queue-core.ts).
 */
export class MessageQueue implements AsyncIterable<ReceivedMessage> {
  private readonly core: QueueCore
  /** How async waits sleep on the queue's words (the wait engine, on Linux). */
  private readonly words: WordWaiter
  private readonly i32: Int32Array
  private closed = false
  private readonly closeController = new AbortController()

  private constructor(
    /** The queue's name (its shared memory object is `"/" + name`); for a queue in a segment, where it is. */
    readonly name: string,
    private readonly backing: QueueBacking,
  ) {
    this.i32 = backing.i32
    this.words = backing.words
    this.core = new QueueCore(
      backing.i32,
      backing.u32,
      backing.u8,
      backing.base,
      backing.waiter,
      backing.owner,
      backing.target,
      backing.geometry,
    )
  }

  /** @internal The view of a `t.messageQueue` object at `offset` of a segment (see queue-type.ts). */
  static inSegment(mem: SegmentMemory, offset: number, geometry: QueueGeometry): MessageQueue {
    if (mem.closed) throw closedError(mem)
    const words = mem.words ?? bufferWords(mem.buffer)
    const target = `message queue at offset ${offset} of ${mem.target}`
    return new MessageQueue(target, {
      i32: mem.i32,
      u32: mem.u32,
      u8: mem.u8,
      base: offset,
      waiter: {
        wait: (index, expected, timeoutMs) => void words.wait(index * 4, expected, timeoutMs),
        wake: (index, count) => words.wake(index * 4, count),
      },
      words,
      owner: livenessOf(mem),
      target,
      geometry,
      release: () => {},
      gone: () => mem.closed,
    })
  }

  /** Creates a queue; EEXIST if the name is taken, EINVAL (with paths) for bad limits. */
  static create(name: string, options: MessageQueueCreateOptions): MessageQueue {
    const opts = parseOptions(createSchema, options, 'options', targetOf(name))
    const g = queueGeometry(opts.maxMessages, opts.maxMessageSize)
    const mapping = createMapping(name, g.totalBytes, opts.mode, (region: MappedRegion) =>
      QueueCore.format(new Int32Array(region.buffer), 0, g),
    )
    return MessageQueue.adopt(name, mapping)
  }

  /** Opens an existing queue; ENOENT if there is none, ECORRUPT/EVERSION if it is not a queue. */
  static open(name: string, options?: MessageQueueOpenOptions): MessageQueue {
    const opts = parseOptions(openSchema, options, 'options', targetOf(name))
    const mapping = openMapping(
      name,
      'message queue',
      QUEUE_HEADER_BYTES,
      QueueWord.STATE,
      QueueState.READY,
      opts.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS,
    )
    return MessageQueue.adopt(name, mapping)
  }

  /** Opens the queue, creating it with these limits if it does not exist (an existing queue keeps its own). */
  static openOrCreate(name: string, options: MessageQueueOpenOrCreateOptions): MessageQueue {
    const opts = parseOptions(openOrCreateSchema, options, 'options', targetOf(name))
    const { timeoutMs, ...create } = opts
    return openOrCreateWith(
      () => MessageQueue.create(name, create),
      () => MessageQueue.open(name, timeoutMs === undefined ? {} : { timeoutMs }),
      targetOf(name),
    )
  }

  /** Removes the name; processes that have the queue open keep using it. */
  static remove(name: string): boolean {
    return SharedMemoryObject.remove(name)
  }

  private static adopt(name: string, mapping: NamedMapping): MessageQueue {
    let owner: MappingOwner | undefined
    try {
      const buffer = mapping.region.buffer
      const i32 = new Int32Array(buffer, 0, buffer.byteLength >> 2)
      const target = targetOf(name)
      // The queue lock is the one word that carries owner tokens.
      const claimed = claimMappingOwner(mapping.shm, (token) => Atomics.load(i32, QueueWord.LOCK) === token, target)
      owner = claimed
      return new MessageQueue(name, {
        i32,
        u32: new Uint32Array(buffer, 0, buffer.byteLength >> 2),
        u8: new Uint8Array(buffer),
        base: 0,
        waiter: regionWaiter(mapping.region, target),
        words: regionWords(mapping.region),
        owner: claimed,
        target,
        geometry: undefined,
        release: () => {
          claimed.release()
          mapping.region.close()
          mapping.shm.close()
        },
        gone: () => false,
      })
    } catch (e) {
      owner?.release()
      mapping.region.close()
      mapping.shm.close()
      throw e
    }
  }

  get maxMessages(): number {
    return this.core.maxMessages
  }

  get maxMessageSize(): number {
    return this.core.maxMessageSize
  }

  /** Messages waiting now (Boost's `get_num_msg`). */
  get numMessages(): number {
    this.assertOpen()
    return this.core.count
  }

  /** How many times this handle rebuilt the queue after finding its lock's owner dead. */
  get recoveries(): number {
    return this.core.recoveries
  }

  /** Sends, waiting as long as the queue is full. */
  send(data: MessageData, priority = 0): void {
    this.sendUntil(data, priority, NEVER)
  }

  /** Sends if there is room now; false if the queue is full. */
  trySend(data: MessageData, priority = 0): boolean {
    this.assertOpen()
    const bytes = messageBytes(data, this.core.maxMessageSize, this.core.target)
    return this.core.trySendOnce(bytes, checkPriority(priority, this.core.target), NEVER, false, false) === Attempt.DONE
  }

  /** Sends, waiting at most `timeoutMs` for room; false on timeout. */
  timedSend(data: MessageData, priority: number, timeoutMs: number): boolean {
    return this.sendUntil(data, priority, deadlineOf(checkTimeout(timeoutMs, this.core.target)))
  }

  /** Receives the next message, waiting as long as the queue is empty. With `into`, copies into it (no allocation). */
  receive(into?: Uint8Array): ReceivedMessage {
    const message = this.receiveUntil(into, NEVER)
    if (message === undefined) throw new ShmError('ETIMEDOUT', `receive on ${this.core.target} gave up`, { target: this.core.target })
    return message
  }

  /** The next message if there is one now, else undefined. */
  tryReceive(into?: Uint8Array): ReceivedMessage | undefined {
    this.assertOpen()
    const buffer = checkReceiveBuffer(into, this.core.target)
    return this.core.tryReceiveOnce(buffer, NEVER, false, false) === Attempt.DONE ? this.lastMessage() : undefined
  }

  /** The next message, waiting at most `timeoutMs`; undefined on timeout. */
  timedReceive(timeoutMs: number, into?: Uint8Array): ReceivedMessage | undefined {
    return this.receiveUntil(into, deadlineOf(checkTimeout(timeoutMs, this.core.target)))
  }

  /**
   * Sends without blocking the event loop while the queue is full. Rejects
   * with ETIMEDOUT after `timeoutMs`, EABORTED when `signal` aborts (the
   * message is then not sent), ECLOSED when the handle is closed.
   */
  async sendAsync(data: MessageData, options?: SendAsyncOptions): Promise<void> {
    this.assertOpen()
    const core = this.core
    const opts = parseSendAsync(options, core.target)
    const bytes = messageBytes(data, core.maxMessageSize, core.target)
    const priority = opts.priority ?? 0
    const deadline = deadlineOf(opts.timeoutMs)
    for (;;) {
      this.assertOpen()
      if (opts.signal?.aborted === true) this.throwAborted(opts.signal)
      // Registered as a sleeper (the flag the next receive checks before it wakes anyone).
      const attempt = core.trySendOnce(bytes, priority, 0, true, true)
      if (attempt === Attempt.DONE) return
      await this.pause(attempt, 'send', deadline, opts)
    }
  }

  /** Receives without blocking the event loop while the queue is empty; rejects as {@link sendAsync} does. */
  async receiveAsync(options?: ReceiveAsyncOptions): Promise<ReceivedMessage> {
    this.assertOpen()
    const core = this.core
    const opts = parseReceiveAsync(options, core.target)
    const deadline = deadlineOf(opts.timeoutMs)
    for (;;) {
      this.assertOpen()
      if (opts.signal?.aborted === true) this.throwAborted(opts.signal)
      const attempt = core.tryReceiveOnce(opts.into, 0, true, true)
      if (attempt === Attempt.DONE) return this.lastMessage()
      await this.pause(attempt, 'receive', deadline, opts)
    }
  }

  /** Receives messages as they come (`for await (const m of mq)`); ends when the handle is closed. */
  async *[Symbol.asyncIterator](): AsyncIterator<ReceivedMessage> {
    for (;;) {
      if (this.closed) return
      try {
        yield await this.receiveAsync({ signal: this.closeController.signal })
      } catch (e) {
        if (this.closed && (ShmError.is(e, 'EABORTED') || ShmError.is(e, 'ECLOSED'))) return
        throw e
      }
    }
  }

  /** Unmaps the queue; pending async operations reject with ECLOSED (or end a `for await`). Idempotent. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.closeController.abort()
    this.backing.release()
  }

  /** Same as close(). */
  [Symbol.dispose](): void {
    this.close()
  }

  private sendUntil(data: MessageData, priority: number, deadline: number): boolean {
    this.assertOpen()
    const core = this.core
    const bytes = messageBytes(data, core.maxMessageSize, core.target)
    checkPriority(priority, core.target)
    // Spin first, unregistered; only a second full attempt raises the flag and sleeps (spinWhileEqual).
    let register = false
    for (;;) {
      const attempt = core.trySendOnce(bytes, priority, deadline, false, register)
      if (attempt === Attempt.DONE) return true
      if (attempt === Attempt.LOCK_BUSY) return false
      if (deadline === NEVER && this.words.kind === 'local') throw this.wouldNeverEnd('send', 'full')
      if (!register) {
        register = !spinWhileEqual(this.i32, core.seqIndex('send'), core.observedSeq)
        continue
      }
      register = false
      if (!waitWhileEqual(this.i32, core.seqIndex('send'), core.observedSeq, core.waiter, deadline, 0)) return false
    }
  }

  private receiveUntil(into: Uint8Array | undefined, deadline: number): ReceivedMessage | undefined {
    this.assertOpen()
    const core = this.core
    const buffer = checkReceiveBuffer(into, core.target)
    let register = false
    for (;;) {
      const attempt = core.tryReceiveOnce(buffer, deadline, false, register)
      if (attempt === Attempt.DONE) return this.lastMessage()
      if (attempt === Attempt.LOCK_BUSY) return undefined
      if (deadline === NEVER && this.words.kind === 'local') throw this.wouldNeverEnd('receive', 'empty')
      if (!register) {
        register = !spinWhileEqual(this.i32, core.seqIndex('receive'), core.observedSeq)
        continue
      }
      register = false
      if (!waitWhileEqual(this.i32, core.seqIndex('receive'), core.observedSeq, core.waiter, deadline, 0)) return undefined
    }
  }

  private lastMessage(): ReceivedMessage {
    const core = this.core
    const data = core.lastData as Uint8Array
    return {
      data: data.byteLength === core.lastSize ? data : data.subarray(0, core.lastSize),
      size: core.lastSize,
      priority: core.lastPriority,
    }
  }

  /** Waits (asynchronously) for whatever stopped an attempt to change. */
  private async pause(
    attempt: Attempt,
    side: 'send' | 'receive',
    deadline: number,
    opts: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined },
  ): Promise<void> {
    const core = this.core
    const index = attempt === Attempt.LOCK_BUSY ? core.lockIndex() : core.seqIndex(side)
    const expected = attempt === Attempt.LOCK_BUSY ? Atomics.load(this.i32, index) : core.observedSeq
    if (expected === 0 && attempt === Attempt.LOCK_BUSY) return
    const signal = opts.signal === undefined ? this.closeController.signal : AbortSignal.any([opts.signal, this.closeController.signal])
    let moved: boolean
    try {
      // A busy lock is held for microseconds and its release wakes only registered sync waiters: look again within 1 ms.
      moved = await waitWhileEqualAsync(
        this.words,
        this.i32,
        index,
        expected,
        deadline,
        signal,
        core.target,
        attempt === Attempt.LOCK_BUSY ? 1 : undefined,
      )
    } catch (e) {
      this.assertOpen()
      throw e
    }
    if (!moved) throw new ShmError('ETIMEDOUT', `${side} on ${core.target} timed out after ${opts.timeoutMs} ms`, { target: core.target })
  }

  /** A blocking wait no other thread or process could ever end (a queue in this thread's own memory). */
  private wouldNeverEnd(side: string, state: string): ShmError {
    return new ShmError(
      'EDEADLK',
      `${side} on ${this.core.target} would wait forever: it is ${state} and only this thread can use its memory`,
      { target: this.core.target, hint: 'use the async form, a timeout, or a segment other processes or threads share' },
    )
  }

  private throwAborted(signal: AbortSignal): never {
    throw abortedError(signal, this.core.target)
  }

  private assertOpen(): void {
    if (this.closed || this.backing.gone()) throw new ShmError('ECLOSED', `${this.core.target} is closed`, { target: this.core.target })
  }
}
