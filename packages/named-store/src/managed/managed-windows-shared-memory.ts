import { MappedRegion, WindowsSharedMemory } from '@shmkit/ffi-shm'
import { SegmentManager, type SegmentBacking } from '../segment-manager.js'
import { createBacking, openBacking, openOrCreateWith } from './mapped-backing.js'
import { checkSegmentSize, DEFAULT_OPEN_TIMEOUT_MS, openOptionsSchema, parseOptions, type OpenOptions } from './options.js'

const targetOf = (name: string): string => `Windows shared memory "${name}"`

/**
 * A managed segment in a Windows named file mapping (paging-file backed): it
 * disappears when the last process closes it, so `remove` has nothing to do.
 * Boost's `managed_windows_shared_memory`. Tested under Wine (`pnpm test:windows`).
 */
export class ManagedWindowsSharedMemory extends SegmentManager {
  private constructor(
    readonly name: string,
    backing: SegmentBacking,
  ) {
    super(backing)
  }

  /** Creates a named Windows mapping of `size` bytes and formats it; EEXIST if it exists. */
  static create(name: string, size: number): ManagedWindowsSharedMemory {
    checkSegmentSize(size)
    const mapping = WindowsSharedMemory.create(name, size)
    return new ManagedWindowsSharedMemory(
      name,
      createBacking(mapping, size, targetOf(name), () => new MappedRegion(mapping)),
    )
  }

  /** Opens and validates an existing named Windows mapping; ENOENT if there is none. */
  static open(name: string, options?: OpenOptions): ManagedWindowsSharedMemory {
    const opts = parseOptions(openOptionsSchema, options, 'options', targetOf(name))
    const readOnly = opts.readOnly ?? false
    const mapping = WindowsSharedMemory.open(name, { readOnly })
    return new ManagedWindowsSharedMemory(
      name,
      openBacking(mapping, targetOf(name), opts.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS, () => new MappedRegion(mapping, { readOnly })),
    )
  }

  /** Opens the named Windows mapping, or creates it with `size` bytes. */
  static openOrCreate(name: string, size: number): ManagedWindowsSharedMemory {
    return openOrCreateWith(
      () => ManagedWindowsSharedMemory.create(name, size),
      () => ManagedWindowsSharedMemory.open(name),
      targetOf(name),
    )
  }

  /** Windows removes a mapping with its last handle: nothing to remove by name. */
  static remove(_name: string): boolean {
    return false
  }
}
