// The libc surface shmkit uses, declared once as C prototypes. Loaded lazily:
// importing the package costs nothing until a segment is opened.
import koffi from 'koffi'
import { ShmError } from '@shmkit/errors'

/** Linux values; the BSD/macOS ones differ where noted. */
export const PROT_READ = 1
export const PROT_WRITE = 2
export const MAP_SHARED = 1
export const MAP_PRIVATE = 2
export const MAP_FIXED = 0x10
export const MAP_ANONYMOUS = process.platform === 'linux' ? 0x20 : 0x1000
export const MAP_FIXED_NOREPLACE = 0x100000
export const MS_ASYNC = 1
export const MS_SYNC = process.platform === 'linux' ? 4 : 0x10
export const SC_PAGESIZE = process.platform === 'linux' ? 30 : 29
export const IPC_CREAT = 0o1000
export const IPC_EXCL = 0o2000
export const IPC_RMID = 0
export const IPC_STAT = 2
export const SHM_RDONLY = 0o10000
export const MFD_CLOEXEC = 1
export const MFD_ALLOW_SEALING = 2
export const F_ADD_SEALS = 1033
export const F_SEAL_SHRINK = 2
/** Open-file-description byte-range locks (Linux >= 3.15); struct flock is laid out the same on every 64-bit Linux. */
export const F_OFD_GETLK = 36
export const F_OFD_SETLK = 37
export const F_RDLCK = 0
export const F_WRLCK = 1
export const F_UNLCK = 2
export const FLOCK_BYTES = 32
export const FUTEX_WAIT = 0
export const FUTEX_WAKE = 1
/** futex_waitv(2) (Linux 5.16+): the same number on every architecture. */
export const SYS_FUTEX_WAITV = 449
/** futex_waitv entry flag: a 32-bit futex word (not FUTEX_PRIVATE: the words live in shared mappings). */
export const FUTEX2_SIZE_U32 = 2
/** At most this many words per futex_waitv call. */
export const FUTEX_WAITV_MAX = 128
/** syscall numbers of futex(2) per architecture. */
export const SYS_FUTEX: Partial<Record<string, number>> = { x64: 202, arm64: 98, ia32: 240, arm: 240 }

/** futex(2) through syscall(2), with fixed arguments (same registers as the variadic call). */
export const FUTEX_PROTOTYPE = 'long syscall(long nr, void *addr, int op, int val, void *timeout, void *addr2, int val3)'
/** futex_waitv(2) through syscall(2). The wait engine's thread declares it from this same text. */
export const FUTEX_WAITV_PROTOTYPE =
  'long syscall(long nr, void *waiters, unsigned int count, unsigned int flags, void *timeout, int clockid)'

export interface PosixBindings {
  shm_open(name: string, oflag: number, mode: number): number
  shm_unlink(name: string): number
  ftruncate(fd: number, length: number): number
  /** Returns the error number itself (0 on success), not -1 and errno. */
  posix_fallocate(fd: number, offset: number, length: number): number
  mmap(addr: bigint | null, length: number, prot: number, flags: number, fd: number, offset: number): bigint
  munmap(addr: bigint, length: number): number
  msync(addr: bigint, length: number, flags: number): number
  /** msync on one of koffi's worker threads: the event loop goes on while the pages are written. */
  msyncAsync(addr: bigint, length: number, flags: number): Promise<number>
  sysconf(name: number): number
  memfd_create(name: string, flags: number): number
  fcntl(fd: number, cmd: number, arg: number): number
  /** fcntl with a `struct flock *` (F_OFD_SETLK, F_OFD_GETLK): the kernel fills it in for GETLK. */
  fcntlLock(fd: number, cmd: number, flock: Uint8Array): number
  ftok(path: string, id: number): number
  shmget(key: number, size: number, flags: number): number
  shmat(shmid: number, addr: bigint | null, flags: number): bigint
  shmdt(addr: bigint): number
  shmctl(shmid: number, cmd: number, buf: Uint8Array | null): number
  /** futex(2) through syscall(2), declared with fixed arguments (same registers as the variadic call). */
  syscall6(nr: number, addr: bigint, op: number, val: number, timeout: BigInt64Array | null, addr2: bigint | null, val3: number): number
  /** futex_waitv(2): waits on up to 128 words (24-byte `struct futex_waitv` entries); returns the index woken. */
  syscallWaitv(nr: number, waiters: Uint8Array, count: number, flags: number, timeout: BigInt64Array | null, clockid: number): number
  errno(): number
}

let bindings: PosixBindings | undefined

export function posix(): PosixBindings {
  if (bindings !== undefined) return bindings
  // Reaching for libc on Windows is a caller asking for a POSIX-only feature
  // (System V memory, memfd, futex): a typed error, not koffi's "Failed to load shared library".
  if (process.platform === 'win32') {
    throw new ShmError('ENOTSUP', 'this needs the POSIX C library (System V shared memory, memfd and futex do not exist on Windows)', {
      hint: 'on Windows use SharedMemoryObject, FileMapping or WindowsSharedMemory',
    })
  }
  const libc = koffi.load(process.platform === 'darwin' ? 'libc.dylib' : 'libc.so.6')
  // glibc before 2.34 keeps shm_open and shm_unlink in librt.
  let rt = libc
  let shmOpen: (...args: unknown[]) => number
  try {
    shmOpen = libc.func('int shm_open(const char *name, int oflag, ...)')
  } catch {
    rt = koffi.load('librt.so.1')
    shmOpen = rt.func('int shm_open(const char *name, int oflag, ...)')
  }
  const msync = libc.func('int msync(void *addr, size_t length, int flags)')
  bindings = {
    // shm_open is variadic: on arm64 macOS a variadic mode travels on the stack, so a fixed-argument declaration would pass garbage.
    shm_open: variadicShmOpen(shmOpen),
    shm_unlink: rt.func('int shm_unlink(const char *name)'),
    ftruncate: libc.func('int ftruncate(int fd, int64_t length)'),
    // Linux only: macOS has no posix_fallocate (callers fall back to ftruncate there).
    posix_fallocate:
      process.platform === 'linux' ? libc.func('int posix_fallocate(int fd, int64_t offset, int64_t len)') : unsupported('posix_fallocate'),
    mmap: libc.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)'),
    munmap: libc.func('int munmap(void *addr, size_t length)'),
    msync,
    msyncAsync: (addr: bigint, length: number, flags: number) =>
      new Promise<number>((resolve, reject) => {
        msync.async(addr, length, flags, (err: unknown, result: number) => (err ? reject(err) : resolve(result)))
      }),
    sysconf: libc.func('long sysconf(int name)'),
    memfd_create:
      process.platform === 'linux' ? libc.func('int memfd_create(const char *name, unsigned int flags)') : unsupported('memfd_create'),
    fcntl: libc.func('int fcntl(int fd, int cmd, int arg)'),
    fcntlLock: variadicFcntlLock(libc.func('int fcntl(int fd, int cmd, ...)')),
    ftok: libc.func('int ftok(const char *path, int id)'),
    shmget: libc.func('int shmget(int key, size_t size, int flags)'),
    shmat: libc.func('void *shmat(int shmid, void *addr, int flags)'),
    shmdt: libc.func('int shmdt(void *addr)'),
    shmctl: libc.func('int shmctl(int shmid, int cmd, void *buf)'),
    syscall6: libc.func(FUTEX_PROTOTYPE),
    syscallWaitv: libc.func(FUTEX_WAITV_PROTOTYPE),
    errno: () => koffi.errno(),
  } as PosixBindings
  return bindings
}

function variadicShmOpen(call: (...args: unknown[]) => number): PosixBindings['shm_open'] {
  // mode_t is promoted to unsigned int through '...'.
  return (name, oflag, mode) => call(name, oflag, 'unsigned int', mode)
}

function variadicFcntlLock(call: (...args: unknown[]) => number): PosixBindings['fcntlLock'] {
  return (fd, cmd, flock) => call(fd, cmd, 'void *', flock)
}

function unsupported(name: string): () => never {
  return () => {
    throw new Error(`${name} is not available on ${process.platform}`)
  }
}

/** An ArrayBuffer over `length` bytes at `address` (never more than 4 GiB: koffi aborts past that). */
export function viewAt(address: bigint, length: number): ArrayBuffer {
  return koffi.view(address, length) as ArrayBuffer
}

export const MAP_FAILED = 0xffffffffffffffffn
