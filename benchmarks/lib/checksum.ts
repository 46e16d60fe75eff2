/**
 * The proof every IPC benchmark reader gives that it holds the whole payload:
 * a checksum over every 8-byte word. Each word is taken as a pair of 32-bit
 * lanes (low, high) and each lane is summed modulo 2^32; the result packs the
 * high-lane sum above the low-lane sum. It is the sum of the 64-bit words
 * modulo 2^64 without the carries from low to high lane, which is what lets it
 * run on wrapping int32 additions at memory speed (about twice as fast as an
 * exact 64-bit sum in JavaScript, and 20 times as fast as BigUint64Array): a
 * slow checksum would measure the checksum, not the transport.
 *
 * Every reader runs this same function over the bytes it has: the shmkit
 * reader in place in the segment, the socket and channel readers over what
 * they received.
 */
export function laneChecksum(bytes: Uint8Array): bigint {
  if (bytes.byteLength % 8 !== 0) throw new RangeError(`laneChecksum: ${bytes.byteLength} bytes is not a whole number of 8-byte words`)
  const words = int32View(bytes)
  const [low, high] = sumLanes(words)
  return (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0)
}

/** The same checksum computed word by word with BigInt: the reference the fast one is tested against. */
export function laneChecksumReference(bytes: Uint8Array): bigint {
  if (bytes.byteLength % 8 !== 0)
    throw new RangeError(`laneChecksumReference: ${bytes.byteLength} bytes is not a whole number of 8-byte words`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let low = 0n
  let high = 0n
  for (let offset = 0; offset < bytes.byteLength; offset += 8) {
    low = (low + BigInt(view.getUint32(offset, true))) & 0xffffffffn
    high = (high + BigInt(view.getUint32(offset + 4, true))) & 0xffffffffn
  }
  return (high << 32n) | low
}

/**
 * The checksum of `base` after its first 32-bit word (initially zero) was
 * set to `stamp`: how a writer predicts what the reader must report for a
 * payload it stamped with its round number, without summing it again.
 */
export function stampedChecksum(base: bigint, stamp: number): bigint {
  const low = (base + BigInt(stamp >>> 0)) & 0xffffffffn
  return (base & 0xffffffff00000000n) | low
}

/**
 * Words are read as int32 in the machine's order; the lanes are defined
 * little-endian, which is every platform Node ships for but s390x.
 * Received bytes may start at any offset: those not 4-byte aligned are
 * copied once to an aligned buffer, as a reader would to parse them.
 */
function int32View(bytes: Uint8Array): Int32Array {
  if (bytes.byteOffset % 4 === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2)
  // new Uint8Array(x) copies (Buffer#slice would not), into a fresh, aligned ArrayBuffer.
  return new Int32Array(new Uint8Array(bytes).buffer)
}

/** Four accumulators (two per lane) let the CPU overlap the additions. */
function sumLanes(words: Int32Array): [number, number] {
  const n = words.length
  let low0 = 0
  let high0 = 0
  let low1 = 0
  let high1 = 0
  let i = 0
  for (; i + 3 < n; i += 4) {
    low0 = (low0 + (words[i] as number)) | 0
    high0 = (high0 + (words[i + 1] as number)) | 0
    low1 = (low1 + (words[i + 2] as number)) | 0
    high1 = (high1 + (words[i + 3] as number)) | 0
  }
  if (i < n) {
    low0 = (low0 + (words[i] as number)) | 0
    high0 = (high0 + (words[i + 1] as number)) | 0
  }
  return [(low0 + low1) | 0, (high0 + high1) | 0]
}
