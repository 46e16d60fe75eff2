import t from 'tap'
import { ManagedSharedMemory, t as types } from '@shmkit/named-store'
import { removeQuietly, shmkit, shmkitJson, uniqueName } from './helpers/shmkit.js'

t.test('inspect shows container sizes', { timeout: 600_000 }, (t) => {
  const name = uniqueName('inspect-containers')
  t.teardown(() => removeQuietly(name))
  const seg = ManagedSharedMemory.create(name, 1 << 20)
  seg.construct('samples', types.vector(types.float64), [1, 2, 3])
  const m = seg.construct('cache', types.map(types.str(), types.str(), { maxEntries: 10 }))
  m.set('a', 'x').set('b', 'y')
  seg.close()
  const { json } = shmkitJson<{ containers: unknown[] }>('inspect', name)
  t.match(json.containers, [
    { name: 'samples', type: 'vector(float64)', length: 3, capacity: 4 },
    { name: 'cache', type: 'map(str,str)', length: 2, capacity: 16 },
  ])
  const text = shmkit('inspect', name).stdout
  t.match(text, /samples: 3 elements, capacity 4/)
  t.match(text, /cache: 2 entries, 16 slots, \d+ B/)
  t.end()
})
