// ManagedMappedFile.flush / flushAsync: after they return, the pages written
// through the segment are clean (on disk). Checked with the kernel's own page
// flags: /proc/self/pagemap gives the physical page behind a mapping of the
// file, /proc/kpageflags its PG_dirty bit (root only; skipped otherwise).
import { closeSync, openSync, readSync } from 'node:fs'
import t from 'tap'
import { FileMapping, MappedRegion } from '@shmkit/ffi-shm'
import { ManagedMappedFile, t as types } from '@shmkit/named-store'
import { tempPath } from './helpers/segments.js'

const PAGE = MappedRegion.pageSize
const KPF_DIRTY = 4n

function readU64(path: string, index: number): bigint {
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.alloc(8)
    if (readSync(fd, buf, 0, 8, index * 8) !== 8) throw new Error(`short read of ${path}`)
    return buf.readBigUInt64LE()
  } finally {
    closeSync(fd)
  }
}

/** Whether the page-cache page holding byte `offset` of the file mapped by `region` is dirty. */
function pageDirty(region: MappedRegion, offset: number): boolean {
  const view = new Uint8Array(region.buffer)
  void view[offset] // fault the page in, so it has a frame
  const entry = readU64('/proc/self/pagemap', Number((region.address + BigInt(offset)) / BigInt(PAGE)))
  const pfn = entry & ((1n << 55n) - 1n)
  if (pfn === 0n) throw new Error('no page frame number: /proc/self/pagemap hides them from non-root')
  return (readU64('/proc/kpageflags', Number(pfn)) & (1n << KPF_DIRTY)) !== 0n
}

function kpageflagsUnavailable(): string | undefined {
  try {
    readU64('/proc/kpageflags', 0)
    return process.getuid?.() === 0 ? undefined : 'page frame numbers need root'
  } catch (e) {
    return `cannot read /proc/kpageflags: ${(e as Error).message}`
  }
}

t.test('flush() and flushAsync() leave the written pages clean', { skip: kpageflagsUnavailable() ?? false }, async (t) => {
  const path = tempPath(t)
  const seg = ManagedMappedFile.create(path, 1 << 20)
  t.teardown(() => seg.close())
  const data = seg.constructArray('data', types.uint8, 64 * 1024, 0)
  seg.flush()
  // A second mapping of the file shares its page-cache pages: its frames are the segment's.
  using file = new FileMapping(path)
  using probe = new MappedRegion(file)
  const at = data.offset + 5 * PAGE
  t.notOk(pageDirty(probe, at), 'clean after the first flush')
  data.typed[5 * PAGE - (data.offset % PAGE)] = 1
  data.set(5 * PAGE + 1, 2)
  t.ok(pageDirty(probe, at), 'a write through the segment dirties the page')
  seg.flush()
  t.notOk(pageDirty(probe, at), 'flush() wrote it back')
  t.equal(probe.buffer.byteLength, 1 << 20)
  t.equal(new Uint8Array(probe.buffer)[data.offset + 5 * PAGE + 1], 2, 'the file holds the value')

  data.set(5 * PAGE + 2, 3)
  t.ok(pageDirty(probe, at), 'dirty again')
  let ticks = 0
  const ticker = setInterval(() => ticks++, 0)
  await seg.flushAsync()
  clearInterval(ticker)
  t.notOk(pageDirty(probe, at), 'flushAsync() wrote it back before resolving')
  t.comment(`event-loop ticks during flushAsync: ${ticks}`)

  data.set(5 * PAGE + 3, 4)
  seg.flush({ async: true }) // MS_ASYNC: only schedules the writeback
  t.pass('flush({ async: true }) returns')
})

t.test('flush options are checked; closed and read-only handles', async (t) => {
  const path = tempPath(t)
  const seg = ManagedMappedFile.create(path, 1 << 20)
  t.throws(() => seg.flush({ async: 'yes' } as never), { name: 'ShmError', code: 'EINVAL', message: /async/ })
  t.throws(() => seg.flush({ sync: true } as never), { name: 'ShmError', code: 'EINVAL' })
  const ro = ManagedMappedFile.open(path, { readOnly: true })
  t.doesNotThrow(() => ro.flush(), 'a read-only handle has nothing to write: flush is a no-op')
  await t.resolves(ro.flushAsync())
  ro.close()
  seg.close()
  t.throws(() => seg.flush(), { name: 'ShmError', code: 'ECLOSED' })
  await t.rejects(seg.flushAsync(), { name: 'ShmError', code: 'ECLOSED' })
})
