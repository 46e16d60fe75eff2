// Every example runs and exits 0 (each checks its own results and cleans up).
import t from 'tap'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { spawn } from 'node:child_process'

const dir = fileURLToPath(new URL('../../../examples/', import.meta.url))
const examples = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))

t.ok(examples.length >= 9, `found ${examples.length} examples`)
for (const example of examples) {
  t.test(example, async (t) => {
    const child = spawn(process.execPath, ['--import', 'tsx', dir + example], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    const code = await new Promise((resolve) => child.on('close', resolve))
    t.equal(code, 0, `${example} exited 0${code === 0 ? '' : ':\n' + output}`)
  })
}
