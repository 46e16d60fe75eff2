import t from 'tap'
import { runFixture, tempPath } from './helpers/segments.js'

t.test('a segment file truncated underneath is noticed, not a SIGBUS', async (t) => {
  const path = tempPath(t)
  const r = await runFixture('truncate-underneath.ts', [path])
  t.equal(r.signal, null, 'no SIGBUS')
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /operation: ECORRUPT after \d+ operations; view: ECLOSED; names: ECORRUPT/)
})

for (const bytes of [0, 4096]) {
  t.test(
    `sizeCheck 'every-operation': after a truncation to ${bytes} bytes every operation, cached or not, getters included, answers ECORRUPT`,
    async (t) => {
      const path = tempPath(t)
      const r = await runFixture('truncate-each-op.ts', [path, String(bytes)])
      t.equal(r.signal, null, 'no SIGBUS')
      t.equal(r.code, 0, r.stderr.slice(-2000))
      const answers = JSON.parse(r.stdout) as Record<string, string>
      const periodic = answers['periodic cached finds']
      delete answers['periodic cached finds']
      t.ok(Object.keys(answers).length >= 20, 'every operation was tried')
      t.same(
        Object.entries(answers).filter(([, code]) => code !== 'ECORRUPT'),
        [],
        'none answered anything but ECORRUPT',
      )
      if (bytes >= 4096) t.match(periodic, /^ECORRUPT after \d+$/, 'cached finds count toward the periodic check')
    },
  )
}
