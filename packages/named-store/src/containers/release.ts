import type { SegmentMemory } from '../types/memory.js'
import { typeFromName } from '../types/parse-name.js'

/** Names of types that keep data out of line: `str`, `bytes` (not `bytes(n)`), `json`, `vector(`, `map(`. */
const OWNS_HEAP = /(?:^|[:(,{])(?:str|json|bytes)(?=$|[,)}])|(?:^|[:(,{])(?:vector|map)\(/

/** True when an object of the type named `typeName` keeps data out of line. */
export function ownsHeapByName(typeName: string): boolean {
  return OWNS_HEAP.test(typeName)
}

// ASCII codes of the grammar's punctuation.
const COLON = 0x3a
const OPEN = 0x28
const CLOSE = 0x29
const COMMA = 0x2c
const BRACE_OPEN = 0x7b
const BRACE_CLOSE = 0x7d
// First letters of the tokens: s(tr), j(son), b(ytes), v(ector(), m(ap().
const S = 0x73
const J = 0x6a
const B = 0x62
const V = 0x76
const M = 0x6d

const TOKENS_BEFORE_END = ['str', 'json', 'bytes'].map((s) => Uint8Array.from(s, (c) => c.charCodeAt(0)))
const TOKENS_BEFORE_PAREN = ['vector(', 'map('].map((s) => Uint8Array.from(s, (c) => c.charCodeAt(0)))

function startsWith(u8: Uint8Array, at: number, end: number, token: Uint8Array): boolean {
  if (at + token.length > end) return false
  for (let i = 0; i < token.length; i++) if (u8[at + i] !== token[i]) return false
  return true
}

/**
 * `ownsHeapByName` on a type name still in segment bytes (`u8[start, end)`):
 * the same grammar, read without decoding, so destroying an object whose type
 * keeps nothing out of line (most of them) builds no string. The loop is
 * bounded by the name's length.
 */
export function ownsHeapBytes(u8: Uint8Array, start: number, end: number): boolean {
  for (let at = start; at < end; at++) {
    const first = u8[at]
    // Every token starts with one of these letters: the common scalar name is rejected byte by byte.
    if (first !== S && first !== J && first !== B && first !== V && first !== M) continue
    if (at > start) {
      const before = u8[at - 1]
      if (before !== COLON && before !== OPEN && before !== COMMA && before !== BRACE_OPEN) continue
    }
    for (const token of TOKENS_BEFORE_END) {
      if (!startsWith(u8, at, end, token)) continue
      const after = at + token.length
      if (after === end) return true
      const next = u8[after]
      if (next === COMMA || next === CLOSE || next === BRACE_CLOSE) return true
    }
    for (const token of TOKENS_BEFORE_PAREN) if (startsWith(u8, at, end, token)) return true
  }
  return false
}

/** Whether the type name in `u8[start, end)` is a top-level container (`vector(…)`, `map(…)`), which destroy drains first. */
export function isContainerBytes(u8: Uint8Array, start: number, end: number): boolean {
  const first = u8[start]
  if (first !== V && first !== M) return false
  for (const token of TOKENS_BEFORE_PAREN) if (startsWith(u8, start, end, token)) return true
  return false
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
