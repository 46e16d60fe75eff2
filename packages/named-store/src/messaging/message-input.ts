import { invalidArgument, ShmError } from '@shmkit/errors'
import { z } from 'zod'
import { parseOptions } from '../managed/options.js'
import { MAX_PRIORITY } from './queue-layout.js'

const encoder = new TextEncoder()

/** What a message may be given as: bytes (a Uint8Array or Buffer, any other ArrayBuffer view, an ArrayBuffer) or a string (sent as UTF-8). */
export type MessageData = Uint8Array | ArrayBufferView | ArrayBuffer | string

/** The bytes of a message: a Uint8Array (or Buffer) as it is, another view over its bytes, a string as UTF-8. */
export function messageBytes(data: unknown, maxSize: number, target: string): Uint8Array {
  let bytes: Uint8Array
  if (data instanceof Uint8Array) bytes = data
  else if (typeof data === 'string') bytes = encoder.encode(data)
  else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  else if (data instanceof ArrayBuffer) bytes = new Uint8Array(data)
  else throw invalidArgument('data', data, 'a Uint8Array, another ArrayBuffer view, an ArrayBuffer or a string', { target })
  if (bytes.byteLength > maxSize) {
    throw new ShmError(
      'EMSGSIZE',
      `message of ${bytes.byteLength} bytes is larger than the ${maxSize} bytes ${target} allows per message`,
      {
        target,
        details: { size: bytes.byteLength, maxMessageSize: maxSize },
      },
    )
  }
  return bytes
}

export function checkPriority(priority: unknown, target: string): number {
  if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
    throw invalidArgument('priority', priority, `an integer from 0 to ${MAX_PRIORITY}`, { target })
  }
  return priority
}

export function checkTimeout(timeoutMs: unknown, target: string): number {
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0) || timeoutMs > 2 ** 31) {
    throw invalidArgument('timeoutMs', timeoutMs, `a number of milliseconds from 0 to ${2 ** 31}`, { target })
  }
  return timeoutMs
}

export function checkReceiveBuffer(into: unknown, target: string): Uint8Array | undefined {
  if (into === undefined || into instanceof Uint8Array) return into
  throw invalidArgument('into', into, 'a Uint8Array (or Buffer) to receive into', { target })
}

const abortSignal = z.custom<AbortSignal>((v) => v instanceof AbortSignal, { message: 'expected an AbortSignal' })
const timeout = z
  .number()
  .nonnegative()
  .max(2 ** 31)

const sendAsyncSchema = z
  .object({ priority: z.number().int().min(0).max(MAX_PRIORITY).optional(), timeoutMs: timeout.optional(), signal: abortSignal.optional() })
  .strict()
const receiveAsyncSchema = z
  .object({
    into: z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'expected a Uint8Array' }).optional(),
    timeoutMs: timeout.optional(),
    signal: abortSignal.optional(),
  })
  .strict()

/** Options of an async send: `priority`, `timeoutMs` and an abort `signal`. @useDeclaredType */
export type SendAsyncOptions = z.infer<typeof sendAsyncSchema>
/** Options of an async receive: a buffer to receive `into`, `timeoutMs` and an abort `signal`. @useDeclaredType */
export type ReceiveAsyncOptions = z.infer<typeof receiveAsyncSchema>

export function parseSendAsync(options: unknown, target: string): SendAsyncOptions {
  return parseOptions(sendAsyncSchema, options, 'options', target)
}
export function parseReceiveAsync(options: unknown, target: string): ReceiveAsyncOptions {
  return parseOptions(receiveAsyncSchema, options, 'options', target)
}
