/** A value as JSON can hold it: bigints as decimal strings, bytes as number lists. */
export function plainJson(value: unknown): unknown {
  if (typeof value === 'bigint') return String(value)
  if (value instanceof Uint8Array) return [...value]
  if (Array.isArray(value)) return value.map(plainJson)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = plainJson(v)
    return out
  }
  return value
}
