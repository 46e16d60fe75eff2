import { fstatSync } from 'node:fs'
import { anonymousSharedMemory } from '@shmkit/ffi-shm'
import { SegmentHeader } from './header.js'
import { waitUntil } from './open-protocol.js'

const FILE = SegmentHeader.OWNER_FILE >> 2
const INO_LO = SegmentHeader.OWNER_FILE_INO_LO >> 2
const INO_HI = SegmentHeader.OWNER_FILE_INO_HI >> 2
const INSTALLING = -1

/**
 * The file whose byte locks tell a SharedArrayBuffer segment's owners apart.
 * Such a segment lives in one process, shared by its worker threads, so it
 * needs a file only this process sees: a memfd, made by the first thread
 * that asks, its descriptor number (+1) and inode recorded in the header for
 * the others (threads share descriptors). Each handle then locks through a
 * description of its own (fs.openSync), which Node closes when a worker is
 * terminated, so a terminated worker's tokens read as dead.
 *
 * The memfd itself stays open for the life of the process (one descriptor
 * per SharedArrayBuffer segment). undefined when no memfd can be made, or a
 * thread died while installing one: the caller falls back to pids.
 */
export function sharedBufferOwnerFile(i32: Int32Array): number | undefined {
  for (let attempt = 0; attempt < 8; attempt++) {
    const word = Atomics.load(i32, FILE)
    if (word === INSTALLING) {
      if (!waitUntil(() => Atomics.load(i32, FILE) !== INSTALLING, 1000)) return undefined
      continue
    }
    if (word > 0 && recordedHere(i32, word - 1)) return word - 1
    // None yet, or one recorded by another process (a segment image copied into this buffer).
    if (Atomics.compareExchange(i32, FILE, word, INSTALLING) !== word) continue
    let fd: number
    try {
      fd = anonymousSharedMemory(1).fd
    } catch {
      Atomics.store(i32, FILE, word)
      return undefined
    }
    const ino = fstatSync(fd, { bigint: true }).ino
    Atomics.store(i32, INO_LO, Number(ino & 0xffffffffn) | 0)
    Atomics.store(i32, INO_HI, Number((ino >> 32n) & 0xffffffffn) | 0)
    Atomics.store(i32, FILE, fd + 1)
    return fd
  }
  return undefined
}

function recordedHere(i32: Int32Array, fd: number): boolean {
  try {
    const ino = fstatSync(fd, { bigint: true }).ino
    return (
      Number(ino & 0xffffffffn) === Atomics.load(i32, INO_LO) >>> 0 &&
      Number((ino >> 32n) & 0xffffffffn) === Atomics.load(i32, INO_HI) >>> 0
    )
  } catch {
    return false
  }
}
