import t from 'tap'
import { selectBackend, WindowsSharedMemory } from '@shmkit/ffi-shm'

t.test('the backend follows the platform', async (t) => {
  t.equal(selectBackend('win32'), 'windows')
  t.equal(selectBackend('linux'), 'posix')
  t.equal(selectBackend('darwin'), 'posix')
  t.equal(selectBackend('freebsd'), 'posix')
})

t.test('native Windows shared memory is refused elsewhere', { skip: process.platform === 'win32' }, async (t) => {
  t.throws(() => WindowsSharedMemory.create('x', 4096), { name: 'ShmError', code: 'ENOTSUP', message: /only on Windows/ })
  t.throws(() => WindowsSharedMemory.open('x'), { name: 'ShmError', code: 'ENOTSUP' })
  t.throws(
    () => WindowsSharedMemory.open('x', { readOnly: 'yes' } as unknown as { readOnly: boolean }),
    { name: 'ShmError', code: 'EINVAL', message: /readOnly/ },
    'options are checked before the platform',
  )
  t.throws(() => WindowsSharedMemory.create('a/b', 4096), { name: 'ShmError', code: 'EINVAL', message: /invalid name/ })
})

// The Windows backends themselves run under Wine: `pnpm test:windows` (packages/*/test-windows).
