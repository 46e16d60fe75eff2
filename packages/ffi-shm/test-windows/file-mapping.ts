// FileMapping on Windows: the file is opened through kernel32 too (a Node
// descriptor has no HANDLE that koffi can reach).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileMapping, MappedRegion } from '@shmkit/ffi-shm'
import { collectGarbage, removeMappedFile, uniqueName } from './helpers.js'

function tempFile(t: { after(fn: () => void): void }, bytes: Uint8Array): string {
  const path = join(tmpdir(), `${uniqueName()}.bin`)
  writeFileSync(path, bytes)
  t.after(() => removeMappedFile(path))
  return path
}

test('map a file, write through the view, flush: the file has the bytes', (t) => {
  const path = tempFile(t, new Uint8Array(100_000).fill(3))
  using file = new FileMapping(path)
  assert.equal(file.size, 100_000)
  using region = new MappedRegion(file, { offset: 70_000, size: 100 })
  const bytes = new Uint8Array(region.buffer)
  assert.equal(bytes[0], 3)
  bytes[0] = 200
  region.flush()
  assert.equal(readFileSync(path)[70_000], 200)
})

test('read-only: EREADONLY for writable maps and truncate, stray writes stay private', (t) => {
  const path = tempFile(t, new Uint8Array(4096).fill(1))
  using file = new FileMapping(path, { readOnly: true })
  assert.throws(() => file.truncate(10), { name: 'ShmError', code: 'EREADONLY' })
  assert.throws(() => new MappedRegion(file, { readOnly: false }), { name: 'ShmError', code: 'EREADONLY' })
  using region = new MappedRegion(file)
  new Uint8Array(region.buffer)[0] = 9
  assert.equal(readFileSync(path)[0], 1, 'the file is untouched')
})

test('missing files are ENOENT; a mapped file cannot be removed (EACCES, with a hint) until its views are gone', async (t) => {
  assert.throws(() => new FileMapping(join(tmpdir(), `${uniqueName()}.missing`)), { name: 'ShmError', code: 'ENOENT' })
  const path = tempFile(t, new Uint8Array(4096))
  const file = new FileMapping(path)
  let region: MappedRegion | undefined = new MappedRegion(file)
  new Uint8Array(region.buffer)[0] = 5
  assert.throws(() => FileMapping.remove(path), {
    name: 'ShmError',
    code: 'EACCES',
    hint: /cannot delete a file while a process has it mapped/,
  })
  region.close()
  file.close()
  region = undefined
  // close() leaves the view mapped until its ArrayBuffer is collected (so a stale TypedArray cannot fault).
  await collectGarbage()
  assert.equal(FileMapping.remove(path), true, 'removable once the view is collected')
  assert.equal(FileMapping.remove(path), false)
})
