// The release flow's invariants: every published package carries the same version (Changesets'
// `fixed` group), its changelog's newest entry is that version, and its metadata names what a
// registry page shows. A package added later without joining the group fails here.
import t from 'tap'
import { readdirSync, readFileSync, existsSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>

const published = readdirSync(join(root, 'packages'))
  .map((dir) => ({ dir: join(root, 'packages', dir), json: readJson(join(root, 'packages', dir, 'package.json')) }))
  .filter(({ json }) => json.private !== true)

t.test('every published package is in the one fixed version group', async (t) => {
  const config = readJson(join(root, '.changeset', 'config.json'))
  const fixed = (config.fixed as string[][] | undefined) ?? []
  t.equal(fixed.length, 1, 'one fixed group')
  t.same([...(fixed[0] ?? [])].sort(), published.map(({ json }) => json.name).sort())
})

t.test('versions agree and each changelog starts at that version', async (t) => {
  const versions = new Set(published.map(({ json }) => json.version))
  t.equal(versions.size, 1, `one version across packages: ${[...versions].join(', ')}`)
  for (const { dir, json } of published) {
    const changelog = join(dir, 'CHANGELOG.md')
    t.ok(existsSync(changelog), `${json.name} has CHANGELOG.md`)
    if (!existsSync(changelog)) continue
    const newest = /^## (\S+)$/m.exec(readFileSync(changelog, 'utf8'))?.[1]
    t.equal(newest, json.version, `${json.name}: newest changelog entry is its version`)
  }
})

t.test('registry metadata is complete', async (t) => {
  for (const { json } of published) {
    const name = String(json.name)
    for (const key of ['description', 'keywords', 'homepage', 'repository', 'license', 'engines', 'files', 'exports', 'types'])
      t.ok(json[key] !== undefined, `${name} has ${key}`)
    const exports = json.exports as Record<string, { types?: string } | string>
    const main = exports['.']
    t.ok(typeof main === 'object' && typeof main.types === 'string', `${name} exports "." with types first`)
    t.match(String((json.engines as Record<string, string>).node), /20\.19/, `${name} engines name the Node lines tested`)
    t.ok((json.files as string[]).includes('CHANGELOG.md'), `${name} ships its changelog`)
  }
})
