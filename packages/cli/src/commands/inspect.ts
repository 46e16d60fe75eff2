import type { ObjectInfo } from '@shmkit/named-store'
import { ExitCode } from '../cli-error.js'
import { formatBytes, formatPercent } from '../format.js'
import { printJson, type Output } from '../output.js'
import { openForReading } from '../open-for-reading.js'
import { describeLock, inspectSegment, type SegmentInspection } from '../segment-summary.js'
import { renderTable, type Column } from '../table.js'
import { containerSizes, type ContainerSize } from '../container-sizes.js'
import { targetDescription, type SegmentTarget } from '../segment-target.js'

const HISTOGRAM_BAR_WIDTH = 40

const objectColumns: Column<ObjectInfo>[] = [
  { header: 'NAME', cell: (o) => o.name },
  { header: 'TYPE', cell: (o) => o.type },
  { header: 'COUNT', cell: (o) => String(o.count), align: 'right' },
  { header: 'BYTES', cell: (o) => String(o.byteLength), align: 'right' },
  { header: 'OFFSET', cell: (o) => String(o.offset), align: 'right' },
]

export function inspectCommand(target: SegmentTarget, output: Output): ExitCode {
  const segment = openForReading(target)
  let report: SegmentInspection & { containers: ContainerSize[] }
  try {
    const inspection = inspectSegment(segment, targetDescription(target))
    report = { ...inspection, containers: containerSizes(segment, inspection.objects) }
  } finally {
    segment.close()
  }
  if (output.json) printJson(output, report)
  else output.out(renderInspection(report))
  return ExitCode.OK
}

/** The text `shmkit inspect` prints for a report. */
export function renderInspection(report: SegmentInspection & { containers?: ContainerSize[] }): string {
  const lines: string[] = []
  lines.push(`${report.target}: ${formatBytes(report.size)}, layout version ${report.version}, lock ${describeLock(report.lock)}`)
  lines.push(
    `used ${formatBytes(report.used)}, free ${formatBytes(report.free)} (${formatPercent(report.size === 0 ? 0 : report.free / report.size)}); ` +
      `${report.numNamedObjects} named, ${report.numUniqueObjects} unique objects; ${report.recoveries} lock recoveries`,
  )
  lines.push('')
  if (report.objects.length === 0) lines.push('no named objects')
  else lines.push(renderTable(objectColumns, report.objects).trimEnd())
  for (const c of report.containers ?? []) {
    const what = c.type.startsWith('vector(')
      ? `${c.length} elements, capacity ${c.capacity}`
      : `${c.length} entries, ${c.capacity} slots${c.bytes === undefined ? '' : `, ${c.bytes} B`}`
    lines.push(`  ${c.name}: ${what}`)
  }
  lines.push('')
  lines.push(
    `free memory ${report.free} B in ${report.freeBlockCount} blocks, largest free block ${report.largestFreeBlock} B, ` +
      `fragmentation ${formatPercent(report.fragmentation)}`,
  )
  if (report.freeBlockHistogram.length > 0) {
    lines.push('free blocks by size:')
    const most = Math.max(...report.freeBlockHistogram.map((bucket) => bucket.count))
    const rows = report.freeBlockHistogram.map((bucket) => ({
      upTo: `<= ${formatBytes(bucket.upTo)}`,
      count: String(bucket.count),
      bar: '#'.repeat(Math.max(1, Math.round((bucket.count / most) * HISTOGRAM_BAR_WIDTH))),
    }))
    const upToWidth = Math.max(...rows.map((r) => r.upTo.length))
    const countWidth = Math.max(...rows.map((r) => r.count.length))
    for (const r of rows) lines.push(`  ${r.upTo.padStart(upToWidth)}  ${r.count.padStart(countWidth)}  ${r.bar}`)
  }
  return lines.join('\n') + '\n'
}
