import { ShmError } from '@shmkit/errors'
import { kernel32, WAIT_OBJECT_0, WAIT_TIMEOUT } from './bindings/windows.js'
import { closedError, windowsError } from './errors.js'
import { selectBackend } from './platform.js'
import { checkName } from './validate.js'

/** Longest single wait: below INFINITE (0xffffffff), which would never time out. */
const MAX_WAIT_MS = 0xfffffffe

/**
 * A named Windows auto-reset event (CreateEventW), shared by every process
 * that opens the same name in the session: `signal` releases one waiter, or
 * the next one to wait if nobody waits yet. It is how a process blocks until
 * another one says so on Windows, where WaitOnAddress (the futex) only sees
 * its own process.
 */
export class WindowsNamedEvent {
  #handle: bigint
  readonly name: string

  private constructor(name: string, handle: bigint) {
    this.name = name
    this.#handle = handle
  }

  /** Opens the event `name` (in the session's `Local\` namespace), creating it if needed. */
  static open(name: string): WindowsNamedEvent {
    checkName(name)
    if (selectBackend() !== 'windows')
      throw new ShmError('ENOTSUP', `Windows event "${name}": named events exist only on Windows (this is ${process.platform})`)
    const k = kernel32()
    const handle = k.CreateEventW(null, false, false, `Local\\${name}`)
    if (handle === null || handle === 0n) throw windowsError('CreateEventW', k.GetLastError(), `Windows event "${name}"`)
    return new WindowsNamedEvent(name, handle)
  }

  /** Blocks until signaled or `timeoutMs` passed. */
  wait(timeoutMs: number): 'signaled' | 'timeout' {
    const k = kernel32()
    const result = k.WaitForSingleObject(this.#open(), Math.max(0, Math.min(MAX_WAIT_MS, Math.ceil(timeoutMs))))
    if (result === WAIT_OBJECT_0) return 'signaled'
    if (result === WAIT_TIMEOUT) return 'timeout'
    throw windowsError('WaitForSingleObject', k.GetLastError(), `Windows event "${this.name}"`)
  }

  /** Sets the event: releases one waiter, or the next one to wait if nobody waits yet. */
  signal(): void {
    const k = kernel32()
    if (!k.SetEvent(this.#open())) throw windowsError('SetEvent', k.GetLastError(), `Windows event "${this.name}"`)
  }

  /** Closes this process's handle to the event. Idempotent. */
  close(): void {
    if (this.#handle === 0n) return
    kernel32().CloseHandle(this.#handle)
    this.#handle = 0n
  }

  /** Same as close(). */
  [Symbol.dispose](): void {
    this.close()
  }

  #open(): bigint {
    if (this.#handle === 0n) throw closedError(`Windows event "${this.name}"`)
    return this.#handle
  }
}
