/** How a MappedRegion maps an object: the one internal contract between them. */
export type MapTarget =
  | { kind: 'fd'; fd: number; size: number; readOnly: boolean; target: string }
  | { kind: 'xsi'; shmid: number; size: number; readOnly: boolean; target: string }
  | { kind: 'windows'; handle: bigint; size: number; readOnly: boolean; target: string }
  /** A kernel32 file HANDLE (Windows: mapped files and the shared memory object emulation). */
  | { kind: 'windows-file'; handle: bigint; size: number; readOnly: boolean; target: string }

export const mapTarget = Symbol('shmkit.mapTarget')

/** Anything `new MappedRegion(source)` accepts. */
export interface MappableObject {
  /** What to map: the descriptor or handle, the size and the access (implemented by every object kind). */
  [mapTarget](): MapTarget
}
