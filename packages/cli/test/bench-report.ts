// The benchmark report's building blocks (benchmarks/lib): the checksum every
// IPC reader computes, the SVG bar chart and the table/target logic. They live
// with the benchmarks; this package's tests are the ones `pnpm test` runs.
import fc from 'fast-check'
import t from 'tap'
import { laneChecksum, laneChecksumReference, stampedChecksum } from '../../../benchmarks/lib/checksum.js'
import { escapeXml, formatValue, renderBarChart, type BarChart } from '../../../benchmarks/lib/chart.js'
import { makePayload, stamp } from '../../../benchmarks/lib/ipc-plan.js'
import { boostChart, ipcChart, parseResultLine, renderMarkdownTable, targetMet } from '../../../benchmarks/lib/report-model.js'

t.test('laneChecksum sums the low and high 32-bit halves of every 8-byte word, each modulo 2^32', (t) => {
  t.equal(laneChecksum(new Uint8Array(0)), 0n)
  t.equal(laneChecksum(new Uint8Array(64)), 0n)
  const words = new Uint32Array([1, 2, 3, 4, 0xffffffff, 0xffffffff])
  // low lane: 1 + 3 + 0xffffffff = 3 (mod 2^32); high lane: 2 + 4 + 0xffffffff = 5
  t.equal(laneChecksum(new Uint8Array(words.buffer)), (5n << 32n) | 3n)
  t.equal(laneChecksumReference(new Uint8Array(words.buffer)), (5n << 32n) | 3n)
  t.throws(() => laneChecksum(new Uint8Array(12)), { name: 'RangeError', message: /12 bytes is not a whole number of 8-byte words/ })
  t.end()
})

t.test('laneChecksum agrees with the BigInt reference for any bytes, aligned or not', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 0, max: 7 }),
      fc.uint8Array({ minLength: 8 * 41 + 8, maxLength: 8 * 41 + 8 }),
      (wordCount, shift, pool) => {
        const bytes = pool.subarray(shift, shift + wordCount * 8)
        return laneChecksum(bytes) === laneChecksumReference(bytes)
      },
    ),
  )
  t.end()
})

t.test('every word counts: changing any byte of a payload changes the checksum', (t) => {
  const { payload, checksum } = makePayload(4096)
  t.equal(laneChecksum(payload), checksum)
  for (const offset of [0, 7, 8, 2047, 4095]) {
    const copy = Buffer.from(payload)
    copy[offset] = (copy[offset] ?? 0) ^ 0x01
    t.not(laneChecksum(copy), checksum, `byte ${offset}`)
  }
  t.end()
})

t.test('stampedChecksum predicts the checksum of a payload stamped with its round', (t) => {
  const { payload, checksum } = makePayload(1 << 16)
  for (const round of [1, 2, 1000, 0xffffffff]) {
    stamp(payload, round)
    t.equal(laneChecksum(payload), stampedChecksum(checksum, round), `round ${round}`)
  }
  t.end()
})

const chart: BarChart = {
  title: 'Throughput <test> & more',
  unit: 'MB/s',
  scale: 'log',
  groups: [
    {
      label: '4 KiB',
      bars: [
        { series: 'shmkit', value: 2000 },
        { series: 'unix socket', value: 20 },
      ],
    },
    {
      label: '1 MiB',
      bars: [
        { series: 'shmkit', value: 5000 },
        { series: 'unix socket', value: 200 },
        { series: 'copy', value: 50000 },
      ],
    },
  ],
}

function bars(svg: string): { width: number; fill: string; title: string }[] {
  return [
    ...svg.matchAll(
      /<rect class="bar" x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="\d+" fill="(#[0-9a-f]{6})"><title>([^<]*)<\/title><\/rect>/g,
    ),
  ].map((m) => ({
    width: Number(m[1]),
    fill: m[2] as string,
    title: m[3] as string,
  }))
}

t.test('renderBarChart draws one bar per value, coloured by series, in a standalone SVG', (t) => {
  const svg = renderBarChart(chart)
  t.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="\d+" viewBox="0 0 \d+ \d+"/)
  t.match(svg, /<\/svg>\n?$/)
  const drawn = bars(svg)
  t.equal(drawn.length, 5)
  t.same(
    drawn.map((b) => b.title),
    [
      '4 KiB, shmkit: 2,000 MB/s',
      '4 KiB, unix socket: 20 MB/s',
      '1 MiB, shmkit: 5,000 MB/s',
      '1 MiB, unix socket: 200 MB/s',
      '1 MiB, copy: 50,000 MB/s',
    ],
  )
  t.equal(drawn[0]?.fill, drawn[2]?.fill, 'one colour per series')
  t.not(drawn[0]?.fill, drawn[1]?.fill)
  t.equal([...svg.matchAll(/class="legend"/g)].length, 3, 'one legend entry per series')
  t.match(svg, 'Throughput &lt;test&gt; &amp; more')
  t.notMatch(svg, '<test>')
  t.end()
})

t.test('on a log scale every factor of ten adds the same length', (t) => {
  const width = new Map(bars(renderBarChart(chart)).map((bar) => [bar.title.replace(/^.*: /, ''), bar.width]))
  const at = (label: string): number => width.get(label) ?? Number.NaN
  const decade = at('200 MB/s') - at('20 MB/s')
  t.ok(decade > 100, 'a decade is a visible length')
  t.ok(Math.abs(at('2,000 MB/s') - at('200 MB/s') - decade) < 0.5, '200 -> 2,000 spans the same length as 20 -> 200')
  t.ok(at('5,000 MB/s') > at('2,000 MB/s') && at('50,000 MB/s') > at('5,000 MB/s'))
  t.end()
})

t.test('on a linear scale bar lengths are proportional to values', (t) => {
  const widths = bars(
    renderBarChart({
      title: 'x',
      unit: 'ns/op',
      scale: 'linear',
      groups: [{ label: 'g', bars: [10, 20, 40].map((value) => ({ series: `s${value}`, value })) }],
    }),
  ).map((b) => b.width)
  t.ok(Math.abs((widths[1] as number) - 2 * (widths[0] as number)) < 1)
  t.ok(Math.abs((widths[2] as number) - 4 * (widths[0] as number)) < 1)
  t.end()
})

t.test('renderBarChart refuses values it cannot draw', (t) => {
  for (const [scale, value] of [
    ['log', 0],
    ['log', -1],
    ['linear', -1],
    ['linear', Number.NaN],
    ['log', Number.POSITIVE_INFINITY],
  ] as const) {
    t.throws(
      () => renderBarChart({ title: 't', unit: 'u', scale, groups: [{ label: 'g', bars: [{ series: 's', value }] }] }),
      { name: 'RangeError', message: /cannot be drawn/ },
      `${value} on ${scale}`,
    )
  }
  t.equal(escapeXml(`a<b>&"c'`), 'a&lt;b&gt;&amp;&quot;c&apos;')
  t.equal(formatValue(84.234), '84.2')
  t.equal(formatValue(6310.4), '6,310')
  t.end()
})

t.test('report rows: JSON lines in, targets judged in the right direction', (t) => {
  t.equal(parseResultLine('x', 'running...'), undefined)
  t.equal(parseResultLine('x', '{"no":"workload"}'), undefined)
  t.equal(parseResultLine('x', '{broken'), undefined)
  const boost = parseResultLine('named-store', '{"workload":"find","ns_per_op":50,"boost_ns_per_op":100,"ratio":0.5,"target":0.5}')
  t.same(boost, { workload: 'find', ns_per_op: 50, boost_ns_per_op: 100, ratio: 0.5, target: 0.5, bench: 'named-store' })
  t.equal(targetMet(boost as NonNullable<typeof boost>), true, 'ns/op ratio: lower is better')
  t.equal(targetMet({ bench: 'b', workload: 'w', ratio: 0.6, target: 0.5 }), false)
  t.equal(
    targetMet({ bench: 'ipc', workload: 'w', ratio: 1.9, target: 2, higher_is_better: true }),
    false,
    'throughput ratio: higher is better',
  )
  t.equal(targetMet({ bench: 'ipc', workload: 'w', ratio: 2.1, target: 2, higher_is_better: true }), true)
  t.equal(targetMet({ bench: 'ipc', workload: 'w' }), undefined)

  const md = renderMarkdownTable([
    boost as NonNullable<typeof boost>,
    { bench: 'ipc', workload: 'a|b', mb_per_s: 84.2, ratio: 1.9, target: 2, higher_is_better: true, baseline: 'unix socket' },
  ])
  const lines = md.trimEnd().split('\n')
  t.equal(lines.length, 4)
  t.match(lines[0], /^\| bench \| workload \| ns\/op \| MB\/s \| Boost ns\/op \| ratio \| target \| met \|$/)
  t.match(lines[2], /^\| named-store \| find \| 50 \|  \| 100 \| 0\.50 \| <= 0\.5 x Boost \| met \|$/)
  t.match(lines[3], /^\| ipc \| a\\\|b \|  \| 84\.2 \|  \| 1\.90 \| >= 2 x unix socket \| MISSED \|$/)
  t.end()
})

t.test('charts are built from the rows that have their figures', (t) => {
  const rows = [
    { bench: 'ipc', workload: 'a', transport: 'shmkit', payload_bytes: 4096, mb_per_s: 2000 },
    { bench: 'ipc', workload: 'b', transport: 'unix socket', payload_bytes: 4096, mb_per_s: 80 },
    { bench: 'ipc', workload: 'c', transport: 'shmkit', payload_bytes: 1 << 20, mb_per_s: 5000 },
    { bench: 'named-store', workload: 'find', ns_per_op: 50, boost_ns_per_op: 100 },
  ]
  const ipc = ipcChart(rows, 'sub')
  t.same(
    ipc?.groups.map((g) => [g.label, g.bars.map((b) => b.series)]),
    [
      ['4 KiB', ['shmkit', 'unix socket']],
      ['1 MiB', ['shmkit']],
    ],
  )
  t.same(boostChart(rows, 'sub')?.groups, [
    {
      label: 'find',
      bars: [
        { series: 'shmkit', value: 50 },
        { series: 'Boost.Interprocess', value: 100 },
      ],
    },
  ])
  t.equal(ipcChart([], 'sub'), undefined)
  t.equal(boostChart([], 'sub'), undefined)
  t.end()
})
