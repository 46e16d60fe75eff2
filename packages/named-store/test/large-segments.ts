// Segments from 2 GiB to 4 GiB: offsets at or past 2^31 are valid (a signed
// shift once made create fail with "invalid offset"), objects placed there
// are found, read and written from another process. Mapped files on a disk
// file system: the reservation there costs no memory, and only the pages
// the test touches are ever read or written.
import { existsSync, statfsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ManagedMappedFile, t as types } from '@shmkit/named-store'
import { runFixture, uniqueName } from './helpers/segments.js'

const GiB = 2 ** 30
const TMPFS_MAGIC = 0x01021994

/** A folder on a disk (not tmpfs: a reservation there is memory) with room for `bytes`, or why there is none. */
function diskFolder(bytes: number): { folder: string } | { skip: string } {
  for (const folder of [tmpdir(), '/var/tmp']) {
    try {
      const fs = statfsSync(folder)
      if (fs.type !== TMPFS_MAGIC && fs.bavail * fs.bsize > bytes + 4 * GiB) return { folder }
    } catch {
      // try the next one
    }
  }
  return { skip: `no disk folder with ${bytes + 4 * GiB} bytes free (tmpfs would reserve memory)` }
}

const Pair = types.struct({ a: types.uint32, b: types.float64, next: types.ptr(types.uint32) })

for (const size of [2 * GiB + 16, 3 * GiB, 4 * GiB]) {
  const place = diskFolder(size)
  t.test(`a ${size}-byte mapped file holds objects near and past 2^31`, { skip: 'skip' in place ? place.skip : false }, async (t) => {
    if (!('folder' in place)) return
    const path = join(place.folder, `${uniqueName('shmkit-large')}.seg`)
    t.teardown(() => {
      ManagedMappedFile.remove(path)
    })
    const seg = ManagedMappedFile.create(path, size)
    t.teardown(() => seg.close())
    t.equal(seg.size, size)
    // Raw memory first (never touched): the objects land after it, past
    // 2^31 when there is room, else in the last MiB below it.
    const high = size >= 3 * GiB
    const low = seg.allocate(high ? 2 * GiB : 2 * GiB - 2 ** 20)
    const target = seg.construct('target', types.uint32, 77)
    const pair = seg.construct('pair', Pair, { a: 1, b: 2.5, next: target.offset })
    const text = seg.construct('text', types.string(16), 'high up')
    const wide = seg.construct('wide', types.int64, 2n ** 40n)
    for (const v of [target, pair, text, wide]) {
      t.ok(
        v.offset >= (high ? 2 ** 31 : 2 ** 31 - 2 ** 20) && v.offset < size,
        `offset ${v.offset} lies ${high ? 'past 2^31' : 'just below 2^31'}`,
      )
    }
    t.ok(seg.checkSanity())

    const r = await runFixture('large-segment.ts', [path])
    t.equal(r.code, 0, r.stderr)
    const seen = JSON.parse(r.stdout) as {
      size: number
      pair: { offset: number; a: number; b: number }
      text: string
      wide: string
      target: number
      names: [string, number][]
      sane: boolean
    }
    t.equal(seen.size, size)
    t.same(seen.pair, { offset: pair.offset, a: 1, b: 2.5 })
    t.equal(seen.text, 'high up')
    t.equal(seen.wide, String(2n ** 40n))
    t.equal(seen.target, 77, 't.ptr followed to its target')
    t.ok(seen.names.some(([name, offset]) => name === 'wide' && offset === wide.offset))
    t.equal(seen.sane, true)
    t.equal(pair.a, 2, "the child's write at a high offset is seen here")
    t.equal(wide.value, 2n ** 40n + 1n)

    for (const name of ['target', 'pair', 'text', 'wide']) seg.destroy(name)
    seg.deallocate(low)
    t.ok(seg.allMemoryDeallocated())
    t.ok(seg.checkSanity())
  })
}

t.test('past 4 GiB is EINVAL, and the hint says why (the layout; on Node 20 the engine too)', (t) => {
  const major = Number(process.versions.node.split('.')[0])
  for (const size of [2 ** 32 + 16, 5 * GiB, 8 * GiB]) {
    const path = join(tmpdir(), `${uniqueName()}.seg`)
    try {
      ManagedMappedFile.create(path, size)
      t.fail(`created ${size} bytes`)
    } catch (e) {
      const err = e as { name: string; code: string; message: string; hint?: string }
      t.equal(err.name, 'ShmError')
      t.equal(err.code, 'EINVAL')
      t.match(err.message, /invalid size: got \d+, expected an integer number of bytes from \d+ to 4294967296/)
      t.match(err.hint, /segments stop at 4 GiB: layout version \d+ stores offsets in 32-bit words/)
      if (major < 22) t.match(err.hint, new RegExp(`Node ${process.versions.node} cannot view more than 4 GiB`))
      else t.notMatch(err.hint, /cannot view/, 'Node 22+ can view it: only the layout is named')
    }
    t.equal(existsSync(path), false, 'nothing was left behind')
  }
  t.end()
})
