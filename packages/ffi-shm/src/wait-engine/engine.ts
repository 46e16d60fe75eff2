import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { ShmError } from '@shmkit/errors'
import {
  FUTEX2_SIZE_U32,
  FUTEX_PROTOTYPE,
  FUTEX_WAIT,
  FUTEX_WAITV_MAX,
  FUTEX_WAITV_PROTOTYPE,
  MAP_ANONYMOUS,
  MAP_FAILED,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
  posix,
  SYS_FUTEX,
  SYS_FUTEX_WAITV,
  viewAt,
} from '../bindings/posix.js'
import { errnoName } from '../errors.js'
import {
  CONTROL_SEQUENCE,
  CONTROL_STOP,
  SLOT_ADDRESS_BYTE,
  SLOT_EXPECTED,
  SLOT_ID,
  waiterThreadMain,
  type WaiterThreadData,
} from './waiter-thread.js'

/** How an async wait ended: the word was woken (or had changed), or the time ran out. */
export type AsyncWaitResult = 'woken' | 'timeout'

/** What every async wait accepts. */
export interface AsyncWaitOptions {
  /** Resolve with 'timeout' after this many milliseconds (default: no limit). */
  timeoutMs?: number
  /** Reject with ShmError EABORTED (the signal's reason as `cause`) when it aborts. */
  signal?: AbortSignal
}

const SLOTS_PER_THREAD = FUTEX_WAITV_MAX - 1
const SLOTS_START = 64
const SLOT_BYTES = 16
const CONTROL_BYTES = SLOTS_START + SLOTS_PER_THREAD * SLOT_BYTES
/**
 * Each waiter thread watches 127 distinct words: this many threads (508
 * words), then further words are polled. A thread is a V8 isolate: starting
 * one costs the event loop ~5-30 ms here, and memory.
 */
export const MAX_WAITER_THREADS = 4

interface Pending {
  resolve(result: AsyncWaitResult): void
  reject(error: unknown): void
  timer: NodeJS.Timeout | undefined
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
  slot: Slot | undefined
}

interface Slot {
  thread: WaiterThread
  index: number
  id: number
  key: string
  waiters: Set<Pending>
}

/** One worker blocked in futex_waitv over up to 127 registered words and its control word. */
class WaiterThread {
  readonly slots: (Slot | undefined)[] = new Array<Slot | undefined>(SLOTS_PER_THREAD).fill(undefined)
  readonly free: number[] = []
  private readonly control: Int32Array
  private readonly controlView: DataView
  private readonly worker: Worker
  private readonly controlAddress: bigint
  private refs = 0
  private kickQueued = false

  constructor(private readonly onFired: (thread: WaiterThread, pairs: number[]) => void) {
    const p = posix()
    // A mapping no one ever unmaps: the thread may read it until the process ends.
    const address = p.mmap(null, CONTROL_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
    if (address === MAP_FAILED)
      throw new ShmError(errnoName(p.errno()), 'mmap of the wait engine control block failed', { syscall: 'mmap' })
    this.controlAddress = address
    this.control = new Int32Array(viewAt(address, CONTROL_BYTES))
    this.controlView = new DataView(this.control.buffer)
    for (let i = SLOTS_PER_THREAD - 1; i >= 0; i--) this.free.push(i)
    const data: WaiterThreadData = {
      koffiPath: createRequire(import.meta.url).resolve('koffi'),
      libcName: 'libc.so.6',
      futexPrototype: FUTEX_PROTOTYPE,
      futexWaitvPrototype: FUTEX_WAITV_PROTOTYPE,
      sysFutex: SYS_FUTEX[process.arch] as number,
      sysFutexWaitv: SYS_FUTEX_WAITV,
      futexWait: FUTEX_WAIT,
      futex2SizeU32: FUTEX2_SIZE_U32,
      controlAddress: address,
      controlBytes: CONTROL_BYTES,
      slots: SLOTS_PER_THREAD,
      slotsStart: SLOTS_START,
      slotBytes: SLOT_BYTES,
    }
    const source = `const { workerData, parentPort } = require('node:worker_threads');\n(${waiterThreadMain.toString()})(workerData, require, parentPort)`
    // No --import hooks (tsx) in the thread: its body is plain JavaScript.
    this.worker = new Worker(source, { eval: true, workerData: data, execArgv: [], stdout: false, stderr: false })
    this.worker.on('message', (pairs: number[]) => this.onFired(this, pairs))
    this.worker.on('error', (error) => {
      process.emitWarning(`shmkit wait engine thread failed: ${String(error)}`)
    })
    this.worker.unref()
    liveThreads.add(this)
    if (!exitHooked) {
      exitHooked = true
      process.on('exit', stopLiveThreads)
    }
  }

  arm(index: number, id: number, address: bigint, expected: number): void {
    const base = SLOTS_START + index * SLOT_BYTES
    Atomics.store(this.control, (base >> 2) + SLOT_EXPECTED, expected | 0)
    this.controlView.setBigUint64(base + SLOT_ADDRESS_BYTE, address, true)
    Atomics.store(this.control, (base >> 2) + SLOT_ID, id)
    // One wake of the thread per tick, however many waits were registered in it.
    if (!this.kickQueued) {
      this.kickQueued = true
      queueMicrotask(() => {
        this.kickQueued = false
        this.kick()
      })
    }
  }

  /** Lazily: the thread may keep watching the old word until its next pass, and its report is then ignored. */
  disarm(index: number): void {
    Atomics.store(this.control, ((SLOTS_START + index * SLOT_BYTES) >> 2) + SLOT_ID, 0)
  }

  private kick(): void {
    Atomics.add(this.control, CONTROL_SEQUENCE, 1)
    wakeAddress(this.controlAddress + BigInt(CONTROL_SEQUENCE * 4), 1)
  }

  /** The thread keeps the process alive only while someone awaits a wait. */
  ref(delta: number): void {
    const before = this.refs
    this.refs += delta
    if (before === 0 && this.refs > 0) this.worker.ref()
    else if (before > 0 && this.refs === 0) this.worker.unref()
  }

  /** Tells the thread to return from its wait and end (synchronous: usable in an 'exit' handler). */
  stopNow(): void {
    liveThreads.delete(this)
    Atomics.store(this.control, CONTROL_STOP, 1)
    this.kick()
  }

  stop(): Promise<number> {
    this.stopNow()
    return this.worker.terminate()
  }
}

/**
 * Threads not yet stopped. At exit Node joins every worker thread, and a
 * waiter blocked in futex_waitv is native code that terminate() cannot
 * interrupt: without a wake-up on 'exit', every process that ever awaited a
 * wait would hang as it exits.
 */
const liveThreads = new Set<WaiterThread>()
let exitHooked = false

function stopLiveThreads(): void {
  for (const thread of [...liveThreads]) thread.stopNow()
}

const timespec = new BigInt64Array(2)

function wakeAddress(address: bigint, count: number): number {
  return posix().syscall6(SYS_FUTEX[process.arch] as number, address, 1, count, null, null, 0)
}

/** FUTEX_WAIT for 0 ns: whether the word still holds `expected` (false also for an unmapped word). */
function stillEqual(address: bigint, expected: number): boolean {
  timespec[0] = 0n
  timespec[1] = 0n
  const p = posix()
  if (p.syscall6(SYS_FUTEX[process.arch] as number, address, FUTEX_WAIT, expected | 0, timespec, null, 0) === 0) return false
  return errnoName(p.errno()) === 'ETIMEDOUT'
}

/**
 * The async wait engine: waits on futex words in shared mappings without
 * blocking the event loop or libuv's thread pool. Waits on the same word and
 * value share one slot; each waiter thread watches 127 words with one
 * futex_waitv call; past MAX_WAITER_THREADS threads, further words are polled
 * (every 1 to 16 ms) instead of refused.
 */
export class FutexWaitEngine {
  private readonly threads: WaiterThread[] = []
  private readonly byKey = new Map<string, Slot>()
  private nextId = 1
  /** Waits currently pending, for tests and diagnostics. */
  pending = 0

  /**
   * Waits on the word at `address` (in a shared mapping of this process).
   * `read`, when given, loads the word (polling uses it instead of a system
   * call; it may throw once the memory is gone, which ends the wait as 'woken').
   */
  waitAsync(address: bigint, expected: number, options: AsyncWaitOptions = {}, read?: () => number): Promise<AsyncWaitResult> {
    const { timeoutMs, signal } = options
    if (signal?.aborted) return Promise.reject(abortError(signal))
    if (timeoutMs === 0) return Promise.resolve(stillEqual(address, expected) ? 'timeout' : 'woken')
    return new Promise<AsyncWaitResult>((resolve, reject) => {
      const pending: Pending = { resolve, reject, timer: undefined, signal, onAbort: undefined, slot: undefined }
      this.pending++
      if (timeoutMs !== undefined) pending.timer = setTimeout(() => this.settle(pending, 'timeout'), timeoutMs)
      if (signal !== undefined) {
        pending.onAbort = () => this.fail(pending, abortError(signal))
        signal.addEventListener('abort', pending.onAbort, { once: true })
      }
      const key = `${address}:${expected | 0}`
      let slot = this.byKey.get(key)
      if (slot === undefined) slot = this.allocate(key, address, expected)
      if (slot === undefined) {
        this.poll(pending, read ?? (() => (stillEqual(address, expected) ? expected : ~expected)), expected, 1)
        return
      }
      pending.slot = slot
      slot.waiters.add(pending)
      slot.thread.ref(1)
    })
  }

  /** Stops the waiter threads (pending waits time out or abort as usual; new ones start threads again). */
  async close(): Promise<void> {
    const threads = this.threads.splice(0)
    await Promise.all(threads.map((thread) => thread.stop()))
  }

  private allocate(key: string, address: bigint, expected: number): Slot | undefined {
    let thread = this.threads.find((candidate) => candidate.free.length > 0)
    if (thread === undefined) {
      if (this.threads.length >= MAX_WAITER_THREADS) return undefined
      thread = new WaiterThread((t, pairs) => this.fired(t, pairs))
      this.threads.push(thread)
    }
    const index = thread.free.pop() as number
    const id = this.nextId
    this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1
    const slot: Slot = { thread, index, id, key, waiters: new Set() }
    thread.slots[index] = slot
    this.byKey.set(key, slot)
    thread.arm(index, id, address, expected)
    return slot
  }

  private release(slot: Slot): void {
    if (slot.thread.slots[slot.index] !== slot) return
    slot.thread.slots[slot.index] = undefined
    slot.thread.disarm(slot.index)
    slot.thread.free.push(slot.index)
    this.byKey.delete(slot.key)
  }

  private fired(thread: WaiterThread, pairs: number[]): void {
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const slot = thread.slots[pairs[i] as number]
      if (slot === undefined || slot.id !== pairs[i + 1]) continue
      this.release(slot)
      for (const pending of slot.waiters) this.settle(pending, 'woken')
    }
  }

  private poll(pending: Pending, read: () => number, expected: number, delayMs: number): void {
    const changed = (): boolean => {
      try {
        return read() !== (expected | 0)
      } catch {
        return true
      }
    }
    const check = (): void => {
      if (!this.isPending(pending)) return
      if (changed()) {
        this.settle(pending, 'woken')
        return
      }
      delayMs *= 2
      setTimeout(check, Math.min(delayMs, 16))
    }
    pendingPolls.add(pending)
    setTimeout(check, delayMs)
  }

  private isPending(pending: Pending): boolean {
    return pendingPolls.has(pending) || pending.slot?.waiters.has(pending) === true
  }

  private detach(pending: Pending): boolean {
    const slot = pending.slot
    let was = pendingPolls.delete(pending)
    if (slot?.waiters.delete(pending)) {
      was = true
      slot.thread.ref(-1)
      if (slot.waiters.size === 0) this.release(slot)
    }
    if (!was) return false
    this.pending--
    if (pending.timer !== undefined) clearTimeout(pending.timer)
    if (pending.signal !== undefined && pending.onAbort !== undefined) pending.signal.removeEventListener('abort', pending.onAbort)
    return true
  }

  private settle(pending: Pending, result: AsyncWaitResult): void {
    if (this.detach(pending)) pending.resolve(result)
  }

  private fail(pending: Pending, error: unknown): void {
    if (this.detach(pending)) pending.reject(error)
  }
}

const pendingPolls = new Set<Pending>()

/** The EABORTED every async wait rejects with when its signal aborts. */
export function abortError(signal: AbortSignal): ShmError {
  return new ShmError('EABORTED', 'the wait was aborted', { cause: signal.reason })
}

let engine: FutexWaitEngine | undefined

/** This thread's engine, started on first use. */
export function waitEngine(): FutexWaitEngine {
  engine ??= new FutexWaitEngine()
  return engine
}
