import { ShmError } from '@shmkit/errors'
import type { MappedRegion } from '@shmkit/ffi-shm'
import { HEADER_BYTES } from '../segment/header.js'
import { awaitInitialized, waitUntil } from '../segment/open-protocol.js'
import { regionWaiter } from '../segment/waiters.js'
import { regionWords } from '../sync/word-waiter.js'
import { SegmentManager, type SegmentBacking } from '../segment-manager.js'

/** What a managed kind opens: something with a size that maps into a region. */
export interface MappableSource {
  readonly size: number
  /** Its descriptor, where it has one (not on Windows): owner liveness locks bytes of it (segment/owner.ts). */
  readonly descriptor?: number | undefined
  close(): void
  /** Reserves storage for a byte range (posix_fallocate); absent where memory is committed another way (XSI, Windows). */
  reserve?(offset: number, length: number): void
  /** Sets the object's size (sparse: nothing reserved). */
  truncate?(bytes: number): void
}

function backingOf(region: MappedRegion, source: MappableSource, target: string): SegmentBacking {
  const waiter = regionWaiter(region, target)
  return {
    buffer: region.buffer,
    readOnly: region.readOnly,
    target,
    waiter,
    words: regionWords(region),
    release: () => {
      waiter.close?.()
      region.close()
      source.close()
    },
    currentSize: () => source.size,
    ...(source.reserve === undefined ? {} : { reserve: (offset: number, length: number) => source.reserve?.(offset, length) }),
    ...(typeof source.descriptor === 'number' ? { ownerFd: source.descriptor } : {}),
  }
}

/**
 * Reserves storage for a fresh source, formats it and returns its backing;
 * closes the source on failure. The reservation comes first: a full tmpfs or
 * disk is ENOSPC here, never SIGBUS at the first touch of an unbacked page.
 * With `objectSize` > `size` the object is that large (sparse past `size`),
 * so every process maps room the segment can grow into without remapping.
 */
export function createBacking(
  source: MappableSource,
  size: number,
  target: string,
  map: () => MappedRegion,
  objectSize = size,
): SegmentBacking {
  let region: MappedRegion | undefined
  try {
    if (objectSize > size) source.truncate?.(objectSize)
    source.reserve?.(0, size)
    region = map()
    SegmentManager.format(region.buffer, size, target)
    return backingOf(region, source, target)
  } catch (e) {
    region?.close()
    source.close()
    throw e
  }
}

/**
 * Maps an existing segment once it is big enough and initialized. Another
 * process may have just created it and not yet sized or formatted it: both
 * waits are bounded by `timeoutMs`, after which it is ECORRUPT, not a hang.
 */
export function openBacking(source: MappableSource, target: string, timeoutMs: number, map: () => MappedRegion): SegmentBacking {
  let region: MappedRegion | undefined
  try {
    if (!waitUntil(() => source.size >= HEADER_BYTES, timeoutMs)) {
      throw new ShmError(
        'ECORRUPT',
        `${target} is not a shmkit segment: ${source.size} bytes is smaller than a segment header (${HEADER_BYTES})`,
        { target },
      )
    }
    region = map()
    const mapped = region
    awaitInitialized(
      new Int32Array(mapped.buffer, 0, HEADER_BYTES >> 2),
      new Uint32Array(mapped.buffer, 0, HEADER_BYTES >> 2),
      mapped.size,
      target,
      timeoutMs,
    )
    return backingOf(mapped, source, target)
  } catch (e) {
    region?.close()
    source.close()
    throw e
  }
}

export { openOrCreateWith } from './open-or-create.js'
