// Anonymous (memfd) shared memory: no name anywhere; the child gets the
// descriptor in stdio slot 3 and maps the same pages.
//
//   npx tsx examples/anonymous-parent-child.ts
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { AnonymousSharedMemory, anonymousSharedMemory, MappedRegion } from '@shmkit/ffi-shm'

if (process.argv[2] === 'child') {
  using mem = AnonymousSharedMemory.fromFd(3)
  using region = new MappedRegion(mem)
  const bytes = new Uint8Array(region.buffer)
  const ok = bytes.every((b) => b === 1)
  bytes[0] = 2 // the parent checks that this came back
  console.log(`child: ${bytes.length} bytes of anonymous memory ${ok ? 'all 1' : 'WRONG'}`)
  process.exit(ok ? 0 : 1)
} else {
  using mem = anonymousSharedMemory(1 << 16)
  using region = new MappedRegion(mem)
  const bytes = new Uint8Array(region.buffer)
  bytes.fill(1)
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'child'], {
    stdio: ['inherit', 'inherit', 'inherit', mem.fd],
  })
  const ok = r.status === 0 && bytes[0] === 2
  console.log(`parent: the child's write ${bytes[0] === 2 ? 'came back' : 'is MISSING'}`)
  process.exit(ok ? 0 : 1)
}
