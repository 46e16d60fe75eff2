import type { SegmentMemory } from '../types/memory.js'
import { typeFromName } from '../types/parse-name.js'

/** Names of types that keep data out of line: `str`, `bytes` (not `bytes(n)`), `json`, `vector(`, `map(`. */
const OWNS_HEAP = /(?:^|[:(,{])(?:str|json|bytes)(?=$|[,)}])|(?:^|[:(,{])(?:vector|map)\(/

/** True when an object of the type named `typeName` keeps data out of line. */
export function ownsHeapByName(typeName: string): boolean {
  return OWNS_HEAP.test(typeName)
}

/**
 * Frees what a destroyed object keeps out of line (its strings, a vector's
 * storage, a map's entries), inside the destroying operation. The record only
 * holds the type's name, so the type is rebuilt from it.
 */
export function releaseOutOfLine(mem: SegmentMemory, typeName: string, offset: number): void {
  if (!ownsHeapByName(typeName)) return
  typeFromName(typeName).release?.(mem, offset)
}

/** Empties a top-level container in bounded steps before it is destroyed (see SegmentManager.destroy). */
export function drainOutOfLine(mem: SegmentMemory, typeName: string, offset: number): void {
  if (!/^(?:vector|map)\(/.test(typeName)) return
  const type = typeFromName(typeName) as { drain?: (mem: SegmentMemory, offset: number) => void }
  type.drain?.(mem, offset)
}
