// The raw parent/child examples run and exit 0, and leave nothing behind:
// each names its object after its own pid, so what it made is findable.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { xsiKey } from '@shmkit/ffi-shm'
import { run } from './helpers/run.js'

const examples = fileURLToPath(new URL('../../../examples/', import.meta.url))
const raw = ['posix-parent-child.ts', 'mapped-file-parent-child.ts', 'anonymous-parent-child.ts', 'xsi-parent-child.ts']

/**
 * Keys of the XSI segments that exist now and were made from the XSI
 * example's file: ftok keeps the file's device and inode in the low 24 bits,
 * whatever the project id. Other tests running meanwhile use other files.
 */
function exampleXsiKeys(): Set<number> {
  const fileBits = xsiKey(examples + 'xsi-parent-child.ts', 1) & 0xffffff
  const [, ...rows] = readFileSync('/proc/sysvipc/shm', 'latin1').trim().split('\n')
  return new Set(rows.map((row) => Number(row.trim().split(/\s+/)[0])).filter((key) => (key & 0xffffff) === fileBits))
}

for (const example of raw) {
  t.test(example, async (t) => {
    const keysBefore = exampleXsiKeys()
    const r = await run(process.execPath, ['--import', 'tsx', examples + example])
    t.equal(r.signal, null)
    t.equal(r.code, 0, `${example} exited 0${r.code === 0 ? '' : ':\n' + r.stdout + r.stderr}`)
    t.match(r.stdout, /child: /, 'the child ran and reported')
    t.notMatch(r.stdout, /WRONG|MISSING/)
    const leftovers = [...readdirSync('/dev/shm'), ...readdirSync(tmpdir())].filter((f) => f.startsWith('shmkit-example-'))
    t.same(
      leftovers.filter((f) => !leftoverOfAnotherRun(f)),
      [],
      'no object left in /dev/shm or the temp folder',
    )
    t.same(
      [...exampleXsiKeys()].filter((k) => !keysBefore.has(k)),
      [],
      'no XSI segment left',
    )
  })
}

/** Another helper may be running an example right now: only a live pid's object can be legitimately present. */
function leftoverOfAnotherRun(file: string): boolean {
  const pid = Number(/-(\d+)(?:\.bin)?$/.exec(file)?.[1])
  if (!Number.isSafeInteger(pid)) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
