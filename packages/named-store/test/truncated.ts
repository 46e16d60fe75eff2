import t from 'tap'
import { runFixture, tempPath } from './helpers/segments.js'

t.test('a segment file truncated underneath is noticed, not a SIGBUS', async (t) => {
  const path = tempPath(t)
  const r = await runFixture('truncate-underneath.ts', [path])
  t.equal(r.signal, null, 'no SIGBUS')
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /operation: ECORRUPT after \d+ operations; view: ECLOSED; names: ECORRUPT/)
})
