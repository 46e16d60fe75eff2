import { z } from 'zod'
import { parseOptions } from '../managed/options.js'
import { SyncType } from '../sync/sync-type.js'
import { closedError, type SegmentMemory } from '../types/memory.js'
import { MessageQueue } from './message-queue.js'
import { MAX_MESSAGE_SIZE, MAX_MESSAGES, QueueWord, queueGeometry, type QueueGeometry } from './queue-layout.js'

/** What `read` / `toJSON` of a queue in a segment show. */
export interface MessageQueueSnapshot {
  maxMessages: number
  maxMessageSize: number
  /** Messages waiting now. */
  messages: number
}

/**
 * `t.messageQueue({ maxMessages, maxMessageSize })`: a `MessageQueue` that
 * lives in a segment — constructed by name (`seg.construct('jobs',
 * t.messageQueue({ maxMessages: 64, maxMessageSize: 256 }))`), found by name
 * from any process, destroyed with its segment object, or a struct field. Its
 * view is a MessageQueue with the whole API (send/receive, timed, async, `for
 * await`); `close()` on it only ends that view, the queue stays. The limits
 * are part of the type (`message_queue(64,256)`), so a `find` with other
 * limits is ETYPE.
 */
export class MessageQueueType extends SyncType<MessageQueue, MessageQueueSnapshot> {
  /** The payload words of a queue are 8-aligned relative to its start. */
  override readonly align = 8
  /** @internal Where everything of such a queue lies. */
  readonly geometry: QueueGeometry

  constructor(maxMessages: number, maxMessageSize: number) {
    const g = queueGeometry(maxMessages, maxMessageSize)
    super(
      `message_queue(${g.maxMessages},${g.maxMessageSize})`,
      g.totalBytes,
      (mem, offset) => MessageQueue.inSegment(mem, offset, g),
      (mem, offset) => snapshot(mem, offset, g),
    )
    this.geometry = g
  }
}

function snapshot(mem: SegmentMemory, offset: number, g: QueueGeometry): MessageQueueSnapshot {
  if (mem.closed) throw closedError(mem)
  return { maxMessages: g.maxMessages, maxMessageSize: g.maxMessageSize, messages: Atomics.load(mem.i32, (offset >> 2) + QueueWord.COUNT) }
}

const optionsSchema = z
  .object({
    maxMessages: z.number().int().min(1).max(MAX_MESSAGES),
    maxMessageSize: z.number().int().min(1).max(MAX_MESSAGE_SIZE),
  })
  .strict()

/** Limits of a queue in a segment: `maxMessages` messages of at most `maxMessageSize` bytes each. @useDeclaredType */
export type MessageQueueTypeOptions = z.infer<typeof optionsSchema>

/** `t.messageQueue`: validates the limits (EINVAL with paths; the bytes in all must stay under 2 GiB) and builds the type. */
export function messageQueueType(options: MessageQueueTypeOptions): MessageQueueType {
  const { maxMessages, maxMessageSize } = parseOptions(optionsSchema, options, 'options', 't.messageQueue')
  return new MessageQueueType(maxMessages, maxMessageSize)
}
