// Use after close is an error, never a crash: the region's methods throw
// ECLOSED, and views taken before close() keep working on private zero pages.
// The views are exercised in child processes, so a SIGSEGV shows as a signal.
import t, { type Test } from 'tap'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { anonymousSharedMemory, MappedRegion, SharedMemoryObject, XsiSharedMemory, xsiKey } from '@shmkit/ffi-shm'
import { run, runFixture, shmName, uniqueName, type Result } from './helpers/run.js'

const SIZE = 3 * 4096 + 100

interface StaleReport {
  before: number
  after: number
  sum: number
  refused: string[]
  staleWord: number
  length: number
}

function staleReport(t: Test, r: Result): StaleReport {
  t.equal(r.signal, null, 'no signal killed the child')
  t.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as StaleReport
}

function checkStale(t: Test, report: StaleReport, object: Uint8Array): void {
  t.equal(report.before, 7, 'the child saw the shared bytes before close')
  t.equal(report.after, 0, 'a stale view reads zeros after close')
  t.equal(report.sum, 0, 'every stale byte reads zero')
  t.same(report.refused, ['ECLOSED', 'ECLOSED', 'ECLOSED'], 'buffer, address and flush are refused')
  t.equal(report.staleWord, 5, 'atomics on a stale view work (on the private page)')
  t.equal(report.length, SIZE, 'the stale buffer keeps its length (koffi views cannot be detached)')
  t.equal(object[1], 7, 'stale writes did not reach the object')
  t.equal(object[SIZE - 1], 7)
}

t.test('a closed region refuses every use; close is idempotent', async (t) => {
  const name = shmName(t)
  using shm = SharedMemoryObject.create(name)
  shm.truncate(4096)
  const region = new MappedRegion(shm)
  t.equal(region.closed, false)
  region.close()
  t.equal(region.closed, true)
  region.close()
  region[Symbol.dispose]()
  const closed = { name: 'ShmError', code: 'ECLOSED', message: new RegExp(`shared memory object "${name}" is closed`) }
  t.throws(() => region.buffer, closed)
  t.throws(() => region.address, closed)
  t.throws(() => region.flush(), closed)
  t.equal(region.size, 4096, 'plain facts stay readable')
})

t.test('closing the object does not unmap its regions', async (t) => {
  const name = shmName(t)
  const shm = SharedMemoryObject.create(name)
  shm.truncate(4096)
  using region = new MappedRegion(shm)
  shm.close()
  new Uint8Array(region.buffer)[0] = 9
  using again = SharedMemoryObject.open(name)
  using other = new MappedRegion(again)
  t.equal(new Uint8Array(other.buffer)[0], 9, 'the region still reaches the object')
})

t.test('stale views of a POSIX object', async (t) => {
  const name = shmName(t)
  using shm = SharedMemoryObject.create(name)
  shm.truncate(SIZE)
  using region = new MappedRegion(shm)
  const bytes = new Uint8Array(region.buffer).fill(7)
  checkStale(t, staleReport(t, await runFixture('stale-views.ts', ['shm', name])), bytes)
})

t.test('stale views of a mapped file', async (t) => {
  const path = join(tmpdir(), `${uniqueName()}.bin`)
  writeFileSync(path, Buffer.alloc(SIZE, 7))
  t.teardown(() => rmSync(path, { force: true }))
  checkStale(t, staleReport(t, await runFixture('stale-views.ts', ['file', path])), readFileSync(path))
})

t.test('stale views of anonymous memory', async (t) => {
  using mem = anonymousSharedMemory(SIZE)
  using region = new MappedRegion(mem)
  const bytes = new Uint8Array(region.buffer).fill(7)
  const r = await runFixture('stale-views.ts', ['anonymous'], { stdio: ['ignore', 'pipe', 'pipe', mem.fd] })
  checkStale(t, staleReport(t, r), bytes)
})

t.test('stale views of XSI memory, and close() detaches it', async (t) => {
  const key = xsiKey(fileURLToPath(import.meta.url), (process.pid % 200) + 3)
  try {
    XsiSharedMemory.remove(XsiSharedMemory.open(key).shmid)
  } catch {
    // no leftover from an earlier run
  }
  const xsi = XsiSharedMemory.create(key, SIZE)
  t.teardown(() => {
    XsiSharedMemory.remove(xsi.shmid)
  })
  const region = new MappedRegion(xsi)
  const bytes = new Uint8Array(region.buffer).fill(7)
  t.equal(attachments(xsi.shmid), 1)
  checkStale(t, staleReport(t, await runFixture('stale-views.ts', ['xsi', String(key)])), bytes)
  region.close()
  t.equal(attachments(xsi.shmid), 0, 'no process is attached any more')
  XsiSharedMemory.remove(xsi.shmid)
  t.equal(attachments(xsi.shmid), undefined, 'removed at once: nothing held it')
  t.equal(bytes[0], 0, 'the stale view now reads a private zero page')
})

t.test('regions dropped without close() are unmapped once collected', async (t) => {
  const name = shmName(t)
  using shm = SharedMemoryObject.create(name)
  shm.truncate(4096)
  const file = fileURLToPath(new URL('./fixtures/released-on-collect.ts', import.meta.url))
  const r = await run(process.execPath, ['--expose-gc', '--import', 'tsx', file, name])
  t.equal(r.signal, null)
  t.equal(r.code, 0, r.stderr)
  const { mapped, left } = JSON.parse(r.stdout) as { mapped: number; left: number }
  t.equal(mapped, 50, 'each region was its own mapping')
  t.equal(left, 0, 'all went back to the OS')
})

/** shm_nattch from /proc/sysvipc/shm; undefined once the segment is gone. */
function attachments(shmid: number): number | undefined {
  const [header = '', ...rows] = readFileSync('/proc/sysvipc/shm', 'latin1').trim().split('\n')
  const columns = header.trim().split(/\s+/)
  for (const row of rows) {
    const fields = row.trim().split(/\s+/)
    if (Number(fields[columns.indexOf('shmid')]) === shmid) return Number(fields[columns.indexOf('nattch')])
  }
  return undefined
}
