// What another local user can try: squatting a name before us, planting a
// symlink where we create a file.
import t from 'tap'
import { spawn } from 'node:child_process'
import { chmodSync, chownSync, readFileSync, symlinkSync, writeFileSync, rmSync } from 'node:fs'
import { ManagedMappedFile, ManagedSharedMemory, t as types } from '@shmkit/named-store'
import { segmentName, tempPath } from './helpers/segments.js'

const SIZE = 1 << 20
const err = (code: string, message?: RegExp) => (message === undefined ? { name: 'ShmError', code } : { name: 'ShmError', code, message })
const isRoot = process.geteuid?.() === 0

t.test('openOrCreate refuses a squatted segment with a wider mode, unless trusted', (t) => {
  const name = segmentName(t)
  ManagedSharedMemory.create(name, SIZE, { mode: 0o666 }).close()
  t.throws(() => ManagedSharedMemory.openOrCreate(name, SIZE), err('EACCES', /mode 0o666, wider than the 0o600 asked for/))
  const trusted = ManagedSharedMemory.openOrCreate(name, SIZE, { trustExisting: true })
  trusted.close()
  const asked = ManagedSharedMemory.openOrCreate(name, SIZE, { mode: 0o666 })
  asked.close()
  ManagedSharedMemory.open(name).close()
  t.end()
})

t.test('openOrCreate refuses a segment another user owns, unless trusted', { skip: isRoot ? false : 'needs root to chown' }, (t) => {
  const name = segmentName(t)
  ManagedSharedMemory.create(name, SIZE).close()
  chownSync(`/dev/shm/${name}`, 65534, 65534)
  t.throws(() => ManagedSharedMemory.openOrCreate(name, SIZE), err('EACCES', /belongs to uid 65534/))
  ManagedSharedMemory.openOrCreate(name, SIZE, { trustExisting: true }).close()

  const path = tempPath(t)
  ManagedMappedFile.create(path, SIZE).close()
  chownSync(path, 65534, 65534)
  t.throws(() => ManagedMappedFile.openOrCreate(path, SIZE), err('EACCES', /belongs to uid 65534/))
  chownSync(path, 0, 0)
  chmodSync(path, 0o644)
  t.throws(() => ManagedMappedFile.openOrCreate(path, SIZE), err('EACCES', /mode 0o644/))
  ManagedMappedFile.openOrCreate(path, SIZE, { trustExisting: true }).close()
  t.end()
})

t.test('ManagedMappedFile.create never follows a symlink planted at the path', (t) => {
  const path = tempPath(t)
  const victim = tempPath(t, 'victim')
  const content = Buffer.alloc(SIZE, 7)
  writeFileSync(victim, content, { mode: 0o600 })
  symlinkSync(victim, path)
  t.throws(() => ManagedMappedFile.create(path, SIZE), err('EEXIST'))
  t.same(readFileSync(victim).equals(content), true, 'the victim is untouched')
  rmSync(path)
  const seg = ManagedMappedFile.create(path, SIZE)
  seg.construct('x', types.int32, 1)
  seg.close()
  t.same(readFileSync(victim).equals(content), true)
  t.end()
})

t.test('ManagedMappedFile.create never formats a symlink swapped in while it runs', async (t) => {
  // Another process replaces the path with a symlink to a victim file as fast as it can:
  // between create's O_EXCL open and its sizing and formatting, the name may point anywhere.
  // create works on the descriptor O_EXCL gave it, so the victim must stay as it was.
  const path = tempPath(t)
  const victim = tempPath(t, 'victim')
  const content = Buffer.alloc(SIZE, 7)
  writeFileSync(victim, content, { mode: 0o600 })
  const attacker = spawn(
    process.execPath,
    [
      '-e',
      `const fs = require('node:fs'); const [path, victim] = process.argv.slice(1); const end = Date.now() + 60000; let swaps = 0
       while (Date.now() < end) {
         try { fs.unlinkSync(path) } catch {}
         try { fs.symlinkSync(victim, path); swaps++ } catch {}
         if ((swaps & 1023) === 0 && fs.existsSync(path + '.stop')) break
       }
       process.stdout.write(String(swaps))`,
      path,
      victim,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let swaps = ''
  attacker.stdout.on('data', (d: Buffer) => (swaps += d.toString()))
  const exited = new Promise((resolve) => attacker.on('exit', resolve))
  t.teardown(() => {
    attacker.kill('SIGKILL')
    rmSync(`${path}.stop`, { force: true })
  })
  const ROUNDS = 1500
  let created = 0
  const refused = new Map<string, number>()
  for (let round = 0; round < ROUNDS; round++) {
    try {
      const seg = ManagedMappedFile.create(path, SIZE)
      seg.construct('x', types.int32, round)
      seg.close()
      created++
    } catch (e) {
      const code =
        (e as { name?: string; code?: string }).name === 'ShmError' ? ((e as { code: string }).code ?? '?') : `not a ShmError: ${e}`
      refused.set(code, (refused.get(code) ?? 0) + 1)
    }
    rmSync(path, { force: true })
  }
  writeFileSync(`${path}.stop`, '')
  await exited
  t.ok(Number(swaps) > 0, `the attacker swapped the path ${swaps} times`)
  t.ok(created > 0, `${created} of ${ROUNDS} creates won the race`)
  t.same(
    [...refused.keys()].filter((code) => code !== 'EEXIST'),
    [],
    `the others were EEXIST (${JSON.stringify([...refused])})`,
  )
  t.ok(readFileSync(victim).equals(content), 'the victim was never sized or formatted')
})
