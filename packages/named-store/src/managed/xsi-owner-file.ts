import { closeSync, constants, fchmodSync, fstatSync, openSync, unlinkSync } from 'node:fs'
import type { XsiSharedMemory } from '@shmkit/ffi-shm'
import type { MappableSource } from './mapped-backing.js'

/**
 * System V memory has no descriptor to hold byte locks on, so an XSI
 * segment's owners lock a small file beside POSIX shared memory instead, named
 * by the segment's shmid: whoever shares the IPC namespace (and so the
 * segment) shares /dev/shm too — containers with `--ipc=host` or a shared IPC
 * namespace included. Where it cannot be opened, owners fall back to pids.
 */
export function xsiOwnerFilePath(shmid: number): string {
  return `/dev/shm/shmkit-xsi-${shmid}.owners`
}

/**
 * Opens (creating it if needed, with `mode`) the owner file of segment
 * `shmid`, read-only: shared locks need no more. Never follows a symlink
 * planted under the name, and accepts only a regular file. undefined where
 * there is none to have.
 */
export function openXsiOwnerFile(shmid: number, mode: number): number | undefined {
  if (process.platform !== 'linux') return undefined
  let fd: number
  try {
    fd = openSync(
      xsiOwnerFilePath(shmid),
      constants.O_RDONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK,
      mode & 0o666,
    )
  } catch {
    return undefined
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) {
      closeSync(fd)
      return undefined
    }
    // The umask may have narrowed it: other users of the segment must be able to open it too.
    if (st.uid === process.getuid?.() && (st.mode & 0o666) !== (mode & 0o666)) fchmodSync(fd, mode & 0o666)
  } catch {
    // keep what we have: the mode is a convenience for other users
  }
  return fd
}

export function removeXsiOwnerFile(shmid: number): void {
  try {
    unlinkSync(xsiOwnerFilePath(shmid))
  } catch {
    // none, or not ours to remove
  }
}

/** The XSI segment as a mappable source whose descriptor is its owner file (closed with it). */
export function withOwnerFile(xsi: XsiSharedMemory, mode: number): MappableSource {
  const fd = openXsiOwnerFile(xsi.shmid, mode)
  return {
    get size() {
      return xsi.size
    },
    ...(fd === undefined ? {} : { descriptor: fd }),
    close() {
      if (fd !== undefined) closeSync(fd)
      xsi.close()
    },
  }
}
