import { laneChecksum } from './checksum.js'

/** Payload sizes of the parent→child benchmark. */
export const PAYLOAD_SIZES = [4 << 10, 1 << 20, 64 << 20] as const

/** Payloads in flight at once: the writer fills one while the reader checks the other. */
export const WINDOW = 2

/** What one transport managed for one payload size. */
export interface Measurement {
  transport: string
  payloadBytes: number
  rounds: number
  seconds: number
  nsPerOp: number
  mbPerS: number
}

export interface Budget {
  /** Rounds before timing starts: the child's start, page faults, JIT, socket buffers. */
  warmupRounds: number
  /** How long the reported batch of rounds should last. */
  targetSeconds: number
  maxRounds: number
  /** A run (warm-up and measurement) that takes longer than this has hung. */
  deadlineSeconds: number
}

export function budgetFor(payloadBytes: number, quick: boolean): Budget {
  return {
    warmupRounds: payloadBytes >= 16 << 20 ? 3 : quick ? 50 : 500,
    targetSeconds: quick ? 0.2 : 1.5,
    maxRounds: 10_000_000,
    deadlineSeconds: 120,
  }
}

/**
 * Times `runRounds` after a warm-up: batches double until one lasts a
 * quarter of the target, which sizes a final batch that lasts about the
 * target; only that one is reported, so start-up and calibration never
 * count.
 */
export async function measureRounds(
  budget: Budget,
  runRounds: (rounds: number) => Promise<number> | number,
): Promise<{ rounds: number; seconds: number }> {
  await runRounds(budget.warmupRounds)
  let batch = 1
  for (;;) {
    const seconds = await runRounds(batch)
    if (seconds >= budget.targetSeconds / 4 || batch >= budget.maxRounds) {
      const rounds = Math.min(budget.maxRounds, Math.max(1, Math.ceil((batch * budget.targetSeconds) / Math.max(seconds, 1e-9))))
      return { rounds, seconds: await runRounds(rounds) }
    }
    batch *= 2
  }
}

export function measurement(transport: string, payloadBytes: number, rounds: number, seconds: number): Measurement {
  return { transport, payloadBytes, rounds, seconds, nsPerOp: (seconds * 1e9) / rounds, mbPerS: (payloadBytes * rounds) / seconds / 1e6 }
}

/**
 * The payload a writer sends: deterministic pseudo-random bytes (so a reader
 * that skipped a page would report a different checksum) whose first 32-bit
 * word is zero, kept free for the round stamp.
 */
export function makePayload(bytes: number): { payload: Buffer; checksum: bigint } {
  const payload = Buffer.allocUnsafeSlow(bytes)
  const words = new Uint32Array(payload.buffer, payload.byteOffset, bytes >> 2)
  let x = 0x9e3779b9
  for (let i = 0; i < words.length; i++) {
    // xorshift32: cheap, and every word differs.
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    words[i] = x >>> 0
  }
  words[0] = 0
  return { payload, checksum: laneChecksum(payload) }
}

/** Writes the round stamp into a payload's first word. */
export function stamp(payload: Uint8Array, round: number): void {
  new Uint32Array(payload.buffer, payload.byteOffset, 1)[0] = round >>> 0
}

export function formatSize(bytes: number): string {
  if (bytes >= 1 << 20) return `${bytes / (1 << 20)} MiB`
  if (bytes >= 1 << 10) return `${bytes / (1 << 10)} KiB`
  return `${bytes} B`
}

export function formatRate(mbPerS: number): string {
  return mbPerS >= 1000 ? `${(mbPerS / 1000).toFixed(2)} GB/s` : `${mbPerS.toFixed(1)} MB/s`
}

export class ChecksumMismatch extends Error {
  constructor(transport: string, round: number, expected: bigint, got: bigint) {
    super(`${transport}: the reader's checksum for round ${round} is 0x${got.toString(16)}, expected 0x${expected.toString(16)}`)
    this.name = 'ChecksumMismatch'
  }
}
