// System V shared memory keyed by ftok(path, id), as Boost's xsi_shared_memory.
//
//   npx tsx examples/xsi-parent-child.ts
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { MappedRegion, XsiSharedMemory, xsiKey } from '@shmkit/ffi-shm'

const self = fileURLToPath(import.meta.url)
const [role, id] = process.argv.slice(2)

if (role === 'child') {
  const xsi = XsiSharedMemory.open(xsiKey(self, Number(id)))
  using region = new MappedRegion(xsi)
  const ok = new Uint8Array(region.buffer).every((b) => b === 1)
  console.log(`child: XSI segment ${xsi.shmid} ${ok ? 'all 1' : 'WRONG'}`)
  process.exit(ok ? 0 : 1)
} else {
  const projectId = (process.pid % 250) + 1
  const key = xsiKey(self, projectId)
  try {
    XsiSharedMemory.remove(XsiSharedMemory.open(key).shmid) // a leftover from a crashed run
  } catch {
    // none
  }
  const xsi = XsiSharedMemory.create(key, 1000)
  let status = 1
  try {
    using region = new MappedRegion(xsi)
    new Uint8Array(region.buffer).fill(1)
    status = spawnSync(process.execPath, [...process.execArgv, self, 'child', String(projectId)], { stdio: 'inherit' }).status ?? 1
  } finally {
    XsiSharedMemory.remove(xsi.shmid)
  }
  process.exit(status)
}
