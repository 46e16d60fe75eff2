// The examples that apply to Windows run there and exit 0 (each checks its
// own results and cleans up). Left out: anonymous-parent-child (memfd),
// managed-xsi and xsi-parent-child (System V) are POSIX-only by design;
// managed-mapped-file and mapped-file-parent-child delete their file right
// after close(), which Windows refuses while the closed views still wait for
// garbage collection (README, "Windows"): they are run, and must fail with
// exactly that EACCES, so the day this changes the list is updated.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runNode } from './helpers.js'

const dist = fileURLToPath(new URL('../../../../examples/dist/', import.meta.url))
const examples = ['posix-parent-child', 'managed-parent-child', 'offset-handoff', 'managed-heap-and-buffer', 'windows-parent-child']
const refusedDelete = ['managed-mapped-file', 'mapped-file-parent-child']

for (const example of examples) {
  test(example, async () => {
    const r = await runNode(`${dist}${example}.js`, [], 600_000)
    assert.equal(r.code, 0, `${example} exited ${r.code}:\n${r.stdout}\n${r.stderr}`)
  })
}

for (const example of refusedDelete) {
  test(`${example}: runs, then Windows refuses to delete the still-mapped file (EACCES)`, async (t) => {
    // The example's process has exited, so its views are gone: its file can be deleted now.
    t.after(() => {
      for (const f of readdirSync(tmpdir())) if (f.startsWith('shmkit-example-')) rmSync(join(tmpdir(), f), { force: true })
    })
    const r = await runNode(`${dist}${example}.js`, [], 600_000)
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /EACCES|EPERM/, r.stderr)
  })
}
