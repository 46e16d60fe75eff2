// The lock is taken over from a dead owner only: never from a live one in
// another pid namespace, behind /proc hidepid, stopped, or in this very thread.
import t from 'tap'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { ManagedExternalBuffer, ManagedSharedMemory, t as types } from '@shmkit/named-store'
import { compiledFixture, segmentName } from './helpers/segments.js'

const SIZE = 1 << 20

interface Holder {
  child: ChildProcess
  done: Promise<void>
}

/** Starts the lock-holder fixture (through `prefix`, e.g. unshare) and resolves once it holds the lock. */
function holdLock(name: string, holdMs: number, prefix: string[] = []): Promise<Holder> {
  const argv = [...prefix, process.execPath, compiledFixture('lock-holder.js'), name, String(holdMs)]
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  const done = new Promise<void>((resolve) => child.on('close', () => resolve()))
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('locked\n')) resolve({ child, done })
    })
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()))
    child.on('close', (code) => reject(new Error(`holder exited (${code}) before it held the lock: ${err}`)))
  })
}

/** Runs the lock-waiter fixture (through `prefix`) and returns what it saw. */
function waitForLock(name: string, timeoutMs: number, prefix: string[] = []): { code: string; recoveries: number; sane: boolean } {
  const argv = [...prefix, process.execPath, compiledFixture('lock-waiter.js'), name, String(timeoutMs)]
  const run = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', timeout: 120_000 })
  const line = run.stdout.trim().split('\n').pop() ?? ''
  try {
    return JSON.parse(line) as { code: string; recoveries: number; sane: boolean }
  } catch {
    throw new Error(`waiter failed (${run.status} ${run.signal}): ${run.stdout} ${run.stderr}`)
  }
}

/** Why a command cannot run here (as root with namespaces), or undefined if it can. */
function cannotRun(argv: string[]): string | undefined {
  const run = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', timeout: 30_000 })
  if (run.status === 0) return undefined
  return `${argv.join(' ')} failed (${run.status}): ${(run.stderr || String(run.error)).trim()}`
}

t.test('two handles in one thread: the other handle gets EDEADLK, never a takeover', (t) => {
  const name = segmentName(t)
  const a = ManagedSharedMemory.create(name, SIZE)
  const b = ManagedSharedMemory.open(name, { lock: { timeoutMs: 5000 } })
  t.teardown(() => (a.close(), b.close()))
  a.withLock(() => {
    t.throws(() => b.construct('x', types.int32, 1), {
      name: 'ShmError',
      code: 'EDEADLK',
      message: /another handle opened in this same thread/,
    })
    t.throws(() => b.allocate(64), { code: 'EDEADLK' })
    a.construct('inside', types.int32, 7)
  })
  t.equal(a.lockRecoveries, 0, 'nobody took the live lock over')
  t.equal(b.find('x', types.int32), undefined, 'the refused construct left nothing')
  t.equal(b.find('inside', types.int32)?.value, 7)
  t.ok(b.construct('x', types.int32, 1), 'once released, the other handle works')
  t.ok(a.checkSanity())
  t.end()
})

t.test('a SIGKILLed owner is taken over and its work rolled back', async (t) => {
  const name = segmentName(t)
  const seg = ManagedSharedMemory.create(name, SIZE, { lock: { timeoutMs: 60_000 } })
  t.teardown(() => seg.close())
  const holder = await holdLock(name, 600_000)
  holder.child.kill('SIGKILL')
  await holder.done
  seg.construct('after', types.int32, 1)
  t.equal(seg.lockRecoveries, 1, 'the dead owner was detected and recovered once')
  t.ok(seg.checkSanity())
})

t.test('a SIGSTOPped owner is alive: never taken over', async (t) => {
  const name = segmentName(t)
  ManagedSharedMemory.create(name, SIZE).close()
  const holder = await holdLock(name, 600_000)
  t.teardown(() => {
    holder.child.kill('SIGCONT')
    holder.child.kill('SIGKILL')
  })
  holder.child.kill('SIGSTOP')
  const seen = waitForLock(name, 1500)
  t.same(seen, { code: 'ETIMEDOUT', recoveries: 0, sane: true })
})

const unshare = ['unshare', '-p', '-f', '--kill-child', '--mount-proc']
const noPidNamespace = cannotRun([...unshare, 'true'])
if (noPidNamespace !== undefined) console.log(`# skipping the pid namespace test: ${noPidNamespace}`)

t.test('an owner in another pid namespace is alive: never taken over', { skip: noPidNamespace ?? false }, async (t) => {
  const name = segmentName(t)
  ManagedSharedMemory.create(name, SIZE).close()

  // The owner inside a namespace, the waiter outside.
  const inside = await holdLock(name, 600_000, unshare)
  t.teardown(() => inside.child.kill('SIGKILL'))
  t.same(
    waitForLock(name, 1500),
    { code: 'ETIMEDOUT', recoveries: 0, sane: true },
    'the host does not take the lock from the namespaced owner',
  )
  inside.child.kill('SIGKILL')
  await inside.done

  // The owner outside, the waiter inside.
  const outside = await holdLock(name, 600_000)
  t.teardown(() => outside.child.kill('SIGKILL'))
  t.same(
    waitForLock(name, 1500, unshare),
    { code: 'ETIMEDOUT', recoveries: 0, sane: true },
    'the namespaced waiter does not take the lock from the host owner',
  )
  outside.child.kill('SIGKILL')
  await outside.done
  t.same(
    waitForLock(name, 30_000, unshare),
    { code: 'ok', recoveries: 1, sane: true },
    'a dead owner is still found from inside the namespace',
  )
})

const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']
const hidden = ['unshare', '-m', 'sh', '-c', 'mount -t proc -o hidepid=2 proc /proc && exec "$@"', 'sh', ...asNobody]
const noHidepid = cannotRun([...hidden, 'true'])
if (noHidepid !== undefined) console.log(`# skipping the hidepid test: ${noHidepid}`)

t.test('/proc hidepid=2 and another user: the owner is alive, never taken over', { skip: noHidepid ?? false }, async (t) => {
  const name = segmentName(t)
  ManagedSharedMemory.create(name, SIZE, { mode: 0o666 }).close()
  chmodSync(`/dev/shm/${name}`, 0o666)
  const holder = await holdLock(name, 600_000)
  t.teardown(() => holder.child.kill('SIGKILL'))
  t.same(
    waitForLock(name, 1500, hidden),
    { code: 'ETIMEDOUT', recoveries: 0, sane: true },
    "nobody cannot see root's process, and does not call it dead",
  )
  holder.child.kill('SIGKILL')
  await holder.done
  t.same(waitForLock(name, 30_000, hidden), { code: 'ok', recoveries: 1, sane: true }, 'a dead owner is still found')
})

t.test('close() inside withLock lets the lock go', (t) => {
  const name = segmentName(t)
  const seg = ManagedSharedMemory.create(name, SIZE)
  seg.withLock(() => {
    seg.construct('kept', types.int32, 5)
    seg.close()
  })
  t.same(waitForLock(name, 5000), { code: 'ok', recoveries: 0, sane: true }, 'another process gets the lock at once, without a takeover')
  t.throws(() => seg.construct('late', types.int32, 1), { code: 'ECLOSED' })
  const again = ManagedSharedMemory.open(name)
  t.equal(again.find('kept', types.int32)?.value, 5)
  again.close()
  t.end()
})

t.test('worker.terminate() while the worker holds the lock: the lock is taken over', async (t) => {
  const name = segmentName(t)
  const seg = ManagedSharedMemory.create(name, SIZE, { lock: { timeoutMs: 30_000 } })
  t.teardown(() => seg.close())
  const worker = new Worker(compiledFixture('worker-lock-holder.js'), { workerData: { name } })
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve())
    worker.once('error', reject)
  })
  await worker.terminate()
  seg.construct('after-worker', types.int32, 1)
  t.equal(seg.lockRecoveries, 1, "the terminated worker's lock was recovered")
  t.ok(seg.checkSanity())
})

t.test('worker.terminate() on a SharedArrayBuffer segment: the lock is taken over', async (t) => {
  const buffer = new SharedArrayBuffer(SIZE)
  const seg = new ManagedExternalBuffer(buffer, { lock: { timeoutMs: 30_000 } })
  t.teardown(() => seg.close())
  const worker = new Worker(compiledFixture('worker-lock-holder.js'), { workerData: { buffer } })
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve())
    worker.once('error', reject)
  })
  await worker.terminate()
  seg.construct('after-worker', types.int32, 1)
  t.equal(seg.lockRecoveries, 1, "the terminated worker's lock was recovered")
  t.ok(seg.checkSanity())
})
