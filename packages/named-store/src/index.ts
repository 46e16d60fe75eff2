export { ShmError } from '@shmkit/errors'
export type { ShmErrorCode, ShmErrorIssue } from '@shmkit/errors'
export * from './types/index.js'
