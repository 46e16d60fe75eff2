import { describe, type ShmErrorIssue } from '@shmkit/errors'
import type { SegmentMemory } from '../types/memory.js'
import { fingerprint, NO_ISSUES, type Path, type Type } from '../types/type.js'

/**
 * A process-shared synchronisation object laid out in a segment: its words
 * start zeroed (constructing one zeroes it), struct fields and array
 * elements of this kind are views, never plain values.
 */
export class SyncType<V, I = undefined> implements Type<V, I> {
  readonly kind = 'sync' as const
  readonly align: number = 4
  readonly fingerprintLo: number
  readonly fingerprintHi: number
  declare readonly __init?: I
  constructor(
    readonly name: string,
    readonly size: number,
    private readonly makeView: (mem: SegmentMemory, offset: number) => V,
    /** A snapshot for toJSON and `read`: what a tool may show. */
    private readonly snapshot: (mem: SegmentMemory, offset: number) => unknown,
    /** The init value it takes (semaphore: its count); undefined only, by default. */
    private readonly init:
      | { check(value: unknown): string | undefined; store(mem: SegmentMemory, offset: number, value: unknown): void }
      | undefined = undefined,
  ) {
    const fp = fingerprint(name)
    this.fingerprintLo = fp.lo
    this.fingerprintHi = fp.hi
  }
  validate(value: unknown, path: Path): ShmErrorIssue[] {
    if (value === undefined) return NO_ISSUES
    const problem = this.init === undefined ? `nothing (a ${this.name} starts unlocked and takes no init value)` : this.init.check(value)
    return problem === undefined ? NO_ISSUES : [{ path, message: `expected ${problem}, got ${describe(value)}` }]
  }
  store(mem: SegmentMemory, offset: number, value: unknown): void {
    this.zero(mem, offset)
    if (value !== undefined) this.init?.store(mem, offset, value)
  }
  zero(mem: SegmentMemory, offset: number): void {
    mem.u8.fill(0, offset, offset + this.size)
  }
  read(mem: SegmentMemory, offset: number): I {
    return this.snapshot(mem, offset) as I
  }
  view(mem: SegmentMemory, offset: number): V {
    return this.makeView(mem, offset)
  }
}
