import { ShmError } from '@shmkit/errors'
import { Block, MAX_DEPTH } from './layout.js'

/**
 * The intrusive red-black tree of free blocks, keyed by (size, offset): the
 * best fit is the smallest key not below the size asked for, and among equal
 * sizes the lowest offset. A node is a free block; its links live in the
 * block (see Block in layout.ts) as word indexes below. Every walk is bounded
 * by MAX_DEPTH, so corrupt links end in ECORRUPT, never in a loop.
 */
const PARENT = Block.PARENT >>> 2
const LEFT = Block.LEFT >>> 2
const RIGHT = Block.RIGHT >>> 2
const COLOR = Block.COLOR >>> 2
const RED = 1
const BLACK = 0

/** What the tree needs: the words, the one write path, and where the root lives. */
export interface TreeHost {
  readonly u32: Uint32Array
  /** Every metadata write goes through here (the undo journal hooks it). */
  write(byteOffset: number, value: number): void
  readonly rootOffset: number
}

const get = (h: TreeHost, node: number, field: number): number => h.u32[(node >>> 2) + field] ?? 0
const put = (h: TreeHost, node: number, field: number, value: number): void => h.write(node + field * 4, value)
const sizeKey = (h: TreeHost, node: number): number => (h.u32[(node >>> 2) + 1] ?? 0) >>> 2
const root = (h: TreeHost): number => h.u32[h.rootOffset >>> 2] ?? 0
const setRoot = (h: TreeHost, node: number): void => h.write(h.rootOffset, node)
const isRed = (h: TreeHost, node: number): boolean => node !== 0 && get(h, node, COLOR) === RED

function corrupt(what: string): never {
  throw new ShmError('ECORRUPT', `allocator free-block tree is corrupt: ${what}`)
}

function less(h: TreeHost, a: number, b: number): boolean {
  const ka = sizeKey(h, a)
  const kb = sizeKey(h, b)
  return ka < kb || (ka === kb && a < b)
}

/** The free block of the smallest size >= `units` (lowest offset among equals), or 0. */
export function lowerBound(h: TreeHost, units: number): number {
  // The hottest loops (this and insert's descent) read the words directly: one line per level.
  const u32 = h.u32
  let x = root(h)
  let best = 0
  for (let depth = 0; x !== 0; depth++) {
    if (depth > MAX_DEPTH) corrupt('search deeper than any valid tree')
    const word = x >>> 2
    if ((u32[word + 1] ?? 0) >>> 2 >= units) {
      best = x
      x = u32[word + LEFT] ?? 0
    } else {
      x = u32[word + RIGHT] ?? 0
    }
  }
  return best
}

/** The largest free block, or 0. */
export function largest(h: TreeHost): number {
  let x = root(h)
  for (let depth = 0; x !== 0 && get(h, x, RIGHT) !== 0; depth++) {
    if (depth > MAX_DEPTH) corrupt('right spine deeper than any valid tree')
    x = get(h, x, RIGHT)
  }
  return x
}

function rotateLeft(h: TreeHost, x: number): void {
  const y = get(h, x, RIGHT)
  if (y === 0) corrupt(`rotation at ${x} without a right child`)
  const yl = get(h, y, LEFT)
  put(h, x, RIGHT, yl)
  if (yl !== 0) put(h, yl, PARENT, x)
  const xp = get(h, x, PARENT)
  put(h, y, PARENT, xp)
  if (xp === 0) setRoot(h, y)
  else if (x === get(h, xp, LEFT)) put(h, xp, LEFT, y)
  else put(h, xp, RIGHT, y)
  put(h, y, LEFT, x)
  put(h, x, PARENT, y)
}

function rotateRight(h: TreeHost, x: number): void {
  const y = get(h, x, LEFT)
  if (y === 0) corrupt(`rotation at ${x} without a left child`)
  const yr = get(h, y, RIGHT)
  put(h, x, LEFT, yr)
  if (yr !== 0) put(h, yr, PARENT, x)
  const xp = get(h, x, PARENT)
  put(h, y, PARENT, xp)
  if (xp === 0) setRoot(h, y)
  else if (x === get(h, xp, RIGHT)) put(h, xp, RIGHT, y)
  else put(h, xp, LEFT, y)
  put(h, y, RIGHT, x)
  put(h, x, PARENT, y)
}

export function insert(h: TreeHost, z: number): void {
  const u32 = h.u32
  const key = sizeKey(h, z)
  let parent = 0
  let x = root(h)
  for (let depth = 0; x !== 0; depth++) {
    if (depth > MAX_DEPTH) corrupt('insert path deeper than any valid tree')
    parent = x
    const word = x >>> 2
    const k = (u32[word + 1] ?? 0) >>> 2
    x = key < k || (key === k && z < x) ? (u32[word + LEFT] ?? 0) : (u32[word + RIGHT] ?? 0)
  }
  put(h, z, PARENT, parent)
  put(h, z, LEFT, 0)
  put(h, z, RIGHT, 0)
  put(h, z, COLOR, RED)
  if (parent === 0) setRoot(h, z)
  else if (less(h, z, parent)) put(h, parent, LEFT, z)
  else put(h, parent, RIGHT, z)
  for (let depth = 0; z !== root(h) && isRed(h, get(h, z, PARENT)); depth++) {
    if (depth > MAX_DEPTH) corrupt('insert fixup did not terminate')
    const p = get(h, z, PARENT)
    const g = get(h, p, PARENT)
    if (g === 0) corrupt(`red node ${p} has no parent`)
    if (p === get(h, g, LEFT)) {
      const u = get(h, g, RIGHT)
      if (isRed(h, u)) {
        put(h, p, COLOR, BLACK)
        put(h, u, COLOR, BLACK)
        put(h, g, COLOR, RED)
        z = g
      } else {
        if (z === get(h, p, RIGHT)) {
          z = p
          rotateLeft(h, z)
        }
        const p2 = get(h, z, PARENT)
        put(h, p2, COLOR, BLACK)
        put(h, g, COLOR, RED)
        rotateRight(h, g)
      }
    } else {
      const u = get(h, g, LEFT)
      if (isRed(h, u)) {
        put(h, p, COLOR, BLACK)
        put(h, u, COLOR, BLACK)
        put(h, g, COLOR, RED)
        z = g
      } else {
        if (z === get(h, p, LEFT)) {
          z = p
          rotateRight(h, z)
        }
        const p2 = get(h, z, PARENT)
        put(h, p2, COLOR, BLACK)
        put(h, g, COLOR, RED)
        rotateLeft(h, g)
      }
    }
  }
  const r = root(h)
  if (get(h, r, COLOR) !== BLACK) put(h, r, COLOR, BLACK)
}

function transplant(h: TreeHost, u: number, v: number): void {
  const up = get(h, u, PARENT)
  if (up === 0) setRoot(h, v)
  else if (u === get(h, up, LEFT)) put(h, up, LEFT, v)
  else put(h, up, RIGHT, v)
  if (v !== 0) put(h, v, PARENT, up)
}

export function remove(h: TreeHost, z: number): void {
  let removedColor = get(h, z, COLOR)
  let x: number
  let xParent: number
  const zl = get(h, z, LEFT)
  const zr = get(h, z, RIGHT)
  if (zl === 0) {
    x = zr
    xParent = get(h, z, PARENT)
    transplant(h, z, zr)
  } else if (zr === 0) {
    x = zl
    xParent = get(h, z, PARENT)
    transplant(h, z, zl)
  } else {
    let y = zr
    for (let depth = 0; get(h, y, LEFT) !== 0; depth++) {
      if (depth > MAX_DEPTH) corrupt('successor search deeper than any valid tree')
      y = get(h, y, LEFT)
    }
    removedColor = get(h, y, COLOR)
    x = get(h, y, RIGHT)
    if (get(h, y, PARENT) === z) {
      xParent = y
    } else {
      xParent = get(h, y, PARENT)
      transplant(h, y, x)
      put(h, y, RIGHT, zr)
      put(h, zr, PARENT, y)
    }
    transplant(h, z, y)
    put(h, y, LEFT, zl)
    put(h, zl, PARENT, y)
    put(h, y, COLOR, get(h, z, COLOR))
  }
  if (removedColor === RED) return
  for (let depth = 0; x !== root(h) && !isRed(h, x); depth++) {
    if (depth > MAX_DEPTH || xParent === 0) corrupt('remove fixup did not terminate')
    if (x === get(h, xParent, LEFT)) {
      let w = get(h, xParent, RIGHT)
      if (w === 0) corrupt(`black-height broken under ${xParent}`)
      if (isRed(h, w)) {
        put(h, w, COLOR, BLACK)
        put(h, xParent, COLOR, RED)
        rotateLeft(h, xParent)
        w = get(h, xParent, RIGHT)
        if (w === 0) corrupt(`black-height broken under ${xParent}`)
      }
      if (!isRed(h, get(h, w, LEFT)) && !isRed(h, get(h, w, RIGHT))) {
        put(h, w, COLOR, RED)
        x = xParent
        xParent = get(h, x, PARENT)
      } else {
        if (!isRed(h, get(h, w, RIGHT))) {
          put(h, get(h, w, LEFT), COLOR, BLACK)
          put(h, w, COLOR, RED)
          rotateRight(h, w)
          w = get(h, xParent, RIGHT)
        }
        put(h, w, COLOR, get(h, xParent, COLOR))
        put(h, xParent, COLOR, BLACK)
        const wr = get(h, w, RIGHT)
        if (wr !== 0) put(h, wr, COLOR, BLACK)
        rotateLeft(h, xParent)
        x = root(h)
        break
      }
    } else {
      let w = get(h, xParent, LEFT)
      if (w === 0) corrupt(`black-height broken under ${xParent}`)
      if (isRed(h, w)) {
        put(h, w, COLOR, BLACK)
        put(h, xParent, COLOR, RED)
        rotateRight(h, xParent)
        w = get(h, xParent, LEFT)
        if (w === 0) corrupt(`black-height broken under ${xParent}`)
      }
      if (!isRed(h, get(h, w, LEFT)) && !isRed(h, get(h, w, RIGHT))) {
        put(h, w, COLOR, RED)
        x = xParent
        xParent = get(h, x, PARENT)
      } else {
        if (!isRed(h, get(h, w, LEFT))) {
          put(h, get(h, w, RIGHT), COLOR, BLACK)
          put(h, w, COLOR, RED)
          rotateLeft(h, w)
          w = get(h, xParent, LEFT)
        }
        put(h, w, COLOR, get(h, xParent, COLOR))
        put(h, xParent, COLOR, BLACK)
        const wl = get(h, w, LEFT)
        if (wl !== 0) put(h, wl, COLOR, BLACK)
        rotateRight(h, xParent)
        x = root(h)
        break
      }
    }
  }
  if (x !== 0 && get(h, x, COLOR) !== BLACK) put(h, x, COLOR, BLACK)
}

/**
 * Checks ordering, parent links, colours and black heights; returns the nodes
 * seen. Stops (with a problem) after `limit` nodes, so a cycle cannot spin.
 */
export function checkTree(h: TreeHost, limit: number, problems: string[], isFreeBlock: (node: number) => boolean): number[] {
  const seen: number[] = []
  const r = root(h)
  if (r === 0) return seen
  if (isRed(h, r)) problems.push('tree: the root is red')
  if (get(h, r, PARENT) !== 0) problems.push('tree: the root has a parent')
  // Iterative in-order walk with explicit black-height tracking.
  const stack: { node: number; blacks: number; depth: number }[] = [{ node: r, blacks: 0, depth: 0 }]
  let blackHeight = -1
  let previous = 0
  const visited = new Set<number>()
  while (stack.length > 0) {
    const { node, blacks, depth } = stack.pop() as { node: number; blacks: number; depth: number }
    if (visited.has(node)) {
      problems.push(`tree: node ${node} is reachable twice (cycle)`)
      return seen
    }
    visited.add(node)
    seen.push(node)
    if (seen.length > limit || depth > MAX_DEPTH) {
      problems.push('tree: more nodes or depth than the free blocks allow')
      return seen
    }
    if (!isFreeBlock(node)) {
      problems.push(`tree: node ${node} is not a free block`)
      return seen
    }
    const b = blacks + (isRed(h, node) ? 0 : 1)
    for (const [field, side] of [
      [LEFT, 'left'],
      [RIGHT, 'right'],
    ] as const) {
      const child = get(h, node, field)
      if (child === 0) {
        if (blackHeight === -1) blackHeight = b
        else if (blackHeight !== b) problems.push(`tree: black heights differ (${blackHeight} vs ${b}) below ${node}`)
        continue
      }
      if (get(h, child, PARENT) !== node) problems.push(`tree: ${side} child ${child} of ${node} does not point back`)
      if (isRed(h, node) && isRed(h, child)) problems.push(`tree: red node ${node} has a red child`)
      if (field === LEFT ? !less(h, child, node) : !less(h, node, child))
        problems.push(`tree: ${side} child ${child} of ${node} is out of order`)
      stack.push({ node: child, blacks: b, depth: depth + 1 })
    }
    previous = node
  }
  void previous
  return seen
}

/** The in-order neighbour of `node` on one side (`LEFT` for the predecessor), or 0. */
function neighbour(h: TreeHost, node: number, down: number, up: number): number {
  let x = get(h, node, down)
  if (x !== 0) {
    for (let depth = 0; get(h, x, up) !== 0; depth++) {
      if (depth > MAX_DEPTH) corrupt('neighbour search deeper than any valid tree')
      x = get(h, x, up)
    }
    return x
  }
  x = node
  let p = get(h, x, PARENT)
  for (let depth = 0; p !== 0 && x === get(h, p, down); depth++) {
    if (depth > MAX_DEPTH) corrupt('parent chain longer than any valid tree')
    x = p
    p = get(h, p, PARENT)
  }
  return p
}

/**
 * Whether `node`'s key may grow to (`units`, `offset`) without passing its
 * successor: then the node keeps its place (a size write, or `replace`)
 * instead of a remove and an insert, as Boost does when it merges. A growing
 * key cannot fall below the predecessor, so only one neighbour is read.
 */
export function staysBeforeSuccessor(h: TreeHost, node: number, units: number, offset: number): boolean {
  const after = neighbour(h, node, RIGHT, LEFT)
  if (after === 0) return true
  const k = sizeKey(h, after)
  return units < k || (units === k && offset < after)
}

/** The mirror for a shrinking key (a split): it must stay above the predecessor. */
export function staysAfterPredecessor(h: TreeHost, node: number, units: number, offset: number): boolean {
  const before = neighbour(h, node, LEFT, RIGHT)
  if (before === 0) return true
  const k = sizeKey(h, before)
  return k < units || (k === units && before < offset)
}

/** Puts `replacement` (not in the tree) where `node` is, with its links and colour. */
export function replace(h: TreeHost, node: number, replacement: number): void {
  const parent = get(h, node, PARENT)
  const left = get(h, node, LEFT)
  const right = get(h, node, RIGHT)
  put(h, replacement, PARENT, parent)
  put(h, replacement, LEFT, left)
  put(h, replacement, RIGHT, right)
  put(h, replacement, COLOR, get(h, node, COLOR))
  if (parent === 0) setRoot(h, replacement)
  else if (get(h, parent, LEFT) === node) put(h, parent, LEFT, replacement)
  else put(h, parent, RIGHT, replacement)
  if (left !== 0) put(h, left, PARENT, replacement)
  if (right !== 0) put(h, right, PARENT, replacement)
}
