// What another local user can try: squatting a name before us, planting a
// symlink where we create a file.
import t from 'tap'
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
