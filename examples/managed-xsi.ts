// A managed segment in System V shared memory, keyed by ftok(path, id).
//
//   npx tsx examples/managed-xsi.ts
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { xsiKey } from '@shmkit/ffi-shm'
import { ManagedXsiSharedMemory, t } from '@shmkit/named-store'

const self = fileURLToPath(import.meta.url)
const key = xsiKey(self, process.argv[2] === 'child' ? Number(process.argv[3]) : (process.pid % 250) + 1)

if (process.argv[2] === 'child') {
  const seg = ManagedXsiSharedMemory.open(key)
  seg.find('answer', t.int32)?.add(2)
  seg.close()
} else {
  ManagedXsiSharedMemory.remove(key)
  const seg = ManagedXsiSharedMemory.create(key, 1 << 20)
  let ok = false
  try {
    seg.construct('answer', t.int32, 40)
    const r = spawnSync(process.execPath, [...process.execArgv, self, 'child', String((process.pid % 250) + 1)], { stdio: 'inherit' })
    const answer = seg.find('answer', t.int32)?.value
    console.log(`XSI key 0x${(key >>> 0).toString(16)}: answer = ${answer}`)
    ok = r.status === 0 && answer === 42
  } finally {
    seg.close()
    ManagedXsiSharedMemory.remove(key)
  }
  process.exit(ok ? 0 : 1)
}
