export { ShmError } from '@shmkit/errors'
export type { ShmErrorCode, ShmErrorIssue } from '@shmkit/errors'
export * from './types/index.js'
export { SegmentManager } from './segment-manager.js'
export type { ObjectInfo, SegmentBacking, SegmentManagerOptions, SegmentStats } from './segment-manager.js'
export { ManagedSharedMemory } from './managed/managed-shared-memory.js'
export { ManagedMappedFile } from './managed/managed-mapped-file.js'
export { ManagedXsiSharedMemory } from './managed/managed-xsi-shared-memory.js'
export { ManagedWindowsSharedMemory } from './managed/managed-windows-shared-memory.js'
export { ManagedHeapMemory, ManagedExternalBuffer } from './managed/managed-heap-memory.js'
export type { CreateOptions, OpenOptions, OpenOrCreateOptions } from './managed/options.js'
export { SegmentHeader, SEGMENT_MAGIC, LAYOUT_VERSION, HEADER_BYTES, MIN_SEGMENT_BYTES, MAX_SEGMENT_BYTES } from './segment/header.js'
export type { LockOptions } from './segment/lock.js'
export * from './sync/index.js'
export { MessageQueue } from './messaging/message-queue.js'
export type {
  ReceivedMessage,
  MessageQueueCreateOptions,
  MessageQueueOpenOptions,
  MessageQueueOpenOrCreateOptions,
} from './messaging/message-queue.js'
export type { SendAsyncOptions, ReceiveAsyncOptions, MessageData } from './messaging/message-input.js'
export { ZeroCopyChannel } from './messaging/zero-copy-channel.js'
export type { ChannelCreateOptions, ChannelOpenOptions, ChannelOpenOrCreateOptions } from './messaging/zero-copy-channel.js'
export { Publisher } from './messaging/channel-publisher.js'
export type { LoanedSample, LoanOptions } from './messaging/channel-publisher.js'
export { Subscriber } from './messaging/channel-subscriber.js'
export type { Sample, SubscriberWaitMode } from './messaging/channel-subscriber.js'
