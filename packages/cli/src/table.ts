/** A column of {@link renderTable}: its header and how to show a row in it. */
export interface Column<Row> {
  header: string
  /** The text shown for `row` in this column. */
  cell: (row: Row) => string
  /** Numbers read best right-aligned. */
  align?: 'left' | 'right'
}

/**
 * A plain-text table: a header line, then one line per row, columns padded to
 * their widest cell and separated by two spaces. Trailing spaces are trimmed so
 * that output compares cleanly in tests and diffs.
 */
export function renderTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const cells = rows.map((row) => columns.map((column) => sanitize(column.cell(row))))
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => (line[i] ?? '').length)))
  const renderLine = (line: readonly string[]): string =>
    line
      .map((text, i) => {
        const width = widths[i] ?? 0
        return columns[i]?.align === 'right' ? text.padStart(width) : text.padEnd(width)
      })
      .join('  ')
      .trimEnd()
  return [renderLine(columns.map((c) => c.header)), ...cells.map(renderLine)].join('\n') + '\n'
}

/**
 * Object names come from segment bytes anyone could have written: control
 * characters would let a name rewrite the terminal, so they are escaped.
 */
export function sanitize(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point: they are escaped
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}
