export { ShmError } from '@shmkit/errors'
export type { ShmErrorCode, ShmErrorIssue } from '@shmkit/errors'
export { RbTreeBestFit } from './rbtree-best-fit.js'
export type { AllocateOptions, AllocatorOptions, SanityReport } from './rbtree-best-fit.js'
export {
  AllocatorHeader,
  Block as BlockLayout,
  ALLOCATOR_MAGIC,
  ALLOCATOR_VERSION,
  UNIT as ALLOCATION_UNIT,
  HEADER as BLOCK_OVERHEAD,
} from './layout.js'
