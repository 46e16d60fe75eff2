import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { laneChecksum, stampedChecksum } from './checksum.js'
import { ChecksumMismatch, makePayload, stamp, WINDOW } from './ipc-plan.js'
import { reap, spawnPeer, unlessChildDies, withDeadline } from './ipc-spawn.js'

/** An acknowledgement: the reader's checksum, two little-endian 32-bit lanes. */
const ACK_BYTES = 8

export interface AsyncSession {
  run(rounds: number, deadlineSeconds: number): Promise<void>
  close(): Promise<void>
}

/**
 * The Unix domain socket transport: the parent streams raw payload bytes,
 * at most two payloads ahead of the child's acknowledgements; the child
 * gathers each payload into one buffer (what a reader needs to parse it),
 * checksums it and answers with the checksum.
 */
export async function startSocket(payloadBytes: number): Promise<AsyncSession> {
  const path = join(tmpdir(), `shmkit-bench-${process.pid}-${randomBytes(4).toString('hex')}.sock`)
  const { payload, checksum } = makePayload(payloadBytes)
  // One buffer per payload in flight: a queued write still references its buffer.
  const sources = [payload, ...Array.from({ length: WINDOW - 1 }, () => Buffer.from(payload))]
  const server: Server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, resolve)
  })
  const child = spawnPeer('socket', [path, String(payloadBytes)])
  const cleanup = (): void => {
    server.close()
    rmSync(path, { force: true })
  }
  let socket: Socket
  try {
    socket = await withDeadline(
      unlessChildDies(child, new Promise<Socket>((resolve) => server.once('connection', resolve)), 'socket'),
      60,
      'socket: waiting for the child to connect',
    )
  } catch (e) {
    child.kill('SIGKILL')
    cleanup()
    throw e
  }
  socket.setNoDelay(true)
  let sent = 0
  let acked = 0
  let pending: Buffer = Buffer.alloc(0)
  let onAck: (() => void) | undefined
  let failure: Error | undefined
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    while (pending.length >= ACK_BYTES) {
      const got = (BigInt(pending.readUInt32LE(4)) << 32n) | BigInt(pending.readUInt32LE(0))
      pending = pending.subarray(ACK_BYTES)
      const expected = stampedChecksum(checksum, acked + 1)
      if (got !== expected && failure === undefined) failure = new ChecksumMismatch('unix socket', acked, expected, got)
      acked++
    }
    onAck?.()
  })
  const send = (): void => {
    const source = sources[sent % WINDOW] as Buffer
    stamp(source, sent + 1)
    socket.write(source)
    sent++
  }
  return {
    async run(rounds: number, deadlineSeconds: number): Promise<void> {
      const end = sent + rounds
      const done = new Promise<void>((resolve, reject) => {
        onAck = () => {
          if (failure !== undefined) return reject(failure)
          while (sent < end && sent - acked < WINDOW) send()
          if (acked >= end) resolve()
        }
        onAck()
      })
      try {
        await withDeadline(unlessChildDies(child, done, 'unix socket'), deadlineSeconds, 'unix socket')
      } finally {
        onAck = undefined
      }
    },
    async close(): Promise<void> {
      socket.end()
      await reap(child)
      socket.destroy()
      cleanup()
    },
  }
}

/** The child's side: reassemble, checksum, acknowledge, until the parent hangs up. */
export function socketChild(path: string, payloadBytes: number): void {
  const received = Buffer.allocUnsafeSlow(payloadBytes)
  let filled = 0
  const socket = connect(path)
  socket.setNoDelay(true)
  socket.on('data', (chunk: Buffer) => {
    let offset = 0
    while (offset < chunk.length) {
      const take = Math.min(chunk.length - offset, payloadBytes - filled)
      chunk.copy(received, filled, offset, offset + take)
      filled += take
      offset += take
      if (filled === payloadBytes) {
        const sum = laneChecksum(received)
        const ack = Buffer.allocUnsafe(ACK_BYTES)
        ack.writeUInt32LE(Number(sum & 0xffffffffn), 0)
        ack.writeUInt32LE(Number(sum >> 32n), 4)
        socket.write(ack)
        filled = 0
      }
    }
  })
  socket.on('end', () => socket.end())
  socket.on('error', () => process.exit(1))
}
