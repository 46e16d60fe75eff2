import { laneChecksum, stampedChecksum } from './checksum.js'
import { ChecksumMismatch, makePayload, stamp, WINDOW } from './ipc-plan.js'
import type { AsyncSession } from './ipc-socket.js'
import { reap, spawnPeer, unlessChildDies, withDeadline } from './ipc-spawn.js'

/**
 * The child_process IPC channel with `serialization: 'advanced'`: the parent
 * sends the payload Buffer with `child.send`, at most two ahead; the child
 * checksums the Buffer it received and sends the checksum back.
 */
export async function startChannel(payloadBytes: number): Promise<AsyncSession> {
  const { payload, checksum } = makePayload(payloadBytes)
  const child = spawnPeer('channel', [String(payloadBytes)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' })
  await withDeadline(
    unlessChildDies(child, new Promise<void>((resolve) => child.once('message', () => resolve())), 'child_process IPC'),
    60,
    'child_process IPC: waiting for the child to start',
  ).catch((e: unknown) => {
    child.kill('SIGKILL')
    throw e
  })
  let sent = 0
  let acked = 0
  let onAck: (() => void) | undefined
  let failure: Error | undefined
  child.on('message', (message: unknown) => {
    const expected = stampedChecksum(checksum, acked + 1)
    const got = typeof message === 'string' && /^[0-9a-f]+$/.test(message) ? BigInt(`0x${message}`) : -1n
    if (got !== expected && failure === undefined) failure = new ChecksumMismatch('child_process IPC', acked, expected, got)
    acked++
    onAck?.()
  })
  return {
    async run(rounds: number, deadlineSeconds: number): Promise<void> {
      const end = sent + rounds
      const done = new Promise<void>((resolve, reject) => {
        onAck = () => {
          if (failure !== undefined) return reject(failure)
          while (sent < end && sent - acked < WINDOW) {
            // send() serialises the Buffer at once: stamping the next round cannot reach this one.
            stamp(payload, sent + 1)
            child.send(payload)
            sent++
          }
          if (acked >= end) resolve()
        }
        onAck()
      })
      try {
        await withDeadline(unlessChildDies(child, done, 'child_process IPC'), deadlineSeconds, 'child_process IPC')
      } finally {
        onAck = undefined
      }
    },
    async close(): Promise<void> {
      if (child.connected) child.disconnect()
      await reap(child)
    },
  }
}

/** The child's side: checksum every Buffer received; the parent disconnecting ends it. */
export function channelChild(payloadBytes: number): void {
  const send = process.send?.bind(process)
  if (send === undefined) throw new Error('channel child started without an IPC channel')
  process.on('message', (message: unknown) => {
    if (!(message instanceof Uint8Array) || message.byteLength !== payloadBytes) {
      process.stderr.write(`channel child: expected a ${payloadBytes}-byte Buffer\n`)
      process.exit(1)
    }
    // The channel's send() takes no bigint, even with advanced serialization.
    send(laneChecksum(message).toString(16))
  })
  process.on('disconnect', () => process.exit(0))
  send('ready')
}
