import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { ShmError } from '@shmkit/errors'
import { errorJson, ExitCode, exitCodeOf, UsageError } from './cli-error.js'
import { checkCommand } from './commands/check.js'
import { getCommand } from './commands/get.js'
import { inspectCommand } from './commands/inspect.js'
import { listCommand } from './commands/ls.js'
import { removeCommand } from './commands/rm.js'
import { printJson, type Output } from './output.js'
import { parseXsiKey, resolveTarget, type SegmentTarget, type TargetOptions } from './segment-target.js'

/** Where `runCli` writes: standard output and standard error, or a test's buffers. */
export interface CliStreams {
  /** Standard output. */
  out(text: string): void
  /** Standard error. */
  err(text: string): void
}

const processStreams: CliStreams = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown }
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0'
  } catch {
    return '0.0.0'
  }
}

const collect = (value: string, previous: string[]): string[] => [...previous, value]

/**
 * Runs one command line (without `node` and the script) and returns the exit
 * status: 0 done, 1 a corrupt segment or another failure, 2 bad arguments or
 * an unknown segment. Never calls process.exit, so it also runs in-process.
 */
export function runCli(argv: readonly string[], rawStreams: CliStreams = processStreams): ExitCode {
  // Names and messages carry bytes anyone with write access to a segment chose: nothing reaches the terminal unescaped.
  const streams: CliStreams = { out: (text) => rawStreams.out(escapeControls(text)), err: (text) => rawStreams.err(escapeControls(text)) }
  let exit: ExitCode = ExitCode.OK
  const program = new Command('shmkit')
  const outputFor = (): Output => ({ json: program.opts<{ json?: boolean }>().json === true, out: streams.out, err: streams.err })

  program
    .description('Inspect and manage shmkit shared memory segments')
    .version(packageVersion(), '-V, --version')
    .option('--json', 'print one JSON document on stdout, for scripts')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({ writeOut: streams.out, writeErr: streams.err })
    .showSuggestionAfterError()

  program
    .command('ls')
    .description('list every shmkit segment on this machine: size, use, objects, lock, layout version')
    .action(() => {
      exit = listCommand(outputFor())
    })

  program
    .command('inspect')
    .description('show the named objects of a segment, its free memory, fragmentation and free-block histogram')
    .argument('[name]', 'POSIX shared memory name of the segment')
    .option('--file <path>', 'a segment in a mapped file')
    .option('--xsi <key>', 'an XSI (System V) segment, by key: 0x1234abcd or decimal')
    .action((name: string | undefined, options: TargetOptions) => {
      exit = inspectCommand(resolveTarget(name, options), outputFor())
    })

  program
    .command('check')
    .description("run the segment's sanity check read-only: exit 0 healthy, 1 corrupt")
    .argument('[name]', 'POSIX shared memory name of the segment')
    .option('--file <path>', 'a segment in a mapped file')
    .option('--xsi <key>', 'an XSI (System V) segment, by key: 0x1234abcd or decimal')
    .action((name: string | undefined, options: TargetOptions) => {
      exit = checkCommand(resolveTarget(name, options), outputFor())
    })

  program
    .command('get')
    .description(
      'print the value of a named object, decoded from its stored type (maps, vectors and strings too); KEY: a map key or an index',
    )
    .argument('<args...>', 'SEGMENT NAME [KEY] (NAME [KEY] with --file or --xsi)')
    .option('--file <path>', 'a segment in a mapped file')
    .option('--xsi <key>', 'an XSI (System V) segment, by key: 0x1234abcd or decimal')
    .action((args: string[], options: TargetOptions) => {
      const named = options.file !== undefined || options.xsi !== undefined
      const [segment, name, key, extra] = named ? [undefined, ...args] : args
      if (name === undefined || extra !== undefined) throw new UsageError('expected SEGMENT NAME [KEY] (or NAME [KEY] with --file / --xsi)')
      exit = getCommand(resolveTarget(segment, options), name, key, outputFor())
    })

  program
    .command('rm')
    .description('remove segments; refuses objects that are not shmkit segments unless --force')
    .argument('[names...]', 'POSIX shared memory names')
    .option('--file <path>', 'a segment in a mapped file (repeatable)', collect, [])
    .option('--xsi <key>', 'an XSI segment by key (repeatable)', collect, [])
    .option('-f, --force', 'remove objects even if they are not shmkit segments')
    .action((names: string[], options: { file: string[]; xsi: string[]; force?: boolean }) => {
      const targets: SegmentTarget[] = [
        ...names.map((name): SegmentTarget => ({ kind: 'posix', name })),
        ...options.file.map((path): SegmentTarget => ({ kind: 'file', path })),
        ...options.xsi.map((key): SegmentTarget => ({ kind: 'xsi', key: parseXsiKey(key) })),
      ]
      if (targets.length === 0) throw new UsageError('give at least one segment NAME, --file PATH or --xsi KEY to remove')
      exit = removeCommand(targets, options.force === true, outputFor())
    })

  try {
    program.parse([...argv], { from: 'user' })
    return exit
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and --version end with 0; everything else commander rejects is a usage error.
      return e.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE
    }
    reportError(e, program, streams)
    return exitCodeOf(e)
  }
}

function reportError(e: unknown, program: Command, streams: CliStreams): void {
  const command = program.args[0]
  const prefix = command === undefined ? 'shmkit' : `shmkit ${command}`
  const message = e instanceof Error ? e.message : String(e)
  streams.err(`${prefix}: ${message}\n`)
  if (e instanceof ShmError && e.hint !== undefined) streams.err(`hint: ${e.hint}\n`)
  if (e instanceof UsageError) streams.err(`(run \`shmkit ${command === undefined ? '' : command + ' '}--help\` for usage)\n`)
  if (!(e instanceof ShmError) && !(e instanceof UsageError) && e instanceof Error && e.stack !== undefined) streams.err(`${e.stack}\n`)
  if (program.opts<{ json?: boolean }>().json === true)
    printJson({ json: true, out: streams.out, err: streams.err }, { error: errorJson(e) })
}

/**
 * Every control character but the newline (and the bidirectional overrides
 * that reorder what a terminal shows) as a visible `\xNN` / `\uNNNN`: a
 * hostile object name must not move the cursor, retitle the window or hide
 * itself. JSON output is already escaped by JSON.stringify.
 */
export function escapeControls(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point: they are escaped
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0)
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}
