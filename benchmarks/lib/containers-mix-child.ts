// One of the 4 processes of the containers bench's 90 % get / 10 % set mix:
// `kind` is shmkit (a t.map in segment `target`) or lmdb (the env at path
// `target`, noSync, each set its own putSync). Prints {"ops": n}.
import { open as openLmdb } from 'lmdb'
import { ManagedSharedMemory, t } from '@shmkit/named-store'

const [kind, target = '', idArg, secondsArg, keysArg] = process.argv.slice(2)
const keyCount = Number(keysArg)
const keys = Array.from({ length: keyCount }, (_, i) => `key_${i}`)
let x = (Number(idArg) + 1) * 7919
const rand = (): number => (x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff)
const until = performance.now() + Number(secondsArg) * 1000
let ops = 0
let bad = 0

if (kind === 'shmkit') {
  const seg = ManagedSharedMemory.open(target)
  const m = seg.find('map', t.map(t.str(), t.float64))
  if (m === undefined) throw new Error('no map')
  while (performance.now() < until) {
    for (let i = 0; i < 1000; i++, ops++) {
      const k = rand() % keyCount
      if (rand() % 10 === 0) m.set(keys[k] as string, k)
      else if (m.get(keys[k] as string) !== k) bad++
    }
  }
  seg.close()
} else {
  const db = openLmdb<number, string>({ path: target, noSync: true, compression: false })
  while (performance.now() < until) {
    for (let i = 0; i < 1000; i++, ops++) {
      const k = rand() % keyCount
      if (rand() % 10 === 0) db.putSync(keys[k] as string, k)
      else if (db.get(keys[k] as string) !== k) bad++
    }
  }
  await db.close()
}
if (bad !== 0) throw new Error(`${bad} wrong reads`)
console.log(JSON.stringify({ ops }))
