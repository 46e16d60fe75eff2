// Several Windows Node processes on one segment, for each kind that two
// processes can share on Windows. Wrong answers are counted, not waited for.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ManagedMappedFile, ManagedSharedMemory, ManagedWindowsSharedMemory, type SegmentManager, t as types } from '@shmkit/named-store'
import { fixture, removeMappedFile, runNode, uniqueName } from './helpers.js'

const CHILDREN = 3
const OPS = Number(process.env.SHMKIT_WINDOWS_OPS ?? 1000)

type Kind = 'portable' | 'native' | 'file'

/** Creates the segment; closes and removes it when the test ends (hooks run in order: close first). */
function createKind(kind: Kind, t: { after(fn: () => unknown): void }): { seg: SegmentManager; name: string } {
  const name = kind === 'file' ? join(tmpdir(), `${uniqueName()}.seg`) : uniqueName()
  const seg =
    kind === 'native'
      ? ManagedWindowsSharedMemory.create(name, 8 << 20)
      : kind === 'file'
        ? ManagedMappedFile.create(name, 8 << 20)
        : ManagedSharedMemory.create(name, 8 << 20)
  // A closed segment object still references its views: drop it so they can be collected.
  let open: SegmentManager | undefined = seg
  t.after(() => {
    open?.close()
    open = undefined
  })
  if (kind === 'portable') t.after(() => ManagedSharedMemory.remove(name))
  if (kind === 'file') {
    t.after(() => removeMappedFile(name))
  }
  return { seg, name }
}

for (const kind of ['portable', 'native', 'file'] as const) {
  test(`${kind}: ${CHILDREN} processes x ${OPS} construct/find/destroy/add operations, then a race for 300 names`, async (t) => {
    const { seg, name } = createKind(kind, t)
    const free0 = seg.freeMemory
    const hits = seg.construct('hits', types.uint32, 0)
    const plain = seg.construct('plain', types.uint32, 0)
    const runs = await Promise.all(
      Array.from({ length: CHILDREN }, (_, id) => runNode(fixture('worker.js'), [kind, name, 'stress', String(id), String(OPS), '300'])),
    )
    let adds = 0
    let wrong = 0
    const winners = new Map<number, number>()
    for (const [id, r] of runs.entries()) {
      assert.equal(r.code, 0, `child ${id}: ${r.stderr}`)
      const out = JSON.parse(r.stdout) as { adds: number; wrong: number; objects: Record<string, number>; won: number[] }
      adds += out.adds
      wrong += out.wrong
      for (const [key, value] of Object.entries(out.objects)) if (seg.find(key, types.int32)?.value !== value) wrong++
      for (const i of out.won) winners.set(i, (winners.get(i) ?? 0) + 1)
    }
    assert.equal(wrong, 0, 'no child saw a wrong object, and every object a child kept is there with its value')
    assert.equal(hits.value, adds, 'atomic adds: none lost')
    assert.equal(plain.value, adds, 'read-then-write under withLock: none lost')
    assert.ok(seg.checkSanity())

    assert.equal(winners.size, 300, 'every name was constructed')
    assert.deepEqual([...new Set(winners.values())], [1], 'each by exactly one process')
    for (const info of [...seg.names()]) seg.destroy(info.name)
    assert.ok(seg.allMemoryDeallocated())
    assert.equal(seg.freeMemory, free0)
  })
}
