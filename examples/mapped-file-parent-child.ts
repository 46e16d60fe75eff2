// A memory-mapped file: the parent writes through a mapping, the child checks
// through its own mapping and again with a plain file read.
//
//   npx tsx examples/mapped-file-parent-child.ts
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FileMapping, MappedRegion } from '@shmkit/ffi-shm'

const [role, path] = process.argv.slice(2)

if (role === 'child') {
  using file = new FileMapping(path ?? '', { readOnly: true })
  using region = new MappedRegion(file)
  const mapped = new Uint8Array(region.buffer).every((b) => b === 1)
  const read = readFileSync(path ?? '').every((b) => b === 1)
  console.log(`child: through the mapping ${mapped ? 'ok' : 'WRONG'}, through a file read ${read ? 'ok' : 'WRONG'}`)
  process.exit(mapped && read ? 0 : 1)
} else {
  const file = join(tmpdir(), `shmkit-example-file-${process.pid}.bin`)
  let status = 1
  try {
    writeFileSync(file, Buffer.alloc(10_000))
    using mapping = new FileMapping(file)
    using region = new MappedRegion(mapping)
    new Uint8Array(region.buffer).fill(1)
    region.flush() // the child's plain read must see it on disk
    status =
      spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'child', file], { stdio: 'inherit' }).status ?? 1
  } finally {
    FileMapping.remove(file)
  }
  process.exit(status)
}
