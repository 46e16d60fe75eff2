import t from 'tap'
import { ManagedSharedMemory, SegmentHeader, t as types } from '@shmkit/named-store'
import type { CheckResult } from '@shmkit/cli'
import { createForeignObject, removeQuietly, shmkit, shmkitJson, uniqueName, writeWord } from './helpers/shmkit.js'

const SIZE = 1 << 20

function segmentWithObjects(tag: string, teardown: (fn: () => void) => void): string {
  const name = uniqueName(tag)
  teardown(() => removeQuietly(name))
  const segment = ManagedSharedMemory.create(name, SIZE)
  segment.construct('a', types.int32, 1)
  segment.construct('b', types.float64, 2)
  segment.close()
  return name
}

t.test('check exits 0 on a healthy segment', (t) => {
  const name = segmentWithObjects('check-ok', (fn) => t.teardown(fn))
  const run = shmkit('check', name)
  t.equal(run.status, 0)
  t.equal(run.stdout, `shared memory "${name}": healthy\n`)
  const json = shmkitJson<CheckResult>('check', name)
  t.equal(json.status, 0)
  t.same(json.json, { target: `shared memory "${name}"`, ok: true, problems: [] })
  t.end()
})

t.test('check exits 1 and says what is wrong when bytes were corrupted', (t) => {
  const name = segmentWithObjects('check-corrupt', (fn) => t.teardown(fn))
  // The header claims 5 named objects while the index holds 2.
  writeWord(name, SegmentHeader.NUM_NAMED, 5)
  const run = shmkit('check', name)
  t.equal(run.status, 1)
  t.match(run.stdout, `shared memory "${name}": corrupt\n`)
  t.match(run.stdout, /^ {2}- index: header counts \d+ objects, table holds 2$/m)
  const json = shmkitJson<CheckResult>('check', name)
  t.equal(json.status, 1)
  t.match(json.json, { ok: false, problems: [/header counts/] })
  t.end()
})

t.test('check exits 1 on a segment whose header is broken', (t) => {
  const name = segmentWithObjects('check-header', (fn) => t.teardown(fn))
  writeWord(name, SegmentHeader.ALLOCATOR_OFFSET, 0xfffffff0)
  const json = shmkitJson<CheckResult>('check', name)
  t.equal(json.status, 1)
  t.match(json.json, { ok: false, problems: [/allocator offset/] })
  t.end()
})

t.test('check exits 1 on an object that is not a shmkit segment, 2 on an unknown name', (t) => {
  const foreign = uniqueName('check-foreign')
  t.teardown(() => removeQuietly(foreign))
  createForeignObject(foreign, new Uint8Array(4096).fill(1))
  const run = shmkit('check', foreign)
  t.equal(run.status, 1)
  t.match(run.stdout, 'not a shmkit segment')

  const missing = shmkit('check', uniqueName('check-missing'))
  t.equal(missing.status, 2)
  t.match(missing.stderr, /does not exist/)
  t.end()
})
