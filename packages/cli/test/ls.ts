import t from 'tap'
import { LAYOUT_VERSION, ManagedSharedMemory, SegmentHeader, t as types } from '@shmkit/named-store'
import type { ListedSegment } from '@shmkit/cli'
import { createForeignObject, removeQuietly, shmkit, shmkitJson, uniqueName, writeWord } from './helpers/shmkit.js'

const SIZE = 1 << 20

function listed(name: string): ListedSegment | undefined {
  const { status, json } = shmkitJson<{ segments: ListedSegment[] }>('ls')
  if (status !== 0) throw new Error(`shmkit ls exited ${status}`)
  return json.segments.find((s) => s.name === name)
}

t.test('ls lists a segment with its figures and skips objects that are not segments', (t) => {
  const name = uniqueName('ls')
  const foreign = uniqueName('ls-foreign')
  t.teardown(() => {
    removeQuietly(name)
    removeQuietly(foreign)
  })
  const segment = ManagedSharedMemory.create(name, SIZE)
  segment.construct('counter', types.uint32, 7)
  segment.constructArray('samples', types.float64, 64, 0)
  const { free, size } = segment.stats()
  segment.close()
  createForeignObject(foreign, new Uint8Array(8192).fill(0xab))

  const row = listed(name)
  t.same(row, { name, status: 'ok', size, used: size - free, free, numNamedObjects: 2, lock: { held: false }, version: LAYOUT_VERSION })
  t.equal(size, SIZE)
  t.equal(listed(foreign), undefined, 'a foreign object is not listed')

  const table = shmkit('ls')
  t.equal(table.status, 0)
  t.equal(table.stderr, '')
  t.match(table.stdout, /^NAME\s+SIZE\s+USED\s+FREE\s+OBJECTS\s+LOCK\s+VERSION\s+STATE$/m)
  t.match(table.stdout, new RegExp(`^${name}\\s+1\\.0 MiB\\s+\\S+ \\S+\\s+\\S+ \\S+\\s+2\\s+free\\s+${LAYOUT_VERSION}\\s+ok$`, 'm'))
  t.notMatch(table.stdout, foreign)
  t.end()
})

t.test('ls reports who holds the lock, and that the holder died', (t) => {
  const name = uniqueName('ls-lock')
  t.teardown(() => removeQuietly(name))
  ManagedSharedMemory.create(name, SIZE).close()
  // An owner token no open handle holds (no handle is open at all).
  const owner = 4321
  writeWord(name, SegmentHeader.LOCK_WORD, owner)
  t.match(listed(name), { status: 'ok', lock: { held: true, owner, state: 'dead' } }, 'JSON names the dead owner')
  t.match(shmkit('ls').stdout, new RegExp(`^${name}\\s.*held by owner ${owner} \\(dead\\)`, 'm'))
  t.end()
})

t.test('ls shows a segment of another layout version with that version instead of hiding it', (t) => {
  const name = uniqueName('ls-version')
  t.teardown(() => removeQuietly(name))
  ManagedSharedMemory.create(name, SIZE).close()
  writeWord(name, SegmentHeader.VERSION, 99)
  t.match(listed(name), { name, status: 'other-version', version: 99, size: SIZE, problem: /layout version 99/ })
  const table = shmkit('ls').stdout
  t.match(table, new RegExp(`^${name}\\s+1\\.0 MiB\\s+-\\s+-\\s+-\\s+-\\s+99\\s+other layout version$`, 'm'))
  t.match(table, new RegExp(`^${name}: .*layout version 99`, 'm'))
  t.end()
})

t.test('ls lists a shmkit segment whose header is corrupt, with what is wrong', (t) => {
  const name = uniqueName('ls-corrupt')
  t.teardown(() => removeQuietly(name))
  ManagedSharedMemory.create(name, SIZE).close()
  writeWord(name, SegmentHeader.ALLOCATOR_OFFSET, 3)
  t.match(listed(name), { name, status: 'corrupt', size: SIZE, problem: /corrupt header: allocator offset 3 out of range/ })
  const table = shmkit('ls')
  t.equal(table.status, 0)
  t.match(table.stdout, new RegExp(`^${name}\\s+1\\.0 MiB\\s+-\\s+-\\s+-\\s+-\\s+-\\s+corrupt$`, 'm'))
  t.end()
})

t.test('ls --json is one JSON document naming the directory it scanned', (t) => {
  const { status, json } = shmkitJson<{ directory: string; segments: unknown[] }>('ls')
  t.equal(status, 0)
  t.type(json.directory, 'string')
  t.ok(Array.isArray(json.segments))
  t.end()
})
