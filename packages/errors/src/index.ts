export { ShmError, SHM_ERROR_CODES } from './shm-error.js'
export type { ShmErrorCode, KnownShmErrorCode, ShmErrorIssue, ShmErrorOptions } from './shm-error.js'
export { invalidArgument, invalidOptions, describe } from './invalid.js'
