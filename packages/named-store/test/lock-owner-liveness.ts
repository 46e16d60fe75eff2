// The segment lock's verdict on a lock word left by another process, with the
// process checks faked: only an owner the OS says is gone is taken over.
import t from 'tap'
import { SegmentLock, type ProcessIdentity } from '../src/segment/lock.js'
import { SegmentHeader } from '../src/segment/header.js'
import { SleepWaiter } from '../src/segment/waiters.js'

const LOCK = SegmentHeader.LOCK_WORD >> 2
const OWNER_PID = 12345
const OWNER_TAG = 77

function lockHeldBy(ownerWord: number, other: { alive: boolean; start: number | 'gone' | 'unknown' }): { lock: SegmentLock; i32: Int32Array; recoveries: () => number } {
  let recoveries = 0
  const i32 = new Int32Array(new SharedArrayBuffer(4096))
  i32[LOCK] = ownerWord
  const identity: ProcessIdentity = {
    pid: 999,
    startTag: 5,
    thread: 1,
    isAlive: () => other.alive,
    startTagOf: () => other.start,
  }
  const lock = new SegmentLock(i32, new SleepWaiter(), identity, () => void recoveries++, 'test segment', { timeoutMs: 200, ownerCheckMs: 5 })
  return { lock, i32, recoveries: () => recoveries }
}

const word = (pid: number, tag: number): number => pid | (tag << 22)

t.test('an owner whose start time cannot be read is alive: no takeover, ETIMEDOUT', async (t) => {
  const { lock, recoveries } = lockHeldBy(word(OWNER_PID, OWNER_TAG), { alive: true, start: 'unknown' })
  t.throws(() => lock.acquire(), { name: 'ShmError', code: 'ETIMEDOUT', message: /held by pid 12345/ })
  t.equal(recoveries(), 0)
})

t.test('an owner the OS says is gone is taken over', async (t) => {
  const { lock, i32, recoveries } = lockHeldBy(word(OWNER_PID, OWNER_TAG), { alive: true, start: 'gone' })
  lock.acquire()
  t.equal(recoveries(), 1)
  t.equal(i32[LOCK]! & ((1 << 22) - 1), 999, 'the word now names us')
  lock.release()
})

t.test('a recycled pid (another start time) is taken over; the same start time is not', async (t) => {
  const recycled = lockHeldBy(word(OWNER_PID, OWNER_TAG), { alive: true, start: OWNER_TAG + 1 })
  recycled.lock.acquire()
  t.equal(recycled.recoveries(), 1)
  const same = lockHeldBy(word(OWNER_PID, OWNER_TAG), { alive: true, start: OWNER_TAG })
  t.throws(() => same.lock.acquire(), { code: 'ETIMEDOUT' })
})

t.test('a pid too large for the word (Windows) is stored as the mask and never taken over', async (t) => {
  const i32 = new Int32Array(new SharedArrayBuffer(4096))
  const big: ProcessIdentity = { pid: 5_000_000, startTag: 5, thread: 1, isAlive: () => true, startTagOf: () => 5 }
  const owner = new SegmentLock(i32, new SleepWaiter(), big, () => {}, 'test segment')
  owner.acquire()
  t.equal(i32[LOCK]! & ((1 << 22) - 1), (1 << 22) - 1, 'stored as PID_MASK, not as 5,000,000 truncated')
  // Another process whose checks would call the truncated pid dead:
  const waiter = lockHeldBy(i32[LOCK]!, { alive: false, start: 'gone' })
  t.throws(() => waiter.lock.acquire(), { code: 'ETIMEDOUT' }, 'an owner that cannot be checked is waited for')
})
