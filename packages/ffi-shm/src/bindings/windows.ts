// The kernel32 surface shmkit uses on Windows, declared once. Tested under
// Wine (`pnpm test:windows`); see the README for what Wine cannot show.
import koffi from 'koffi'

export const PAGE_READONLY = 0x02
export const PAGE_READWRITE = 0x04
export const PAGE_WRITECOPY = 0x08
export const FILE_MAP_COPY = 0x0001
export const FILE_MAP_READ = 0x0004
export const FILE_MAP_ALL_ACCESS = 0x000f001f
export const ERROR_ALREADY_EXISTS = 183
export const ERROR_FILE_NOT_FOUND = 2
export const ERROR_PATH_NOT_FOUND = 3
export const ERROR_ACCESS_DENIED = 5
export const ERROR_INVALID_PARAMETER = 87
export const INVALID_HANDLE_VALUE = 0xffffffffffffffffn

export const GENERIC_READ = 0x80000000
export const GENERIC_WRITE = 0x40000000
/** Every opener shares everything, so a file behaves like a POSIX object: others may open, resize and delete it. */
export const FILE_SHARE_ALL = 0x1 | 0x2 | 0x4
export const CREATE_NEW = 1
export const OPEN_EXISTING = 3
export const FILE_ATTRIBUTE_NORMAL = 0x80
/** Keeps the pages in the cache rather than hurrying them to disk: the emulation file is memory, not storage. */
export const FILE_ATTRIBUTE_TEMPORARY = 0x100
export const FILE_BEGIN = 0
export const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
export const STILL_ACTIVE = 259
export const WAIT_OBJECT_0 = 0
export const WAIT_TIMEOUT = 0x102

/** koffi returns a NULL pointer as null (not 0n): every handle and view may be null on failure. */
export interface WindowsBindings {
  CreateFileMappingW(file: bigint, attributes: null, protect: number, sizeHigh: number, sizeLow: number, name: string | null): bigint | null
  OpenFileMappingW(access: number, inherit: boolean, name: string): bigint | null
  MapViewOfFile(mapping: bigint, access: number, offsetHigh: number, offsetLow: number, bytes: number): bigint | null
  UnmapViewOfFile(address: bigint): boolean
  FlushViewOfFile(address: bigint, bytes: number): boolean
  CloseHandle(handle: bigint): boolean
  GetLastError(): number
  VirtualQuery(address: bigint, info: Uint8Array, length: number): number
  /** INVALID_HANDLE_VALUE (not null) on failure. */
  CreateFileW(
    path: string,
    access: number,
    share: number,
    security: null,
    disposition: number,
    flags: number,
    template: null,
  ): bigint | null
  /** Writes the size into `size[0]`. */
  GetFileSizeEx(file: bigint, size: BigInt64Array): boolean
  SetFilePointerEx(file: bigint, distance: bigint, newPosition: null, method: number): boolean
  SetEndOfFile(file: bigint): boolean
  OpenProcess(access: number, inherit: boolean, pid: number): bigint | null
  /** Each time is a FILETIME (100 ns units since 1601) written into its BigUint64Array's first element. */
  GetProcessTimes(process: bigint, creation: BigUint64Array, exit: BigUint64Array, kernel: BigUint64Array, user: BigUint64Array): boolean
  GetExitCodeProcess(process: bigint, code: Uint32Array): boolean
  /** Opens the named event, creating it (auto-reset, not signaled) if it does not exist. */
  CreateEventW(attributes: null, manualReset: boolean, initialState: boolean, name: string): bigint | null
  SetEvent(event: bigint): boolean
  WaitForSingleObject(handle: bigint, milliseconds: number): number
}

let bindings: WindowsBindings | undefined

export function kernel32(): WindowsBindings {
  if (bindings !== undefined) return bindings
  const lib = koffi.load('kernel32.dll')
  bindings = {
    CreateFileMappingW: lib.func(
      'void * __stdcall CreateFileMappingW(void *file, void *attributes, uint32_t protect, uint32_t sizeHigh, uint32_t sizeLow, const char16_t *name)',
    ),
    OpenFileMappingW: lib.func('void * __stdcall OpenFileMappingW(uint32_t access, bool inherit, const char16_t *name)'),
    MapViewOfFile: lib.func(
      'void * __stdcall MapViewOfFile(void *mapping, uint32_t access, uint32_t offsetHigh, uint32_t offsetLow, size_t bytes)',
    ),
    UnmapViewOfFile: lib.func('bool __stdcall UnmapViewOfFile(void *address)'),
    FlushViewOfFile: lib.func('bool __stdcall FlushViewOfFile(void *address, size_t bytes)'),
    CloseHandle: lib.func('bool __stdcall CloseHandle(void *handle)'),
    GetLastError: lib.func('uint32_t __stdcall GetLastError()'),
    VirtualQuery: lib.func('size_t __stdcall VirtualQuery(void *address, void *info, size_t length)'),
    CreateFileW: lib.func(
      'void * __stdcall CreateFileW(const char16_t *path, uint32_t access, uint32_t share, void *security, uint32_t disposition, uint32_t flags, void *template)',
    ),
    GetFileSizeEx: lib.func('bool __stdcall GetFileSizeEx(void *file, void *size)'),
    SetFilePointerEx: lib.func('bool __stdcall SetFilePointerEx(void *file, int64_t distance, void *newPosition, uint32_t method)'),
    SetEndOfFile: lib.func('bool __stdcall SetEndOfFile(void *file)'),
    OpenProcess: lib.func('void * __stdcall OpenProcess(uint32_t access, bool inherit, uint32_t pid)'),
    GetProcessTimes: lib.func('bool __stdcall GetProcessTimes(void *process, void *creation, void *exit, void *kernel, void *user)'),
    GetExitCodeProcess: lib.func('bool __stdcall GetExitCodeProcess(void *process, void *code)'),
    CreateEventW: lib.func('void * __stdcall CreateEventW(void *attributes, bool manualReset, bool initialState, const char16_t *name)'),
    SetEvent: lib.func('bool __stdcall SetEvent(void *event)'),
    WaitForSingleObject: lib.func('uint32_t __stdcall WaitForSingleObject(void *handle, uint32_t milliseconds)'),
  } as WindowsBindings
  return bindings
}
