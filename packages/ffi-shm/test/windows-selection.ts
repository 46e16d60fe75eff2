import t from 'tap'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { selectBackend, WindowsSharedMemory } from '@shmkit/ffi-shm'
import { uniqueName } from './helpers/run.js'
import { spawnSync } from 'node:child_process'

t.test('the backend follows the platform', async (t) => {
  t.equal(selectBackend('win32'), 'windows')
  t.equal(selectBackend('linux'), 'posix')
  t.equal(selectBackend('darwin'), 'posix')
  t.equal(selectBackend('freebsd'), 'posix')
})

t.test('native Windows shared memory is refused elsewhere', { skip: process.platform === 'win32' }, async (t) => {
  t.throws(() => WindowsSharedMemory.create('x', 4096), { name: 'ShmError', code: 'ENOTSUP', message: /only on Windows/ })
  t.throws(() => WindowsSharedMemory.open('x'), { name: 'ShmError', code: 'ENOTSUP' })
  t.throws(() => WindowsSharedMemory.open('x', { readOnly: 'yes' } as unknown as { readOnly: boolean }), { name: 'ShmError', code: 'EINVAL', message: /readOnly/ }, 'options are checked before the platform')
  t.throws(() => WindowsSharedMemory.create('a/b', 4096), { name: 'ShmError', code: 'EINVAL', message: /invalid name/ })
})

t.test('on Windows the portable object is a file in a temp folder (file-system part, platform faked)', async (t) => {
  const temp = mkdtempSync(join(tmpdir(), 'shmkit-win32-'))
  t.teardown(() => rmSync(temp, { recursive: true, force: true }))
  const name = uniqueName()
  const fixture = fileURLToPath(new URL('./fixtures/win32-emulation.ts', import.meta.url))
  const r = spawnSync(process.execPath, ['--import', 'tsx', fixture, name], { env: { ...process.env, TMPDIR: temp }, encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
  t.same(JSON.parse(r.stdout), { backend: 'windows', size: 5000, again: 'EEXIST', openedSize: 5000, missing: 'ENOENT', removed: true, removedAgain: false })
  t.ok(existsSync(join(temp, 'shmkit-shm')), 'the objects live in <tmp>/shmkit-shm')
  t.same(readdirSync(join(temp, 'shmkit-shm')), [], 'remove deleted the file')
  t.notOk(existsSync(`/dev/shm/${name}`), 'nothing went to POSIX shared memory')
})
