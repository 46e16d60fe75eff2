import { threadId } from 'node:worker_threads'
import { currentPid, isProcessAlive, processStartState, processStartTime } from '@shmkit/ffi-shm'
import type { ProcessIdentity } from './lock.js'

function tagOf(start: bigint | undefined): number | undefined {
  if (start === undefined) return undefined
  const tag = Number(start & 0xffffffffn)
  return tag === 0 ? 1 : tag
}

let self: ProcessIdentity | undefined

/** This process, as the segment lock sees it. */
export function processIdentity(): ProcessIdentity {
  if (self !== undefined) return self
  const pid = currentPid()
  self = {
    pid,
    startTag: tagOf(processStartTime(pid)) ?? 0,
    thread: threadId + 1,
    isAlive: isProcessAlive,
    startTagOf: (other) => {
      const start = processStartState(other)
      return typeof start === 'bigint' ? (tagOf(start) ?? 'unknown') : start
    },
  }
  return self
}
