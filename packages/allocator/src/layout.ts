/**
 * Where the allocator keeps its state, all inside the managed range as
 * offsets, so any process mapping the same bytes can attach.
 *
 * The range starts with the AllocatorHeader; blocks follow, each 16-aligned,
 * sized in 16-byte units, and a zero-size allocated sentinel header ends it.
 */
export const AllocatorHeader = {
  MAGIC: 0,
  VERSION: 4,
  /** Size of the managed range in bytes (two words: it may be 4 GiB). */
  SIZE_LO: 8,
  SIZE_HI: 12,
  /** Root of the free-block red-black tree (a block offset, 0 for none). */
  ROOT: 16,
  /** Free bytes: the sum of every free block's size, headers included. */
  FREE_UNITS: 20,
  FIRST_BLOCK: 24,
  /** The sentinel header that ends the range. */
  END: 28,
  FREE_BLOCKS: 32,
  BYTES: 64,
} as const

export const ALLOCATOR_MAGIC = 0x41544252 // "RBTA"
/** 3: a live block's check word carries the owner's mark bit; 2: tree links moved into the block header (1 kept them after it). */
export const ALLOCATOR_VERSION = 3

/**
 * A block header (16 bytes at the block's start):
 *   +0 size of the previous block in units, valid while that block is free (boundary tag)
 *   +4 size in units << 2 | PREV_ALLOCATED | ALLOCATED
 *   +8 a live block's check word (ALLOCATED_CHECK ^ offset, MARK_BIT flipped when marked)
 * A free block is a tree node, and its search links share the header's line:
 *   +8 left, +12 right (a link is 16-aligned, so never a check word), then
 *   +16 parent, +20 color (1 = red) where user data would go.
 * A tree descent reads +4 and +8/+12 of each node: one cache line per level.
 */
export const Block = {
  PREV_SIZE: 0,
  SIZE_FLAGS: 4,
  CHECK: 8,
  LEFT: 8,
  RIGHT: 12,
  PARENT: 16,
  COLOR: 20,
} as const

export const UNIT = 16
export const HEADER = 16
/** Smallest block: a header and a tree node. */
export const MIN_UNITS = 2
export const ALLOCATED = 1
export const PREV_ALLOCATED = 2
export const ALLOCATED_CHECK = 0xa110c8ed
/**
 * Flipped in a live block's check word when its owner marks the block (see
 * RbTreeBestFit.mark). ALLOCATED_CHECK ^ offset has this bit clear (offsets are
 * 16-aligned, the constant's low nibble is 0b1101), and a free block's LEFT
 * link (16-aligned) has all four low bits clear, so neither variant can pass
 * for the other or for a tree link.
 */
export const MARK_BIT = 2
/** No red-black tree over 2^32 blocks is deeper than this: walks stop here on corrupt links. */
export const MAX_DEPTH = 128
