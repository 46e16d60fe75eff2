import type { BarChart } from './chart.js'
import { formatValue } from './chart.js'

/** One JSON line a benchmark printed, as the report keeps it. */
export interface ResultRow {
  bench: string
  workload: string
  ns_per_op?: number
  mb_per_s?: number
  boost_ns_per_op?: number
  /** shmkit over its baseline: ns/op over Boost's (lower is better) unless `higher_is_better`. */
  ratio?: number
  target?: number
  higher_is_better?: boolean
  baseline?: string
  transport?: string
  payload_bytes?: number
  /** What the table shows for the workload, when its id alone would mislead (e.g. a cache hit). */
  label?: string
  [field: string]: unknown
}

export interface BenchOutcome {
  name: string
  file: string
  status: 'ok' | 'missing' | 'failed' | 'timed out'
  seconds: number
  rows: ResultRow[]
  /** Why it failed, for the report. */
  note?: string
}

/** Turns one line of a benchmark's stdout into a row, or undefined if it is not one. */
export function parseResultLine(bench: string, line: string): ResultRow | undefined {
  const trimmed = line.trim()
  if (!trimmed.startsWith('{')) return undefined
  let value: unknown
  try {
    value = JSON.parse(trimmed)
  } catch {
    return undefined
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  const record = value as Record<string, unknown>
  if (typeof record.workload !== 'string') return undefined
  return { ...record, bench, workload: record.workload }
}

/** Whether a row met its target: undefined when it has none. */
export function targetMet(row: ResultRow): boolean | undefined {
  if (row.ratio === undefined || row.target === undefined) return undefined
  return row.higher_is_better === true ? row.ratio >= row.target : row.ratio <= row.target
}

function targetText(row: ResultRow): string {
  if (row.target === undefined) return ''
  const comparison = row.higher_is_better === true ? '>=' : '<='
  const of = row.baseline === undefined ? (row.boost_ns_per_op === undefined ? '' : ' x Boost') : ` x ${row.baseline}`
  return `${comparison} ${row.target}${of}`
}

const cell = (value: number | undefined): string => (value === undefined || !Number.isFinite(value) ? '' : formatValue(value))

interface TableLine {
  bench: string
  workload: string
  nsPerOp: string
  mbPerS: string
  boost: string
  ratio: string
  target: string
  met: string
}

function tableLines(rows: ResultRow[]): TableLine[] {
  return rows.map((row) => {
    const met = targetMet(row)
    return {
      bench: row.bench,
      workload: typeof row.label === 'string' ? row.label : row.workload,
      nsPerOp: cell(row.ns_per_op),
      mbPerS: cell(row.mb_per_s),
      boost: cell(row.boost_ns_per_op),
      ratio: row.ratio === undefined ? '' : row.ratio.toFixed(2),
      target: targetText(row),
      met: met === undefined ? '' : met ? 'met' : 'MISSED',
    }
  })
}

const HEADERS: TableLine = {
  bench: 'bench',
  workload: 'workload',
  nsPerOp: 'ns/op',
  mbPerS: 'MB/s',
  boost: 'Boost ns/op',
  ratio: 'ratio',
  target: 'target',
  met: '',
}
const KEYS = Object.keys(HEADERS) as (keyof TableLine)[]
const NUMERIC = new Set<keyof TableLine>(['nsPerOp', 'mbPerS', 'boost', 'ratio'])

/** The table for a terminal: aligned columns. */
export function renderTextTable(rows: ResultRow[]): string {
  const lines = [HEADERS, ...tableLines(rows)]
  const widths = KEYS.map((key) => Math.max(...lines.map((line) => line[key].length)))
  return (
    lines
      .map((line) =>
        KEYS.map((key, i) => (NUMERIC.has(key) ? line[key].padStart(widths[i] ?? 0) : line[key].padEnd(widths[i] ?? 0)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  )
}

/** The same table in Markdown, for the README. */
export function renderMarkdownTable(rows: ResultRow[]): string {
  const escapePipes = (text: string): string => text.replace(/\|/g, '\\|')
  const header = `| ${KEYS.map((key) => HEADERS[key] || 'met').join(' | ')} |`
  const rule = `| ${KEYS.map((key) => (NUMERIC.has(key) ? '---:' : '---')).join(' | ')} |`
  const body = tableLines(rows).map((line) => `| ${KEYS.map((key) => escapePipes(line[key])).join(' | ')} |`)
  return [header, rule, ...body].join('\n') + '\n'
}

function sizeLabel(bytes: number): string {
  if (bytes >= 1 << 20) return `${bytes / (1 << 20)} MiB`
  if (bytes >= 1 << 10) return `${bytes / (1 << 10)} KiB`
  return `${bytes} B`
}

/** shmkit first, then what a Node user would use instead, then the in-process ceilings. */
const TRANSPORT_ORDER = [
  'shmkit',
  'Boost.Interprocess (C++)',
  'unix socket',
  'child_process IPC',
  'in-process copy',
  'in-process copy+checksum',
]
const transportRank = (name: string): number => {
  const rank = TRANSPORT_ORDER.indexOf(name)
  return rank < 0 ? TRANSPORT_ORDER.length : rank
}

/** Throughput of every IPC transport, grouped by payload size; undefined without IPC rows. */
export function ipcChart(rows: ResultRow[], subtitle: string): BarChart | undefined {
  const ipc = rows.filter(
    (r) => typeof r.transport === 'string' && typeof r.payload_bytes === 'number' && typeof r.mb_per_s === 'number' && r.mb_per_s > 0,
  )
  if (ipc.length === 0) return undefined
  const sizes = [...new Set(ipc.map((r) => r.payload_bytes as number))].sort((a, b) => a - b)
  return {
    title: 'Parent → child throughput (higher is better)',
    subtitle,
    unit: 'MB/s',
    scale: 'log',
    groups: sizes.map((size) => ({
      label: sizeLabel(size),
      bars: ipc
        .filter((r) => r.payload_bytes === size)
        .map((r) => ({ series: r.transport as string, value: r.mb_per_s as number }))
        .sort((a, b) => transportRank(a.series) - transportRank(b.series)),
    })),
  }
}

/** shmkit's ns/op next to Boost's for every workload measured against Boost; undefined without any. */
export function boostChart(rows: ResultRow[], subtitle: string): BarChart | undefined {
  const compared = rows.filter(
    (r) => typeof r.ns_per_op === 'number' && typeof r.boost_ns_per_op === 'number' && r.ns_per_op > 0 && r.boost_ns_per_op > 0,
  )
  if (compared.length === 0) return undefined
  return {
    title: `shmkit vs Boost.Interprocess${new Set(compared.map((r) => r.bench)).size === 1 ? ` (${compared[0]?.bench})` : ''}, ns per operation (lower is better)`,
    subtitle,
    unit: 'ns/op',
    scale: 'log',
    groups: compared.map((r) => ({
      label: compared.some((o) => o.bench !== r.bench) ? `${r.bench}: ${r.workload}` : r.workload,
      bars: [
        { series: 'shmkit', value: r.ns_per_op as number },
        { series: 'Boost.Interprocess', value: r.boost_ns_per_op as number },
      ],
    })),
  }
}
