import { ExitCode } from '../cli-error.js'
import { formatBytes } from '../format.js'
import { printJson, type Output } from '../output.js'
import { scanSharedMemory, shmDirectory, type ListedSegment } from '../scan-shm.js'
import { describeLock } from '../segment-summary.js'
import { renderTable, type Column } from '../table.js'

const dash = '-'

const columns: Column<ListedSegment>[] = [
  { header: 'NAME', cell: (s) => s.name },
  { header: 'SIZE', cell: (s) => formatBytes(s.size), align: 'right' },
  { header: 'USED', cell: (s) => (s.status === 'ok' ? formatBytes(s.used) : dash), align: 'right' },
  { header: 'FREE', cell: (s) => (s.status === 'ok' ? formatBytes(s.free) : dash), align: 'right' },
  { header: 'OBJECTS', cell: (s) => (s.status === 'ok' ? String(s.numNamedObjects) : dash), align: 'right' },
  { header: 'LOCK', cell: (s) => (s.status === 'ok' ? describeLock(s.lock) : dash) },
  { header: 'VERSION', cell: (s) => (s.status === 'corrupt' || s.status === 'initializing' ? dash : String(s.version)), align: 'right' },
  { header: 'STATE', cell: (s) => (s.status === 'other-version' ? 'other layout version' : s.status) },
]

export function listCommand(output: Output): ExitCode {
  const directory = shmDirectory()
  const segments = scanSharedMemory(directory)
  if (output.json) {
    printJson(output, { directory, segments })
    return ExitCode.OK
  }
  if (segments.length === 0) {
    output.out(`no shmkit segments in ${directory}\n`)
    return ExitCode.OK
  }
  output.out(renderTable(columns, segments))
  const problems = segments.flatMap((s) => (s.status === 'ok' ? [] : [`${s.name}: ${s.problem}`]))
  if (problems.length > 0) output.out('\n' + problems.join('\n') + '\n')
  return ExitCode.OK
}
