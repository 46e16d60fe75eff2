import { randomBytes } from 'node:crypto'
import { futexSupported, futexWait, futexWake, isProcessAlive, MappedRegion, SharedMemoryObject } from '@shmkit/ffi-shm'
import { ManagedSharedMemory, t } from '@shmkit/named-store'
import { laneChecksum, stampedChecksum } from './checksum.js'
import { ChecksumMismatch, makePayload, stamp, WINDOW } from './ipc-plan.js'
import { reap, spawnPeer } from './ipc-spawn.js'

/**
 * The shmkit transport: a managed segment holding two payload slots and a
 * control block, all named objects. The parent writes round r's payload into
 * slot r % 2 and bumps WRITTEN; the child checksums the slot in place (no
 * copy), stores the checksum next to it and bumps READ. Each side spins
 * briefly on the other's counter, then sleeps on it with a futex, so a small
 * payload costs about a microsecond and a large one no busy core.
 */
const Control = {
  WRITTEN: 0,
  READ: 1,
  /** 1 while the child sleeps on WRITTEN: the parent then wakes it. */
  CHILD_SLEEPING: 2,
  PARENT_SLEEPING: 3,
  STOP: 4,
  /** Checksum of the payload in slot s: words 8 + 2s (low lane) and 9 + 2s (high lane). */
  CHECKSUMS: 8,
} as const
const CONTROL_WORDS = 16
/**
 * Spin budget bounds, in Atomics.load calls (about 15 ns each here). The
 * budget adapts like glibc's adaptive mutex: it doubles when the wait ended
 * while spinning and halves when it had to sleep, so an idle machine gets
 * microsecond hand-offs and a busy one (where spinning steals the CPU the
 * peer needs) falls back to sleeping at once. Every PROBE_EVERY waits the
 * full budget is tried again, so a machine that quiets down is noticed.
 */
const MIN_SPINS = 16
const MAX_SPINS = 4096
const PROBE_EVERY = 64
const SLEEP_MS = 20

interface Mapping {
  control: Int32Array
  /** Byte offset of the control block in the segment, for futex addresses. */
  controlOffset: number
  slots: Uint8Array[]
  /** A second mapping of the same object: the futex calls need its address. */
  region: MappedRegion
  /** This side's current spin budget before sleeping, and how many waits it has done. */
  spins: number
  waits: number
}

function mapSegment(segment: ManagedSharedMemory, name: string): Mapping {
  const control = segment.findArray('control', t.int32)
  const slots = Array.from({ length: WINDOW }, (_, i) => segment.findArray(`slot${i}`, t.uint8)?.typed)
  if (control === undefined || slots.some((s) => s === undefined)) throw new Error(`segment ${name} lacks the benchmark's objects`)
  const object = SharedMemoryObject.open(name)
  try {
    return {
      control: control.typed,
      controlOffset: control.offset,
      slots: slots as Uint8Array[],
      region: new MappedRegion(object),
      spins: MAX_SPINS,
      waits: 0,
    }
  } finally {
    // The mapping keeps the object alive; the descriptor is not needed any more.
    object.close()
  }
}

/**
 * Waits while `control[index]` satisfies `busy`: spinning first, then
 * sleeping on the word. Bounded by `deadline` (performance.now() ms) and by
 * the peer staying alive.
 */
function waitWhile(
  m: Mapping,
  index: number,
  sleepingFlag: number,
  busy: (value: number) => boolean,
  deadline: number,
  peerPid: number,
  what: string,
): number {
  const control = m.control
  if (++m.waits % PROBE_EVERY === 0) m.spins = MAX_SPINS
  for (let spin = 0; spin < m.spins; spin++) {
    const value = Atomics.load(control, index)
    if (!busy(value)) {
      m.spins = Math.min(MAX_SPINS, m.spins * 2)
      return value
    }
  }
  m.spins = Math.max(MIN_SPINS, m.spins >> 1)
  for (;;) {
    Atomics.store(control, sleepingFlag, 1)
    const value = Atomics.load(control, index)
    if (!busy(value)) {
      Atomics.store(control, sleepingFlag, 0)
      return value
    }
    if (futexSupported) futexWait(m.region, m.controlOffset + index * 4, value, SLEEP_MS)
    else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1)
    Atomics.store(control, sleepingFlag, 0)
    if (performance.now() > deadline) throw new Error(`shmkit: ${what} for longer than the run's deadline`)
    if (!isProcessAlive(peerPid)) throw new Error(`shmkit: the peer (pid ${peerPid}) died while we waited ${what}`)
  }
}

function publish(m: Mapping, index: number, value: number, sleepingFlag: number): void {
  Atomics.store(m.control, index, value)
  if (Atomics.load(m.control, sleepingFlag) !== 0 && futexSupported) futexWake(m.region, m.controlOffset + index * 4, 1)
}

export interface ShmkitSession {
  run(rounds: number, deadline: number): void
  close(): Promise<void>
}

/** Creates the segment, starts the child reader, and returns the parent's side. */
export async function startShmkit(payloadBytes: number): Promise<ShmkitSession> {
  const name = `shmkit-bench-ipc-${process.pid}-${randomBytes(4).toString('hex')}`
  const { payload, checksum } = makePayload(payloadBytes)
  // Two slots, the control block, and room for the index and allocator headers.
  const segment = ManagedSharedMemory.create(name, WINDOW * payloadBytes + (1 << 20))
  let child: ReturnType<typeof spawnPeer> | undefined
  let mapping: Mapping | undefined
  try {
    segment.constructArray('control', t.int32, CONTROL_WORDS, 0)
    for (let i = 0; i < WINDOW; i++) segment.constructArray(`slot${i}`, t.uint8, payloadBytes, 0)
    mapping = mapSegment(segment, name)
    const m = mapping
    const spawned = spawnPeer('shmkit', [name, String(payloadBytes), String(process.pid)])
    child = spawned
    await new Promise<void>((resolve, reject) => {
      spawned.once('spawn', resolve)
      spawned.once('error', reject)
    })
    const childPid = spawned.pid as number
    let written = 0
    const verify = (round: number): void => {
      const slot = round % WINDOW
      const low = m.control[Control.CHECKSUMS + 2 * slot] ?? 0
      const high = m.control[Control.CHECKSUMS + 2 * slot + 1] ?? 0
      const got = (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0)
      const expected = stampedChecksum(checksum, round + 1)
      if (got !== expected) throw new ChecksumMismatch('shmkit', round, expected, got)
    }
    return {
      run(rounds: number, deadline: number): void {
        const end = written + rounds
        for (let round = written; round < end; round++) {
          // Slot round % 2 is free once the child has read round - 2.
          waitWhile(m, Control.READ, Control.PARENT_SLEEPING, (read) => round - read >= WINDOW, deadline, childPid, 'for a free slot')
          if (round >= WINDOW) verify(round - WINDOW)
          stamp(payload, round + 1)
          payload.copy(m.slots[round % WINDOW] as Uint8Array)
          publish(m, Control.WRITTEN, round + 1, Control.CHILD_SLEEPING)
        }
        waitWhile(m, Control.READ, Control.PARENT_SLEEPING, (read) => read < end, deadline, childPid, 'for the last payloads to be read')
        for (let round = Math.max(written, end - WINDOW); round < end; round++) verify(round)
        written = end
      },
      async close(): Promise<void> {
        // The child sleeps on WRITTEN, not on STOP: wake it there.
        Atomics.store(m.control, Control.STOP, 1)
        if (futexSupported) futexWake(m.region, m.controlOffset + Control.WRITTEN * 4, 1)
        await reap(spawned)
        m.region.close()
        segment.close()
        ManagedSharedMemory.remove(name)
      },
    }
  } catch (e) {
    child?.kill('SIGKILL')
    mapping?.region.close()
    segment.close()
    ManagedSharedMemory.remove(name)
    throw e
  }
}

/** The child's side: checksums each payload in place until told to stop. */
export function shmkitChild(name: string, payloadBytes: number, parentPid: number): void {
  const segment = ManagedSharedMemory.open(name)
  const m = mapSegment(segment, name)
  if ((m.slots[0]?.length ?? 0) !== payloadBytes) throw new Error(`slot size ${m.slots[0]?.length} != ${payloadBytes}`)
  // Only the parent's death or STOP ends the loop; the deadline is a backstop against a wedged parent.
  const deadline = performance.now() + 30 * 60 * 1000
  try {
    for (let round = 0; ; round++) {
      const written = waitWhile(
        m,
        Control.WRITTEN,
        Control.CHILD_SLEEPING,
        (w) => w <= round && Atomics.load(m.control, Control.STOP) === 0,
        deadline,
        parentPid,
        'for a payload',
      )
      if (written <= round) return // STOP
      const slot = round % WINDOW
      const sum = laneChecksum(m.slots[slot] as Uint8Array)
      m.control[Control.CHECKSUMS + 2 * slot] = Number(sum & 0xffffffffn) | 0
      m.control[Control.CHECKSUMS + 2 * slot + 1] = Number(sum >> 32n) | 0
      publish(m, Control.READ, round + 1, Control.PARENT_SLEEPING)
    }
  } finally {
    m.region.close()
    segment.close()
  }
}
