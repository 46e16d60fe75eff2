// A stranger's view of shmkit: `pnpm pack` every published package, install the tarballs into
// fresh projects outside this workspace (npm ESM, CommonJS, a pnpm workspace, TypeScript with
// "nodenext" and "bundler" resolution), run the README's quick start and `shmkit ls` there, and
// type-check the README's TypeScript blocks against the installed declarations. A file missing
// from a package's `files`, a broken `exports` map, an undeclared dependency or a README example
// that no longer compiles fails here. Third-party dependencies (koffi, zod, commander) come from
// the npm registry (`--prefer-offline`: the local cache first).
//
// Nothing from this workspace may leak in: children run with a PATH, NODE_OPTIONS and NODE_PATH
// stripped of the workspace, and every module they resolve (ours and our dependencies, as seen
// from each of our packages) must live under the temporary project.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const SHM_DIR = '/dev/shm'

if (process.platform === 'win32') {
  t.plan(0, 'the consumer test runs the POSIX quick start')
  process.exit(0)
}

// Installing from the registry on a loaded machine can be slow; nothing here asserts on time.
t.setTimeout(900_000)

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

const workspaceBin = (entry: string): boolean => resolve(entry).startsWith(root)
/** The environment a stranger's shell has: no trace of this workspace or of tap's loader. */
const cleanEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'NODE_OPTIONS' || key === 'NODE_PATH' || key.startsWith('npm_') || key.startsWith('PNPM_') || key.startsWith('TAP'))
      continue
    env[key] = value
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((entry) => entry !== '' && !workspaceBin(entry))
    .join(delimiter)
  return env
}

function run(command: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', fail)
    child.on('close', (code) => done({ code, stdout, stderr }))
  })
}

async function mustRun(command: string, args: string[], cwd: string): Promise<string> {
  const result = await run(command, args, cwd)
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${result.code}\n${result.stdout}\n${result.stderr}`)
  }
  return result.stdout
}

const writeJson = (path: string, value: unknown): void => writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`)
const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>

// ---- the packages, packed once -------------------------------------------------------------

const work = mkdtempSync(join(realpathSync(tmpdir()), 'shmkit-consumer-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))
const segments: string[] = []
t.teardown(() => {
  for (const name of segments) rmSync(join(SHM_DIR, name), { force: true })
})
const segmentName = (): string => {
  const name = `shmkit-consumer-${process.pid}-${randomBytes(4).toString('hex')}`
  segments.push(name)
  return name
}

const published = readdirSync(join(root, 'packages'))
  .map((dir) => ({ dir: join(root, 'packages', dir), json: readJson(join(root, 'packages', dir, 'package.json')) }))
  .filter(({ json }) => json.private !== true)
const tarballDir = join(work, 'tarballs')
mkdirSync(tarballDir)
/** Package name -> absolute path of its tarball. */
const tarballs = new Map<string, string>()
for (const { dir, json } of published) {
  const before = new Set(readdirSync(tarballDir))
  await mustRun('pnpm', ['pack', '--pack-destination', tarballDir], dir)
  const made = readdirSync(tarballDir).filter((file) => !before.has(file))
  if (made.length !== 1 || made[0] === undefined) throw new Error(`pnpm pack in ${dir} made ${made.join(', ') || 'nothing'}`)
  tarballs.set(String(json.name), join(tarballDir, made[0]))
}
const fileDeps = Object.fromEntries([...tarballs].map(([name, path]) => [name, `file:${path}`]))
const rootDevDeps = readJson(join(root, 'package.json')).devDependencies as Record<string, string>

// ---- the scripts a user writes -------------------------------------------------------------

// The README's quick start, as two processes: A creates the segment and its objects, B (an
// unrelated process) finds them by name, updates them and meets ETYPE; A checks B's updates.
const QUICKSTART_A = `import { spawnSync } from 'node:child_process'
import { ManagedSharedMemory, t } from '@shmkit/named-store'

const name = process.argv[2]
const Stats = t.struct({ requests: t.uint32, mean: t.float64, host: t.string(32) })
const seg = ManagedSharedMemory.create(name, 64 << 20)
seg.construct('stats', Stats, { requests: 0, mean: 0, host: 'a' })
seg.construct('counter', t.uint32, 0)

const b = spawnSync(process.execPath, [new URL('./quickstart-b.mjs', import.meta.url).pathname, name], { encoding: 'utf8' })
const stats = seg.find('stats', Stats)
console.log(JSON.stringify({
  child: { status: b.status, stdout: b.stdout.trim(), stderr: b.stderr.trim() },
  counter: seg.find('counter', t.uint32)?.value,
  requests: stats?.requests,
  host: stats?.host,
  objects: seg.numNamedObjects,
}))
seg.close()
`
const QUICKSTART_B = `import { ManagedSharedMemory, ShmError, t } from '@shmkit/named-store'

const Stats = t.struct({ requests: t.uint32, mean: t.float64, host: t.string(32) })
const seg = ManagedSharedMemory.open(process.argv[2])
seg.find('counter', t.uint32)?.add(1)
const stats = seg.find('stats', Stats)
stats.requests += 1
try {
  seg.find('stats', t.int32)
  console.log('no error')
} catch (e) {
  console.log(e instanceof ShmError ? e.code : String(e))
}
seg.close()
`
// Where every module resolves from, seen from the project and from inside each of our packages
// (pnpm gives a package only its declared dependencies, so resolve them from where they are used).
const RESOLUTIONS = `import { createRequire } from 'node:module'
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const found = {}
// Our packages the project imports, then, transitively, each dependency as the package that
// declares it resolves it (koffi is only visible from @shmkit/ffi-shm under pnpm).
const queue = JSON.parse(process.argv[2]).map((name) => [name, fileURLToPath(import.meta.resolve(name))])
const seen = new Set()
while (queue.length > 0) {
  const [name, entry] = queue.shift()
  if (seen.has(name)) continue
  seen.add(name)
  const real = realpathSync(entry)
  found[name] = real
  const json = createRequire(real)(name + '/package.json')
  for (const dep of Object.keys(json.dependencies ?? {})) {
    const path = realpathSync(createRequire(real).resolve(dep))
    found[name + ' -> ' + dep] = path
    if (dep.startsWith('@shmkit/')) queue.push([dep, path])
  }
}
console.log(JSON.stringify(found))
`

interface QuickstartReport {
  child: { status: number | null; stdout: string; stderr: string }
  counter?: number
  requests?: number
  host?: string
  objects?: number
}

interface ListedSegment {
  name: string
  status: string
  numNamedObjects?: number
}

/** Runs the quick start in `dir`, then `shmkit ls` and `shmkit rm` through the installed bin. */
async function quickstartAndLs(t: Test, dir: string, shmkitBin: string): Promise<void> {
  writeFileSync(join(dir, 'quickstart-a.mjs'), QUICKSTART_A)
  writeFileSync(join(dir, 'quickstart-b.mjs'), QUICKSTART_B)
  const name = segmentName()
  const report = JSON.parse(await mustRun(process.execPath, ['quickstart-a.mjs', name], dir)) as QuickstartReport
  t.same(report.child, { status: 0, stdout: 'ETYPE', stderr: '' }, 'process B found, updated, and got ETYPE for a wrong type')
  t.equal(report.counter, 1, "B's atomic add is seen by A")
  t.equal(report.requests, 1, "B's write through the live struct view is seen by A")
  t.equal(report.host, 'a')
  t.equal(report.objects, 2)

  const listed = JSON.parse(await mustRun(shmkitBin, ['ls', '--json'], dir)) as { segments: ListedSegment[] }
  const ours = listed.segments.find((s) => s.name === name)
  t.match(ours, { name, status: 'ok', numNamedObjects: 2 }, 'shmkit ls lists the quick start segment')
  await mustRun(shmkitBin, ['rm', name], dir)
  const after = JSON.parse(await mustRun(shmkitBin, ['ls', '--json'], dir)) as { segments: ListedSegment[] }
  t.notOk(
    after.segments.some((s) => s.name === name),
    'shmkit rm removed it',
  )
}

async function checkResolutions(t: Test, project: string, script: string, names: string[]): Promise<void> {
  // The script sits beside the user's code, so it resolves what that code resolves.
  const resolver = join(dirname(script), 'resolutions.mjs')
  writeFileSync(resolver, RESOLUTIONS)
  const output = await mustRun(process.execPath, [resolver, JSON.stringify(names)], dirname(script))
  const found = JSON.parse(output) as Record<string, string>
  const entries = Object.entries(found)
  t.ok(entries.length > names.length, `${entries.length} modules resolved`)
  const outside = entries.filter(([, path]) => !path.startsWith(`${project}/`))
  t.same(outside, [], 'every module resolves inside the temporary project, none from the workspace')
  for (const name of ['koffi', 'zod'])
    t.ok(
      entries.some(([label]) => label.endsWith(`-> ${name}`)),
      `${name} was resolved and checked`,
    )
}

const npmInstall = (dir: string): Promise<string> =>
  mustRun('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], dir)

// ---- the projects --------------------------------------------------------------------------

const npmProject = join(work, 'npm-esm')
const cjsProject = join(work, 'npm-cjs')
const tsProject = join(work, 'typescript')
const pnpmWorkspace = join(work, 'pnpm-workspace')
const pnpmApp = join(pnpmWorkspace, 'app')
for (const dir of [npmProject, cjsProject, tsProject, pnpmApp]) mkdirSync(dir, { recursive: true })

writeJson(join(npmProject, 'package.json'), { name: 'consumer-esm', private: true, type: 'module', dependencies: fileDeps })
writeJson(join(cjsProject, 'package.json'), { name: 'consumer-cjs', private: true, type: 'commonjs', dependencies: fileDeps })
writeJson(join(tsProject, 'package.json'), {
  name: 'consumer-ts',
  private: true,
  type: 'module',
  dependencies: fileDeps,
  devDependencies: { typescript: rootDevDeps.typescript, '@types/node': rootDevDeps['@types/node'] },
})
// A pnpm workspace of the user's own: its app asks for the two packages an application uses;
// the overrides point our packages' dependencies on each other at the tarballs, not the registry.
writeJson(join(pnpmWorkspace, 'package.json'), { name: 'consumer-pnpm-root', private: true })
writeFileSync(
  join(pnpmWorkspace, 'pnpm-workspace.yaml'),
  ['packages:', '  - app', 'overrides:', ...[...tarballs].map(([name, path]) => `  '${name}': 'file:${path}'`), ''].join('\n'),
)
writeJson(join(pnpmApp, 'package.json'), {
  name: 'consumer-pnpm-app',
  private: true,
  type: 'module',
  dependencies: { '@shmkit/named-store': fileDeps['@shmkit/named-store'], '@shmkit/cli': fileDeps['@shmkit/cli'] },
})

// The four installs overlap: they mostly wait on the network and the disk.
const installed = Promise.all([
  npmInstall(npmProject),
  npmInstall(cjsProject),
  npmInstall(tsProject),
  mustRun('pnpm', ['install', '--prefer-offline', '--reporter=silent'], pnpmWorkspace),
])
await installed

const ourNames = [...tarballs.keys()]

t.test('npm project (ESM): quick start, shmkit ls, resolution', async (t) => {
  await quickstartAndLs(t, npmProject, join(npmProject, 'node_modules', '.bin', 'shmkit'))
  await checkResolutions(t, npmProject, join(npmProject, 'quickstart-a.mjs'), ourNames)
})

t.test('pnpm workspace: an app depending on named-store and cli', async (t) => {
  await quickstartAndLs(t, pnpmApp, join(pnpmApp, 'node_modules', '.bin', 'shmkit'))
  await checkResolutions(t, pnpmWorkspace, join(pnpmApp, 'quickstart-a.mjs'), ['@shmkit/named-store', '@shmkit/cli'])
})

// require() of an ES module works without a flag from Node 20.19 and 22.12 (process.features
// .require_module); on older lines a CommonJS project must use import() instead.
const requireEsm = (process.features as unknown as Record<string, unknown>).require_module === true
t.test(
  'CommonJS project: require() of every package',
  { skip: requireEsm ? false : `require(esm) is off in Node ${process.version}` },
  async (t) => {
    const name = segmentName()
    writeFileSync(
      join(cjsProject, 'quickstart.cjs'),
      `const { ManagedSharedMemory, t, ShmError } = require('@shmkit/named-store')
const { RbTreeBestFit } = require('@shmkit/allocator')
const { SharedMemoryObject } = require('@shmkit/ffi-shm')
const errors = require('@shmkit/errors')
const cli = require('@shmkit/cli')
const seg = ManagedSharedMemory.create(process.argv[2], 1 << 20)
seg.construct('counter', t.uint32, 41)
const other = ManagedSharedMemory.open(process.argv[2])
other.find('counter', t.uint32).add(1)
let code
try { other.find('counter', t.float64) } catch (e) { code = e instanceof errors.ShmError && e.code }
console.log(JSON.stringify({
  value: seg.find('counter', t.uint32).value, code,
  kinds: [typeof RbTreeBestFit.format, typeof SharedMemoryObject.create, typeof cli.runCli, ShmError === errors.ShmError],
  resolved: ['@shmkit/named-store', '@shmkit/cli'].map((n) => require('fs').realpathSync(require.resolve(n))),
}))
other.close(); seg.close()
ManagedSharedMemory.remove(process.argv[2])
`,
    )
    const report = JSON.parse(await mustRun(process.execPath, ['quickstart.cjs', name], cjsProject)) as {
      value: number
      code: string
      kinds: unknown[]
      resolved: string[]
    }
    t.equal(report.value, 42, 'a write through one handle is seen through the other')
    t.equal(report.code, 'ETYPE')
    t.same(report.kinds, ['function', 'function', 'function', true], 'every package loads through require()')
    t.ok(
      report.resolved.every((path) => path.startsWith(`${cjsProject}/`)),
      `require.resolve stays in the project: ${report.resolved.join(', ')}`,
    )
  },
)

// ---- TypeScript: the README's examples against the installed declarations ------------------

/**
 * The README's ```ts blocks, one file each; a block without an import continues the previous
 * one (it uses its names). A block fenced ```ts nocheck is a fragment and is skipped.
 */
function readmeExamples(): string[] {
  const files: string[] = []
  const fence = /^```ts([^\n]*)\n([\s\S]*?)^```/gm
  for (const [, info = '', body = ''] of readFileSync(join(root, 'README.md'), 'utf8').matchAll(fence)) {
    if (info.includes('nocheck')) continue
    if (/^import /m.test(body) || files.length === 0) files.push(body)
    else files[files.length - 1] += `\n${body}`
  }
  return files
}

t.test('TypeScript project: README examples type-check with nodenext and bundler resolution', async (t) => {
  const examples = readmeExamples()
  t.ok(examples.length >= 3, `${examples.length} README examples`)
  mkdirSync(join(tsProject, 'src'), { recursive: true })
  examples.forEach((body, i) => {
    writeFileSync(join(tsProject, 'src', `readme-${i}.ts`), `${body}\nexport {}\n`)
  })
  const common = {
    target: 'ES2022',
    lib: ['ES2022', 'ESNext.Disposable'],
    strict: true,
    noUncheckedIndexedAccess: true,
    noEmit: true,
    skipLibCheck: false,
    types: ['node'],
  }
  const configs = {
    nodenext: { ...common, module: 'NodeNext', moduleResolution: 'NodeNext' },
    bundler: { ...common, module: 'ESNext', moduleResolution: 'Bundler' },
  }
  for (const [kind, compilerOptions] of Object.entries(configs)) {
    writeJson(join(tsProject, `tsconfig.${kind}.json`), { compilerOptions, include: ['src'] })
    const result = await run(
      process.execPath,
      [join(tsProject, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', `tsconfig.${kind}.json`, '--listFiles'],
      tsProject,
    )
    const errors = result.stdout.split('\n').filter((line) => /error TS\d+/.test(line))
    t.same(errors, [], `${kind}: no type errors`)
    t.equal(result.code, 0, `${kind}: tsc exits 0`)
    const files = result.stdout.split('\n').filter((line) => line.startsWith('/'))
    t.ok(
      files.some((file) => file.includes('/node_modules/@shmkit/named-store/dist/src/index.d.ts')),
      `${kind}: named-store's declarations come from the installed package`,
    )
    t.same(
      files.filter((file) => !file.startsWith(`${tsProject}/`)),
      [],
      `${kind}: every file tsc read is inside the project`,
    )
  }
})
