// An anonymous object has no name: hand its offset to another process, which
// reaches it with `at`. Offsets, never addresses: each process maps the
// segment elsewhere.
//
//   npx tsx examples/offset-handoff.ts
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ManagedSharedMemory, t } from '@shmkit/named-store'

const Message = t.struct({ id: t.uint32, text: t.string(64), reply: t.string(64) })
const [role, name, offset] = process.argv.slice(2)

if (role === 'child') {
  const seg = ManagedSharedMemory.open(name ?? '')
  const msg = seg.at(Number(offset), Message)
  msg.reply = `child ${process.pid} read #${msg.id}: "${msg.text}"`
  seg.close()
} else {
  const segName = `shmkit-handoff-${process.pid}`
  const seg = ManagedSharedMemory.create(segName, 1 << 20)
  let ok = false
  try {
    const msg = seg.anonymous(Message, { id: 42, text: 'hello through an offset', reply: '' })
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'child', segName, String(msg.offset)], {
      stdio: 'inherit',
    })
    console.log(`offset ${msg.offset} -> ${msg.reply}`)
    ok = r.status === 0 && msg.reply.includes('#42')
    seg.destroyPtr(msg)
    ok &&= seg.allMemoryDeallocated()
  } finally {
    seg.close()
    ManagedSharedMemory.remove(segName)
  }
  process.exit(ok ? 0 : 1)
}
