/**
 * A grouped horizontal bar chart as a standalone SVG document: no
 * dependency, opens in any browser and renders on GitHub. Values may span
 * orders of magnitude (84 MB/s next to 10 GB/s), hence the log scale option.
 */
export interface BarChart {
  title: string
  subtitle?: string
  /** Printed after each value and on the axis, e.g. `MB/s`. */
  unit: string
  scale: 'linear' | 'log'
  groups: BarGroup[]
}

export interface BarGroup {
  label: string
  bars: Bar[]
}

export interface Bar {
  /** Bars of the same series share a colour and a legend entry. */
  series: string
  value: number
}

const PALETTE = ['#2563eb', '#f97316', '#16a34a', '#9333ea', '#dc2626', '#0891b2', '#ca8a04', '#64748b']
const WIDTH = 960
const VALUE_WIDTH = 110
const BAR_HEIGHT = 18
const BAR_GAP = 4
const GROUP_GAP = 16
const HEADER = 40
const LEGEND_ROW = 20
/** A rough width of a 12px character, enough to keep legend entries apart. */
const CHAR_WIDTH = 7
const AXIS_HEIGHT = 30

export function renderBarChart(chart: BarChart): string {
  const values = chart.groups.flatMap((g) => g.bars.map((b) => b.value))
  for (const value of values) {
    if (!Number.isFinite(value) || value < 0 || (chart.scale === 'log' && value <= 0)) {
      throw new RangeError(`renderBarChart: ${value} cannot be drawn on a ${chart.scale} scale`)
    }
  }
  const series = [...new Set(chart.groups.flatMap((g) => g.bars.map((b) => b.series)))]
  const colour = (name: string): string => PALETTE[series.indexOf(name) % PALETTE.length] as string
  // Room for the longest group label, within reason: the plot keeps most of the width.
  const labelWidth = Math.min(320, Math.max(80, 20 + CHAR_WIDTH * Math.max(0, ...chart.groups.map((g) => g.label.length))))
  const plotLeft = labelWidth
  const plotWidth = WIDTH - labelWidth - VALUE_WIDTH
  const axis = chart.scale === 'log' ? logAxis(values) : linearAxis(values)
  const x = (value: number): number => plotLeft + axis.fraction(value) * plotWidth

  // The legend flows left to right and wraps, so long series names never overlap.
  const legend: string[] = []
  let legendX = plotLeft
  let legendY = HEADER
  for (const name of series) {
    const entryWidth = 17 + name.length * CHAR_WIDTH + 24
    if (legendX > plotLeft && legendX + entryWidth > WIDTH - 10) {
      legendX = plotLeft
      legendY += LEGEND_ROW
    }
    legend.push(
      `<rect x="${legendX}" y="${legendY}" width="12" height="12" fill="${colour(name)}"/><text class="legend" x="${legendX + 17}" y="${legendY + 10}">${escapeXml(name)}</text>`,
    )
    legendX += entryWidth
  }
  const top = legendY + LEGEND_ROW + 10

  const parts: string[] = []
  let y = top
  for (const group of chart.groups) {
    const groupHeight = group.bars.length * (BAR_HEIGHT + BAR_GAP) - BAR_GAP
    parts.push(
      `<text class="group" x="${plotLeft - 10}" y="${round(y + groupHeight / 2 + 5)}" text-anchor="end">${escapeXml(group.label)}</text>`,
    )
    for (const bar of group.bars) {
      const width = Math.max(1, x(bar.value) - plotLeft)
      parts.push(
        `<rect class="bar" x="${plotLeft}" y="${y}" width="${round(width)}" height="${BAR_HEIGHT}" fill="${colour(bar.series)}">` +
          `<title>${escapeXml(`${group.label}, ${bar.series}: ${formatValue(bar.value)} ${chart.unit}`)}</title></rect>`,
      )
      parts.push(
        `<text class="value" x="${round(plotLeft + width + 5)}" y="${y + BAR_HEIGHT - 5}">${escapeXml(`${formatValue(bar.value)} ${chart.unit}`)}</text>`,
      )
      y += BAR_HEIGHT + BAR_GAP
    }
    y += GROUP_GAP - BAR_GAP
  }
  const plotBottom = y
  const grid = axis.ticks.map((tick) => {
    const tx = round(x(tick))
    return (
      `<line class="grid" x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${plotBottom}"/>` +
      `<text class="tick" x="${tx}" y="${plotBottom + 16}" text-anchor="middle">${escapeXml(formatValue(tick))}</text>`
    )
  })
  const height = plotBottom + AXIS_HEIGHT + 10
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
    '<style>.grid{stroke:#e5e7eb}.tick,.value{fill:#374151}.group{fill:#111827;font-weight:600}.title{font-size:16px;font-weight:700}.subtitle{fill:#6b7280}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text class="title" x="10" y="20">${escapeXml(chart.title)}</text>`,
    chart.subtitle === undefined
      ? ''
      : `<text class="subtitle" x="${WIDTH - 10}" y="20" text-anchor="end">${escapeXml(chart.subtitle)}</text>`,
    ...grid,
    ...legend,
    ...parts,
    `<text class="tick" x="${plotLeft + plotWidth}" y="${plotBottom + AXIS_HEIGHT}" text-anchor="end">${escapeXml(`${chart.unit}${chart.scale === 'log' ? ', log scale' : ''}`)}</text>`,
    '</svg>',
    '',
  ]
    .filter((line) => line !== '')
    .join('\n')
}

interface Axis {
  /** Where a value falls on the axis, 0 (left) to 1 (right). */
  fraction(value: number): number
  ticks: number[]
}

function logAxis(values: number[]): Axis {
  const low = 10 ** Math.floor(Math.log10(Math.min(...values, 1e300)))
  const high = 10 ** Math.max(Math.ceil(Math.log10(Math.max(...values, 0))), Math.log10(low) + 1)
  const span = Math.log10(high) - Math.log10(low)
  const ticks: number[] = []
  for (let tick = low; tick <= high * 1.0001; tick *= 10) ticks.push(tick)
  return { fraction: (value) => (Math.log10(value) - Math.log10(low)) / span, ticks }
}

function linearAxis(values: number[]): Axis {
  const max = Math.max(...values, 0)
  if (max === 0) return { fraction: () => 0, ticks: [0] }
  const step = niceStep(max / 5)
  const high = Math.ceil(max / step) * step
  const ticks = Array.from({ length: Math.round(high / step) + 1 }, (_, i) => i * step)
  return { fraction: (value) => value / high, ticks }
}

function niceStep(raw: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  const normalized = raw / magnitude
  return (normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10) * magnitude
}

/** At least three significant digits, thousands grouped: `84.2`, `1,830`, `6,310`. */
export function formatValue(value: number): string {
  if (value === 0) return '0'
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(value))))
  return value.toLocaleString('en-US', { maximumFractionDigits: Math.min(digits, 6), minimumFractionDigits: 0 })
}

function round(n: number): number {
  return Math.round(n * 10) / 10
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string)
}
