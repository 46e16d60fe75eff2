import { typeFromName, type ObjectInfo, type SegmentManager } from '@shmkit/named-store'

/** A named vector or map and how much it holds, for `inspect`. */
export interface ContainerSize {
  name: string
  type: string
  /** Elements of a vector, entries of a map. */
  length: number
  /** Slots a vector has room for, or hash-table slots of a map. */
  capacity: number
  /** Map entries' bytes (blocks and out-of-line values), counted for cache maps only. */
  bytes?: number
}

/** The sizes of the top-level vectors and maps among `objects` (read through validated, lock-free reads). */
export function containerSizes(segment: SegmentManager, objects: readonly ObjectInfo[]): ContainerSize[] {
  const out: ContainerSize[] = []
  for (const object of objects) {
    if (!/^(?:vector|map)\(/.test(object.type)) continue
    const view = segment.find(object.name, typeFromName(object.type)) as unknown
    if (view === undefined) continue
    if (object.type.startsWith('vector(')) {
      const v = view as { length: number; capacity: number }
      out.push({ name: object.name, type: object.type, length: v.length, capacity: v.capacity })
    } else {
      const s = (view as { stats(): { size: number; capacity: number; bytes: number } }).stats()
      out.push({ name: object.name, type: object.type, length: s.size, capacity: s.capacity, ...(s.bytes === 0 ? {} : { bytes: s.bytes }) })
    }
  }
  return out
}
