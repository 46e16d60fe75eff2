import t from 'tap'
import { ManagedSharedMemory } from '@shmkit/named-store'
import { runFixture, segmentName } from './helpers/segments.js'
import { sharedState } from './fixtures/sync-state.js'

const soak = Number(process.env.SHMKIT_SOAK_SECONDS ?? 0) > 0

for (const mode of ['count', 'count-async']) {
  t.test(
    `4 processes x ${soak ? 50_000 : 3_000} increments of a plain counter under one mutex (${mode}): exact`,
    { timeout: 280_000 },
    async (t) => {
      const name = segmentName(t)
      using seg = ManagedSharedMemory.create(name, 1 << 20)
      const s = seg.construct('shared', sharedState)
      const n = soak ? 50_000 : 3_000
      const results = await Promise.all(
        [0, 1, 2, 3].map(() => runFixture('sync-child.ts', [mode, name, String(n)], { timeoutMs: 250_000 })),
      )
      // A child killed at the timeout (a very loaded machine) shows as signal SIGKILL, not as a wrong count.
      for (const r of results) t.equal(r.code, 0, `${r.signal ?? ''} ${r.stderr}`)
      const reports = results.map((r) => JSON.parse(r.stdout.trim()) as { wrong: number; died: number })
      t.equal(
        reports.reduce((a, r) => a + r.wrong, 0),
        0,
        'no critical section saw a half-done update',
      )
      t.equal(s.counter, 4 * n, 'no increment lost')
      t.equal(s.mirror, 8 * n)
      t.equal(s.lock.locked, false)
    },
  )
}
