// A managed segment in a regular file: objects persist across runs and reboots.
//
//   npx tsx examples/managed-mapped-file.ts
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ManagedMappedFile, t } from '@shmkit/named-store'

const Visit = t.struct({ count: t.uint32, last: t.string(40) })
const [role, path] = process.argv.slice(2)

if (role === 'child') {
  const seg = ManagedMappedFile.open(path ?? '')
  const visits = seg.find('visits', Visit)
  if (!visits) process.exit(2)
  visits.count += 1
  visits.last = `child ${process.pid}`
  seg.close()
} else {
  const file = join(tmpdir(), `shmkit-example-${process.pid}.seg`)
  let ok = false
  try {
    const seg = ManagedMappedFile.create(file, 1 << 20)
    seg.construct('visits', Visit, { count: 1, last: 'parent' })
    seg.close() // the object now lives in the file only
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'child', file], { stdio: 'inherit' })
    const again = ManagedMappedFile.open(file)
    const visits = again.find('visits', Visit)
    console.log(`visits = ${visits?.count}, last = ${visits?.last}`)
    ok = r.status === 0 && visits?.count === 2
    again.close()
  } finally {
    ManagedMappedFile.remove(file)
  }
  process.exit(ok ? 0 : 1)
}
