import t from 'tap'
import { ShmError, invalidArgument, invalidOptions } from '@shmkit/errors'

t.test('carries a stable code, name and structured detail', async (t) => {
  const e = new ShmError('ENOENT', 'no such segment "x"', { errno: 2, syscall: 'shm_open', target: 'x', hint: 'create it first' })
  t.equal(e.name, 'ShmError')
  t.equal(e.code, 'ENOENT')
  t.equal(e.errno, 2)
  t.equal(e.syscall, 'shm_open')
  t.equal(e.target, 'x')
  t.equal(e.hint, 'create it first')
  t.same(e.issues, [])
  t.ok(e instanceof Error)
  t.ok(e instanceof ShmError)
  t.ok(ShmError.is(e, 'ENOENT'))
  t.notOk(ShmError.is(e, 'EEXIST'))
  t.notOk(ShmError.is(new Error('plain')))
})

t.test('instanceof works across copies of the package through the global brand', async (t) => {
  const e = new ShmError('EINVAL', 'x')
  const foreign = Object.create(Error.prototype) as object
  Object.defineProperty(foreign, Symbol.for('shmkit.ShmError'), { value: true })
  t.ok(foreign instanceof ShmError)
  t.ok(e instanceof ShmError)
  t.notOk({} instanceof ShmError)
  t.notOk((null as unknown) instanceof ShmError)
})

t.test('invalidArgument names the argument, the value and the allowed range', async (t) => {
  const e = invalidArgument('size', -1, 'an integer from 1 to 4294967296')
  t.equal(e.code, 'EINVAL')
  t.equal(e.message, 'invalid size: got -1, expected an integer from 1 to 4294967296')
  t.same(e.issues, [{ path: ['size'], message: 'expected an integer from 1 to 4294967296' }])
  t.match(invalidArgument('name', 'a'.repeat(100), 'x').message, /\.\.\."/)
  t.match(invalidArgument('n', 5n, 'x').message, /got 5n/)
})

t.test('invalidOptions lists every issue with its path', async (t) => {
  const e = invalidOptions('options', [
    { path: ['mode'], message: 'must be at most 0o777' },
    { path: [], message: 'unknown key "x"' },
  ])
  t.equal(e.code, 'EINVAL')
  t.equal(e.message, 'invalid options: mode: must be at most 0o777; (root): unknown key "x"')
  t.equal(e.issues.length, 2)
})
