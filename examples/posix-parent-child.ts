// Boost's first example, in TypeScript: the parent creates a POSIX shared
// memory object, sets every byte to 1 and runs itself as a child that checks.
//
//   npx tsx examples/posix-parent-child.ts
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { MappedRegion, SharedMemoryObject } from '@shmkit/ffi-shm'

const [role, name] = process.argv.slice(2)

if (role === 'child') {
  using shm = SharedMemoryObject.open(name ?? '', { readOnly: true })
  using region = new MappedRegion(shm)
  const bytes = new Uint8Array(region.buffer)
  const bad = bytes.findIndex((b) => b !== 1)
  if (bad >= 0) {
    console.error(`child: byte ${bad} is ${bytes[bad]}, not 1`)
    process.exit(1)
  }
  console.log(`child: all ${bytes.length} bytes are 1`)
} else {
  const segment = `shmkit-example-posix-${process.pid}`
  let status = 1
  try {
    using shm = SharedMemoryObject.create(segment)
    shm.truncate(1000)
    using region = new MappedRegion(shm)
    new Uint8Array(region.buffer).fill(1)
    status =
      spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'child', segment], { stdio: 'inherit' }).status ?? 1
  } finally {
    SharedMemoryObject.remove(segment)
  }
  process.exit(status)
}
