import { invalidArgument, ShmError } from '@shmkit/errors'

/**
 * The message queue's bytes: a header of 32-bit words, the delivery index (a
 * ring of slot numbers sorted by priority), a stack of free slot numbers,
 * then `maxMessages` slots of `SLOT_HEADER_BYTES` + the payload.
 *
 * Each slot's own header says whether it holds a message (`PUBLISHED`) and
 * that message's priority, size and arrival stamp: it is the truth. The index
 * and the free stack are derived from it and can be rebuilt from the slots
 * alone, which is what recovery does after a process died holding the lock.
 */
export const QueueWord = {
  /** Creation state for a queue in its own shared memory object (0, 1 initializing, 2 ready). */
  STATE: 0,
  MAGIC: 1,
  VERSION: 2,
  MAX_MESSAGES: 3,
  MAX_MESSAGE_SIZE: 4,
  SLOT_STRIDE: 5,
  TOTAL_BYTES: 6,
  LOCK: 7,
  LOCK_WAITERS: 8,
  COUNT: 9,
  /** Moves on every send: receivers sleep on it while the queue is empty. */
  SEND_SEQ: 10,
  /** Moves on every receive: senders sleep on it while the queue is full. */
  RECV_SEQ: 11,
  RECEIVERS_WAITING: 12,
  SENDERS_WAITING: 13,
  /** Arrival order of the next message (wraps; compared by difference). */
  NEXT_STAMP: 14,
  /** Times a dead lock owner's queue was rebuilt. */
  RECOVERIES: 15,
  FREE_TOP: 16,
  /** Ring position of the index's logical entry 0 (the message delivered last). */
  INDEX_START: 17,
} as const

export const QUEUE_HEADER_WORDS = 32
export const QUEUE_HEADER_BYTES = QUEUE_HEADER_WORDS * 4
export const QUEUE_MAGIC = 0x3151_4d53 // "SMQ1" little-endian
export const QUEUE_VERSION = 1

export const QueueState = { UNINITIALIZED: 0, INITIALIZING: 1, READY: 2 } as const

/** Slot header words: state, priority, size, arrival stamp. */
export const SlotWord = { STATE: 0, PRIORITY: 1, SIZE: 2, STAMP: 3 } as const
export const SLOT_HEADER_BYTES = 16
export const SlotState = { FREE: 0, PUBLISHED: 1 } as const

export const MAX_MESSAGES = 1 << 20
export const MAX_MESSAGE_SIZE = 1 << 28
/** A queue's bytes stay below 2 GiB: every offset is a non-negative int32. */
export const MAX_QUEUE_BYTES = 2 ** 31 - 8
export const MAX_PRIORITY = 2 ** 32 - 1

export interface QueueGeometry {
  maxMessages: number
  maxMessageSize: number
  slotStride: number
  indexOffset: number
  freeOffset: number
  slotsOffset: number
  totalBytes: number
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8

/** Where everything goes for these limits; EINVAL naming the argument when they are out of range. */
export function queueGeometry(maxMessages: unknown, maxMessageSize: unknown): QueueGeometry {
  if (typeof maxMessages !== 'number' || !Number.isSafeInteger(maxMessages) || maxMessages < 1 || maxMessages > MAX_MESSAGES) {
    throw invalidArgument('maxMessages', maxMessages, `an integer from 1 to ${MAX_MESSAGES}`)
  }
  if (
    typeof maxMessageSize !== 'number' ||
    !Number.isSafeInteger(maxMessageSize) ||
    maxMessageSize < 1 ||
    maxMessageSize > MAX_MESSAGE_SIZE
  ) {
    throw invalidArgument('maxMessageSize', maxMessageSize, `an integer from 1 to ${MAX_MESSAGE_SIZE}`)
  }
  const slotStride = SLOT_HEADER_BYTES + align8(maxMessageSize)
  const indexOffset = QUEUE_HEADER_BYTES
  const freeOffset = indexOffset + maxMessages * 4
  const slotsOffset = align8(freeOffset + maxMessages * 4)
  const totalBytes = slotsOffset + maxMessages * slotStride
  if (totalBytes > MAX_QUEUE_BYTES) {
    throw new ShmError(
      'EINVAL',
      `invalid maxMessages × maxMessageSize: ${maxMessages} × ${maxMessageSize} needs ${totalBytes} bytes, more than the ${MAX_QUEUE_BYTES} a queue may hold`,
      {
        issues: [{ path: ['maxMessages'], message: `at most ${MAX_QUEUE_BYTES} bytes in all` }],
      },
    )
  }
  return { maxMessages, maxMessageSize, slotStride, indexOffset, freeOffset, slotsOffset, totalBytes }
}
