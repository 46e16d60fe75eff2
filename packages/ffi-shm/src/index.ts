export { ShmError } from '@shmkit/errors'
export type { ShmErrorCode, ShmErrorIssue } from '@shmkit/errors'
export { SharedMemoryObject } from './shared-memory-object.js'
export { FileMapping } from './file-mapping.js'
export { MappedRegion } from './mapped-region.js'
export { AnonymousSharedMemory, anonymousSharedMemory } from './anonymous.js'
export { XsiSharedMemory, xsiKey } from './xsi.js'
export { WindowsSharedMemory } from './windows-shared-memory.js'
export {
  futexSupported,
  futexWait,
  futexWake,
  futexWaitAsync,
  parseAsyncWaitOptions,
  MAX_WAIT_TIMEOUT_MS,
  currentPid,
  isProcessAlive,
  processStartTime,
  processStartState,
} from './sync.js'
export { FutexWaitEngine, waitEngine, abortError, MAX_WAITER_THREADS } from './wait-engine/engine.js'
export type { AsyncWaitOptions, AsyncWaitResult } from './wait-engine/engine.js'
export { WindowsNamedEvent } from './windows-event.js'
export { selectBackend } from './platform.js'
export type { Backend } from './platform.js'
export type { MappableObject } from './map-source.js'
export { MAX_VIEW_BYTES } from './validate.js'
export { byteLocksSupported, byteLockedElsewhere, fileIdentity, lockByteShared, reopenPrivately, unlockByte } from './byte-lock.js'
