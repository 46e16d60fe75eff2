// The body of one waiter thread of the async wait engine. It runs in a
// worker started with `eval: true`, as the text of `waiterThreadMain`, so it
// must not use anything from this module's scope: everything it needs comes
// in `data` (koffi's path, the prototypes, the control block's address) and
// through `load` (the worker's own `require`).

/** What the engine hands its waiter thread. */
export interface WaiterThreadData {
  koffiPath: string
  libcName: string
  futexPrototype: string
  futexWaitvPrototype: string
  sysFutex: number
  sysFutexWaitv: number
  futexWait: number
  futex2SizeU32: number
  /** The control block: a private anonymous mapping of `controlBytes`, shared by address. */
  controlAddress: bigint
  controlBytes: number
  /** Words the thread waits on besides the control word: at most FUTEX_WAITV_MAX - 1. */
  slots: number
  /** Byte offset of slot 0; each slot is SLOT_BYTES. */
  slotsStart: number
  slotBytes: number
}

/** Word indexes in the control block. */
export const CONTROL_SEQUENCE = 0
export const CONTROL_STOP = 1
/** Per slot, as Int32 words from the slot's start: its registration id (0: free), the expected value, the address (a u64 at +8). */
export const SLOT_ID = 0
export const SLOT_EXPECTED = 1
export const SLOT_ADDRESS_BYTE = 8

interface KoffiLike {
  load(name: string): { func(prototype: string): (...args: unknown[]) => number }
  view(address: bigint, length: number): ArrayBuffer
  errno(): number
}

interface ParentPortLike {
  postMessage(message: unknown): void
}

/**
 * Waits, with futex_waitv, on the control word and every armed slot's word
 * at once; reports each slot whose word was woken or changed as [slot, id]
 * pairs to the parent, and never reads a watched word itself (the mapping may
 * be gone by then: the kernel answers EFAULT, a load would be SIGSEGV).
 */
export function waiterThreadMain(data: WaiterThreadData, load: (id: string) => unknown, port: ParentPortLike): void {
  // The layout constants again, as literals: this function runs without its module's scope.
  const CONTROL_SEQUENCE = 0
  const CONTROL_STOP = 1
  const SLOT_ID = 0
  const SLOT_EXPECTED = 1
  const SLOT_ADDRESS_BYTE = 8
  const koffi = load(data.koffiPath) as KoffiLike
  const libc = koffi.load(data.libcName)
  const futex = libc.func(data.futexPrototype)
  const futexWaitv = libc.func(data.futexWaitvPrototype)
  const control = new Int32Array(koffi.view(data.controlAddress, data.controlBytes))
  const controlView = new DataView(control.buffer)
  const entries = new Uint8Array(24 * (data.slots + 1))
  const entryView = new DataView(entries.buffer)
  const zero = new BigInt64Array(2)
  const ETIMEDOUT = 110
  /** Which slot each entry (after the control entry at 0) watches, and the id it was armed with. */
  const entrySlot = new Int32Array(data.slots + 1)
  const entryId = new Int32Array(data.slots + 1)
  /** The id last reported per slot: not watched again until the parent re-arms it. */
  const reported = new Int32Array(data.slots)

  const setEntry = (index: number, address: bigint, expected: number): void => {
    const at = index * 24
    entryView.setBigUint64(at, BigInt(expected >>> 0), true)
    entryView.setBigUint64(at + 8, address, true)
    entryView.setUint32(at + 16, data.futex2SizeU32, true)
    entryView.setUint32(at + 20, 0, true)
  }

  /** FUTEX_WAIT with a zero timeout: 'changed' if the word no longer holds `expected` (or cannot be read). */
  const probe = (address: bigint, expected: number): boolean => {
    if (futex(data.sysFutex, address, data.futexWait, expected | 0, zero, null, 0) === 0) return true
    const errno = koffi.errno()
    // EAGAIN: changed. EFAULT: no longer mapped, which the waiter must hear about too.
    return errno !== ETIMEDOUT && errno !== 4
  }

  for (;;) {
    if (Atomics.load(control, CONTROL_STOP) !== 0) return
    const sequence = Atomics.load(control, CONTROL_SEQUENCE)
    setEntry(0, data.controlAddress + BigInt(CONTROL_SEQUENCE * 4), sequence)
    let count = 1
    for (let slot = 0; slot < data.slots; slot++) {
      const base = (data.slotsStart + slot * data.slotBytes) >> 2
      const id = Atomics.load(control, base + SLOT_ID)
      if (id === 0 || reported[slot] === id) continue
      const expected = Atomics.load(control, base + SLOT_EXPECTED)
      const address = controlView.getBigUint64(data.slotsStart + slot * data.slotBytes + SLOT_ADDRESS_BYTE, true)
      // Read the id again: the parent writes id last, so an unchanged id means expected and address belong to it.
      if (Atomics.load(control, base + SLOT_ID) !== id) continue
      setEntry(count, address, expected)
      entrySlot[count] = slot
      entryId[count] = id
      count++
    }
    const woken = futexWaitv(data.sysFutexWaitv, entries, count, 0, null, 0)
    // The control word (a new registration) or an interrupted call: watch the new set.
    if (woken === 0 || (woken < 0 && koffi.errno() === 4)) continue
    if (woken < 0 && Atomics.load(control, CONTROL_SEQUENCE) !== sequence) continue
    // futex_waitv names only the last of several words woken at once, and
    // EAGAIN (a word had changed before sleeping) names none: probe the rest.
    const fired: number[] = []
    for (let i = 1; i < count; i++) {
      const address = entryView.getBigUint64(i * 24 + 8, true)
      const expected = Number(entryView.getBigUint64(i * 24, true))
      if (i === woken || probe(address, expected)) {
        const slot = entrySlot[i] as number
        reported[slot] = entryId[i] as number
        fired.push(slot, entryId[i] as number)
      }
    }
    if (fired.length > 0) port.postMessage(fired)
  }
}
