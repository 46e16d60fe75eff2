/** Where a command writes: swapped for buffers when the CLI runs in-process. */
export interface Output {
  /** `--json` was given: print one JSON document on stdout instead of tables. */
  readonly json: boolean
  out(text: string): void
  err(text: string): void
}

export function printJson(output: Output, value: unknown): void {
  output.out(JSON.stringify(value, null, 2) + '\n')
}
