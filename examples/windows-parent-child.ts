// Native Windows shared memory (Boost's managed_windows_shared_memory): a
// parent creates a segment in the paging file, two children open it by name
// and update it; it disappears by itself when the last process closes it.
// Windows only (on other systems it says so and exits 0).
//
//   node examples/dist/windows-parent-child.js     (tsc -b first)
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ManagedWindowsSharedMemory, t } from '@shmkit/named-store'

const [role, name] = process.argv.slice(2)

if (process.platform !== 'win32') {
  console.log('windows-parent-child: native Windows shared memory exists only on Windows; nothing to do here')
} else if (role === 'child') {
  const seg = ManagedWindowsSharedMemory.open(name ?? '')
  try {
    seg.find('visits', t.uint32)?.add(1)
    seg.construct(`child-${process.pid}`, t.int32, process.pid)
  } finally {
    seg.close()
  }
} else {
  const segment = `shmkit-example-${process.pid}`
  const seg = ManagedWindowsSharedMemory.create(segment, 1 << 20)
  let ok = false
  try {
    seg.construct('visits', t.uint32, 0)
    const self = fileURLToPath(import.meta.url)
    const statuses = [0, 1].map(
      () => spawnSync(process.execPath, [...process.execArgv, self, 'child', segment], { stdio: 'inherit' }).status,
    )
    const visits = seg.find('visits', t.uint32)?.value
    const children = [...seg.names()].filter((n) => n.name.startsWith('child-')).length
    console.log(`visits = ${visits}, objects made by children = ${children}`)
    ok = statuses.every((s) => s === 0) && visits === 2 && children === 2
  } finally {
    seg.close() // the last handle: Windows deletes the segment, nothing to remove
  }
  process.exit(ok ? 0 : 1)
}
