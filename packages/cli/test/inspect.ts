import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { LAYOUT_VERSION, ManagedMappedFile, ManagedSharedMemory, ManagedXsiSharedMemory, t as types } from '@shmkit/named-store'
import type { SegmentInspection } from '@shmkit/cli'
import { SegmentHeader } from '@shmkit/named-store'
import { createForeignObject, removeQuietly, shmkit, shmkitJson, uniqueName, writeWord } from './helpers/shmkit.js'

const SIZE = 1 << 20
const Point = types.struct({ x: types.float64, y: types.float64 })

/** A segment with objects and holes between allocations, so free memory is split. */
function populate(segment: ManagedSharedMemory | ManagedMappedFile | ManagedXsiSharedMemory): void {
  segment.construct('counter', types.uint32, 7)
  segment.constructArray('samples', types.float64, 100, 0.5)
  const holes = [1000, 3000].map((bytes) => {
    const hole = segment.allocate(bytes)
    segment.allocate(64) // keeps the hole from merging with its neighbour once freed
    return hole
  })
  segment.construct('origin', Point, { x: 1, y: 2 })
  for (const hole of holes) segment.deallocate(hole)
}

t.test('inspect --json gives the objects, free memory, fragmentation and histogram', (t) => {
  const name = uniqueName('inspect')
  t.teardown(() => removeQuietly(name))
  const segment = ManagedSharedMemory.create(name, SIZE)
  populate(segment)
  const expected = segment.stats()
  const objects = [...segment.names()].sort((a, b) => a.offset - b.offset)
  segment.close()

  const { status, json } = shmkitJson<SegmentInspection>('inspect', name)
  t.equal(status, 0)
  t.match(json, {
    target: `shared memory "${name}"`,
    size: SIZE,
    used: expected.used,
    free: expected.free,
    numNamedObjects: 3,
    numUniqueObjects: 0,
    largestFreeBlock: expected.largestFreeBlock,
    freeBlockCount: expected.freeBlockCount,
    version: LAYOUT_VERSION,
    lock: { held: false },
    recoveries: 0,
  })
  t.same(json.objects, objects)
  t.same(
    json.objects.map((o) => [o.name, o.type, o.count, o.byteLength]),
    [
      ['counter', 'uint32', 1, 4],
      ['samples', 'array(float64,100)', 100, 800],
      ['origin', 'struct{x:float64,y:float64}', 1, 16],
    ],
  )
  t.ok(json.freeBlockCount >= 3, 'the freed holes are separate free blocks')
  t.equal(json.fragmentation, 1 - json.largestFreeBlock / json.free)
  t.ok(json.fragmentation > 0 && json.fragmentation < 1)
  t.same(json.freeBlockHistogram, expected.freeBlockHistogram)
  t.equal(
    json.freeBlockHistogram.reduce((sum, bucket) => sum + bucket.count, 0),
    json.freeBlockCount,
    'every free block is in one histogram bucket',
  )
  t.end()
})

t.test('inspect prints the objects as a table for people', (t) => {
  const name = uniqueName('inspect-table')
  t.teardown(() => removeQuietly(name))
  const segment = ManagedSharedMemory.create(name, SIZE)
  populate(segment)
  const stats = segment.stats()
  const origin = segment.find('origin', Point)?.offset
  segment.close()

  const run = shmkit('inspect', name)
  t.equal(run.status, 0)
  t.equal(run.stderr, '')
  t.match(run.stdout, `shared memory "${name}": 1.0 MiB, layout version ${LAYOUT_VERSION}, lock free`)
  t.match(run.stdout, /^NAME\s+TYPE\s+COUNT\s+BYTES\s+OFFSET$/m)
  t.match(run.stdout, /^counter\s+uint32\s+1\s+4\s+\d+$/m)
  t.match(run.stdout, /^samples\s+array\(float64,100\)\s+100\s+800\s+\d+$/m)
  t.match(run.stdout, new RegExp(`^origin\\s+struct\\{x:float64,y:float64\\}\\s+1\\s+16\\s+${origin}$`, 'm'))
  t.match(
    run.stdout,
    `free memory ${stats.free} B in ${stats.freeBlockCount} blocks, largest free block ${stats.largestFreeBlock} B, fragmentation `,
  )
  t.match(run.stdout, /free blocks by size:\n(\s+<= \d+(\.\d)? (B|KiB|MiB)\s+\d+\s+#+\n)+/)
  t.end()
})

t.test('inspect --file reads a segment in a mapped file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shmkit-cli-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'segment.bin')
  const segment = ManagedMappedFile.create(path, SIZE)
  populate(segment)
  segment.close()
  const { status, json } = shmkitJson<SegmentInspection>('inspect', '--file', path)
  t.equal(status, 0)
  t.match(json, { target: `file "${path}"`, size: SIZE, numNamedObjects: 3 })
  t.end()
})

t.test('inspect --xsi reads an XSI segment by hex or decimal key', (t) => {
  const key = 0x5c000000 + ((process.pid * 257 + Math.floor(Math.random() * 0xffff)) & 0xffffff)
  let created = false
  t.teardown(() => {
    if (created) ManagedXsiSharedMemory.remove(key)
  })
  const segment = ManagedXsiSharedMemory.create(key, SIZE)
  created = true
  populate(segment)
  segment.close()
  const hex = shmkitJson<SegmentInspection>('inspect', '--xsi', `0x${key.toString(16)}`)
  t.equal(hex.status, 0)
  t.match(hex.json, { size: SIZE, numNamedObjects: 3 })
  const decimal = shmkitJson<SegmentInspection>('inspect', '--xsi', String(key))
  t.equal(decimal.status, 0)
  t.same(decimal.json.objects, hex.json.objects)
  t.end()
})

t.test('inspect refuses what is not a segment, and unknown names with exit 2', (t) => {
  const foreign = uniqueName('inspect-foreign')
  t.teardown(() => removeQuietly(foreign))
  createForeignObject(foreign, new Uint8Array(8192).fill(7))
  const notOurs = shmkit('inspect', foreign)
  t.equal(notOurs.status, 1)
  t.match(notOurs.stderr, `shmkit inspect: shared memory "${foreign}" is not a shmkit segment`)

  const missing = uniqueName('inspect-missing')
  const run = shmkit('inspect', missing)
  t.equal(run.status, 2)
  t.match(run.stderr, `shmkit inspect: shared memory "${missing}" does not exist`)
  t.equal(run.stdout, '')
  const json = shmkitJson<{ error: { code: string; message: string } }>('inspect', missing)
  t.equal(json.status, 2)
  t.match(json.json, { error: { code: 'ENOENT', message: /does not exist/ } })
  t.end()
})

t.test('inspect exits 1 on a segment whose header is corrupt or of another layout version', (t) => {
  const corrupt = uniqueName('inspect-corrupt')
  const future = uniqueName('inspect-version')
  t.teardown(() => {
    removeQuietly(corrupt)
    removeQuietly(future)
  })
  ManagedSharedMemory.create(corrupt, SIZE).close()
  writeWord(corrupt, SegmentHeader.SIZE_LO, 12345)
  const run = shmkit('inspect', corrupt)
  t.equal(run.status, 1)
  t.match(run.stderr, `shmkit inspect: shared memory "${corrupt}" has a corrupt header: segment size 12345 out of range`)

  ManagedSharedMemory.create(future, SIZE).close()
  writeWord(future, SegmentHeader.VERSION, 7)
  const json = shmkitJson<{ error: { code: string; message: string } }>('inspect', future)
  t.equal(json.status, 1)
  t.match(json.json, { error: { code: 'EVERSION', message: /layout version 7/ } })
  t.end()
})
