// A client no one here wrote: Python's multiprocessing.shared_memory opens the
// same POSIX object by the same name, both ways.
import t from 'tap'
import { MappedRegion, SharedMemoryObject } from '@shmkit/ffi-shm'
import { run, shmName } from './helpers/run.js'

const python = 'python3'
// Python 3.11's resource tracker unlinks segments it merely attached to at exit: unregister them.
const attach = (name: string, body: string): string => `
from multiprocessing import shared_memory, resource_tracker
shm = shared_memory.SharedMemory(name=${JSON.stringify(name)})
resource_tracker.unregister(shm._name, 'shared_memory')
${body}
shm.close()
`

t.test('shmkit creates, Python reads and writes', async (t) => {
  const name = shmName(t)
  using shm = SharedMemoryObject.create(name)
  shm.truncate(4096)
  using region = new MappedRegion(shm)
  const bytes = new Uint8Array(region.buffer)
  bytes.set(Buffer.from('hello from shmkit'))
  const r = await run(python, ['-c', attach(name, 'print(bytes(shm.buf[:17]).decode()); shm.buf[100] = 201')])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.trim(), 'hello from shmkit')
  t.equal(bytes[100], 201, "shmkit sees Python's write")
})

t.test('Python creates, shmkit reads and writes', async (t) => {
  const name = shmName(t)
  const create = `
from multiprocessing import shared_memory, resource_tracker
shm = shared_memory.SharedMemory(name=${JSON.stringify(name)}, create=True, size=8192)
resource_tracker.unregister(shm._name, 'shared_memory')
shm.buf[:16] = b'hello from pyth!'
shm.close()
`
  const made = await run(python, ['-c', create])
  t.equal(made.code, 0, made.stderr)
  using shm = SharedMemoryObject.open(name)
  t.equal(shm.size, 8192)
  using region = new MappedRegion(shm)
  t.equal(Buffer.from(region.buffer, 0, 16).toString(), 'hello from pyth!')
  new Uint8Array(region.buffer)[8191] = 77
  const check = await run(python, ['-c', attach(name, 'print(shm.buf[8191])')])
  t.equal(check.stdout.trim(), '77', "Python sees shmkit's write")
})
