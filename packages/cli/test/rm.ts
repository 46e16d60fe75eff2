import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { SharedMemoryObject } from '@shmkit/ffi-shm'
import { ManagedMappedFile, ManagedSharedMemory, SegmentHeader } from '@shmkit/named-store'
import type { RemoveResult } from '@shmkit/cli'
import { createForeignObject, removeQuietly, shmkit, shmkitJson, uniqueName, writeWord } from './helpers/shmkit.js'

const SIZE = 1 << 20

function exists(name: string): boolean {
  try {
    SharedMemoryObject.open(name, { readOnly: true }).close()
    return true
  } catch {
    return false
  }
}

t.test('rm removes shmkit segments, several at once', (t) => {
  const names = [uniqueName('rm-a'), uniqueName('rm-b')]
  t.teardown(() => names.forEach(removeQuietly))
  for (const name of names) ManagedSharedMemory.create(name, SIZE).close()
  const run = shmkit('rm', ...names)
  t.equal(run.status, 0)
  t.equal(run.stdout, names.map((n) => `removed ${n}\n`).join(''))
  t.notOk(exists(names[0] as string))
  t.notOk(exists(names[1] as string))
  t.end()
})

t.test('rm also removes shmkit segments it cannot read: another layout version', (t) => {
  const name = uniqueName('rm-version')
  t.teardown(() => removeQuietly(name))
  ManagedSharedMemory.create(name, SIZE).close()
  writeWord(name, SegmentHeader.VERSION, 42)
  t.equal(shmkit('rm', name).status, 0)
  t.notOk(exists(name))
  t.end()
})

t.test('rm refuses an object that is not a shmkit segment unless --force', (t) => {
  const foreign = uniqueName('rm-foreign')
  t.teardown(() => removeQuietly(foreign))
  createForeignObject(foreign, new Uint8Array(4096).fill(3))
  const refused = shmkit('rm', foreign)
  t.equal(refused.status, 1)
  t.match(refused.stderr, `shared memory "${foreign}" is not a shmkit segment; not removed (use --force`)
  t.ok(exists(foreign), 'still there')

  const json = shmkitJson<{ results: RemoveResult[] }>('rm', foreign)
  t.equal(json.status, 1)
  t.match(json.json.results, [{ removed: false, code: 'EFOREIGN' }])

  const forced = shmkit('rm', '--force', foreign)
  t.equal(forced.status, 0)
  t.notOk(exists(foreign))
  t.end()
})

t.test('rm exits 2 on unknown names, after removing the known ones', (t) => {
  const name = uniqueName('rm-known')
  const missing = uniqueName('rm-missing')
  t.teardown(() => removeQuietly(name))
  ManagedSharedMemory.create(name, SIZE).close()
  const { status, json } = shmkitJson<{ results: RemoveResult[] }>('rm', missing, name)
  t.equal(status, 2)
  t.same(json.results, [
    { target: `shared memory "${missing}"`, removed: false, code: 'ENOENT', reason: `shared memory "${missing}" does not exist` },
    { target: `shared memory "${name}"`, removed: true },
  ])
  t.notOk(exists(name))
  const plain = shmkit('rm', missing)
  t.equal(plain.status, 2)
  t.match(plain.stderr, `shmkit rm: shared memory "${missing}" does not exist`)
  t.end()
})

t.test('rm --file removes a segment file and refuses any other file unless --force', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shmkit-cli-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const segment = join(dir, 'segment.bin')
  const notes = join(dir, 'notes.txt')
  ManagedMappedFile.create(segment, SIZE).close()
  writeFileSync(notes, 'not a segment\n'.repeat(100))
  const run = shmkit('rm', '--file', segment, '--file', notes)
  t.equal(run.status, 1)
  t.equal(run.stdout, `removed ${segment}\n`)
  t.match(run.stderr, `file "${notes}" is not a shmkit segment; not removed`)
  t.notOk(existsSync(segment))
  t.ok(existsSync(notes))
  t.equal(shmkit('rm', '--force', '--file', notes).status, 0)
  t.notOk(existsSync(notes))
  t.end()
})
