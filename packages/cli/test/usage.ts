import t from 'tap'
import { shmkit, shmkitJson } from './helpers/shmkit.js'

t.test('help and version exit 0', (t) => {
  const help = shmkit('--help')
  t.equal(help.status, 0)
  t.match(help.stdout, /Usage: shmkit/)
  for (const command of ['ls', 'inspect', 'check', 'rm']) t.match(help.stdout, new RegExp(`^\\s+${command}\\b`, 'm'))
  const inspectHelp = shmkit('inspect', '--help')
  t.equal(inspectHelp.status, 0)
  t.match(inspectHelp.stdout, /--file <path>/)
  t.match(inspectHelp.stdout, /--xsi <key>/)
  t.match(inspectHelp.stdout, /--json/)
  const version = shmkit('--version')
  t.equal(version.status, 0)
  t.match(version.stdout, /^\d+\.\d+\.\d+\n$/)
  t.end()
})

t.test('bad arguments exit 2 with a message', (t) => {
  const cases: [string[], RegExp][] = [
    [[], /Usage: shmkit/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['ls', '--colour'], /unknown option '--colour'/],
    [['ls', 'extra'], /too many arguments for 'ls'/],
    [['inspect'], /give exactly one of a segment NAME, --file PATH or --xsi KEY \(got 0\)/],
    [['inspect', 'a', '--file', '/tmp/b'], /give exactly one of .* \(got 2\)/],
    [['inspect', '--xsi', 'zz'], /invalid XSI key "zz"/],
    [['inspect', '--xsi', '0x1ffffffff'], /invalid XSI key/],
    [['inspect', '--xsi', '0'], /IPC_PRIVATE/],
    [['check', '--file'], /option '--file <path>' argument missing/],
    [['inspect', 'a/b'], /invalid name: got "a\/b"/],
    [['rm'], /give at least one segment NAME/],
  ]
  for (const [args, message] of cases) {
    const run = shmkit(...args)
    t.equal(run.status, 2, `shmkit ${args.join(' ')} exits 2`)
    t.match(run.stderr, message, `shmkit ${args.join(' ')} says why`)
  }
  t.end()
})

t.test('--json errors are a JSON object on stdout too', (t) => {
  const { status, json } = shmkitJson<{ error: { code: string; message: string } }>('inspect', '--xsi', 'nope')
  t.equal(status, 2)
  t.match(json, { error: { code: 'EUSAGE', message: /invalid XSI key/ } })
  t.end()
})
