import { ShmError } from '@shmkit/errors'
import { SegmentHeader, SegmentState } from '../segment/header.js'
import { AtomicsWaiter, SleepWaiter } from '../segment/waiters.js'
import { SegmentManager, type SegmentManagerOptions } from '../segment-manager.js'
import { checkSegmentSize } from './options.js'

/**
 * A managed segment in this process's heap: the same API over a plain
 * ArrayBuffer, for tests, for building a segment image to write to a file, or
 * for single-process use. Boost's `managed_heap_memory`.
 */
export class ManagedHeapMemory extends SegmentManager {
  constructor(size: number, options: SegmentManagerOptions = {}) {
    checkSegmentSize(size)
    const buffer = new ArrayBuffer(size)
    SegmentManager.format(buffer, size, 'heap segment')
    super({ buffer, readOnly: false, target: 'heap segment', waiter: new SleepWaiter(), release: () => {}, threadLocal: true }, options)
  }
}

/**
 * A managed segment over a buffer the caller owns: formatted if it is all
 * zeros, attached if it already holds a segment (say, one read from a file, or
 * a SharedArrayBuffer another worker thread formatted). Boost's
 * `managed_external_buffer`.
 */
export class ManagedExternalBuffer extends SegmentManager {
  readonly buffer: ArrayBuffer | SharedArrayBuffer

  constructor(buffer: ArrayBuffer | SharedArrayBuffer, options: SegmentManagerOptions & { readOnly?: boolean } = {}) {
    if (!(buffer instanceof ArrayBuffer) && !(typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer)) {
      throw new ShmError('EINVAL', 'invalid buffer: expected an ArrayBuffer or a SharedArrayBuffer', {
        issues: [{ path: ['buffer'], message: 'expected an ArrayBuffer or a SharedArrayBuffer' }],
      })
    }
    // Keep the segment a whole number of 16-byte units: typed views and the allocator need it.
    const size = Math.floor(buffer.byteLength / 16) * 16
    checkSegmentSize(size)
    const shared = buffer instanceof SharedArrayBuffer
    const state = Atomics.load(new Int32Array(buffer, 0, 1), SegmentHeader.STATE >> 2)
    if (state === SegmentState.UNINITIALIZED && new Uint8Array(buffer, 0, 64).every((b) => b === 0)) {
      if (options.readOnly)
        throw new ShmError('EREADONLY', 'a read-only external buffer cannot be formatted', { target: 'external buffer' })
      SegmentManager.format(buffer, size, 'external buffer')
    }
    const waiter = shared ? new AtomicsWaiter(new Int32Array(buffer)) : new SleepWaiter()
    // A plain ArrayBuffer cannot be shared: every owner is a handle of this thread.
    super(
      { buffer, readOnly: options.readOnly ?? false, target: 'external buffer', waiter, release: () => {}, threadLocal: !shared },
      options.lock === undefined ? {} : { lock: options.lock },
    )
    this.buffer = buffer
  }
}
