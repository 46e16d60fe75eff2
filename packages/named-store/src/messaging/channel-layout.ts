import { invalidArgument, ShmError } from '@shmkit/errors'

/**
 * The zero-copy channel's bytes: a header of 32-bit words, a table of
 * subscriber entries, then `slotCount` slots of `slotSize` payload bytes
 * (each 64-byte aligned, so a slot's payload never shares a cache line with
 * its neighbour's header).
 *
 * Sequence numbers count published samples modulo `SEQ_MODULUS`, a multiple
 * of `slotCount` below 2^30, so sample `s` always lives in slot `s % slotCount`
 * and differences of sequence numbers fit an int32.
 */
export const ChannelWord = {
  STATE: 0,
  MAGIC: 1,
  VERSION: 2,
  SLOT_COUNT: 3,
  SLOT_SIZE: 4,
  SLOT_STRIDE: 5,
  MAX_SUBSCRIBERS: 6,
  TOTAL_BYTES: 7,
  SEQ_MODULUS: 8,
  /** The sequence number the next publish gets; subscribers sleep on it. */
  PUBLISHED: 9,
  /** The publisher's owner token, 0 when there is none. */
  PUBLISHER: 10,
  SUBSCRIBERS_SLEEPING: 11,
  PUBLISHER_SLEEPING: 12,
  /** Moves on every release, join, leave and reclaim: a blocked publisher sleeps on it. */
  RELEASE_SEQ: 13,
  /** Dead subscribers whose entries (and slots) were reclaimed. */
  RECLAIMED: 14,
} as const

export const CHANNEL_HEADER_WORDS = 16
export const CHANNEL_HEADER_BYTES = CHANNEL_HEADER_WORDS * 4
export const CHANNEL_MAGIC = 0x3148_4353 // "SCH1" little-endian
export const CHANNEL_VERSION = 1

/** A subscriber entry: owner token (0 free), active flag, tail (first sequence not yet released). */
export const EntryWord = { TOKEN: 0, ACTIVE: 1, TAIL: 2 } as const
export const ENTRY_WORDS = 4

/** A slot's header: the sequence number it holds, and the sample's size. */
export const ChannelSlotWord = { SEQ: 0, SIZE: 1 } as const
export const CHANNEL_SLOT_HEADER_BYTES = 64

export const MAX_SLOTS = 1 << 16
export const MAX_SUBSCRIBERS = 256
export const MAX_SLOT_SIZE = 1 << 30
export const MAX_CHANNEL_BYTES = 2 ** 31 - 64

export interface ChannelGeometry {
  slotCount: number
  slotSize: number
  maxSubscribers: number
  slotStride: number
  entriesOffset: number
  slotsOffset: number
  totalBytes: number
  seqModulus: number
}

const align64 = (n: number): number => Math.ceil(n / 64) * 64

function checkInt(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max)
    throw invalidArgument(what, value, `an integer from ${min} to ${max}`)
  return value
}

/** Where everything goes for these limits; EINVAL naming the argument when out of range. */
export function channelGeometry(slotCount: unknown, slotSize: unknown, maxSubscribers: unknown): ChannelGeometry {
  const n = checkInt(slotCount, 'slotCount', 1, MAX_SLOTS)
  const size = checkInt(slotSize, 'slotSize', 1, MAX_SLOT_SIZE)
  const subs = checkInt(maxSubscribers, 'maxSubscribers', 1, MAX_SUBSCRIBERS)
  const slotStride = CHANNEL_SLOT_HEADER_BYTES + align64(size)
  const entriesOffset = CHANNEL_HEADER_BYTES
  const slotsOffset = align64(entriesOffset + subs * ENTRY_WORDS * 4)
  const totalBytes = slotsOffset + n * slotStride
  if (totalBytes > MAX_CHANNEL_BYTES) {
    throw new ShmError(
      'EINVAL',
      `invalid slotCount × slotSize: ${n} × ${size} needs ${totalBytes} bytes, more than the ${MAX_CHANNEL_BYTES} a channel may hold`,
      {
        issues: [{ path: ['slotCount'], message: `at most ${MAX_CHANNEL_BYTES} bytes in all` }],
      },
    )
  }
  const seqModulus = Math.floor(2 ** 30 / n) * n
  return { slotCount: n, slotSize: size, maxSubscribers: subs, slotStride, entriesOffset, slotsOffset, totalBytes, seqModulus }
}

/** Sequence arithmetic modulo `m`: the next number, and a - b as a signed distance. */
export function seqNext(s: number, m: number): number {
  return s + 1 === m ? 0 : s + 1
}

export function seqDiff(a: number, b: number, m: number): number {
  let d = a - b
  if (d > m / 2) d -= m
  else if (d <= -m / 2) d += m
  return d
}
