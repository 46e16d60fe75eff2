// The kernel32 surface shmkit uses on Windows, declared once. Untested here
// (no Windows machine): it type-checks, and the backend choice is tested.
import koffi from 'koffi'

export const PAGE_READONLY = 0x02
export const PAGE_READWRITE = 0x04
export const PAGE_WRITECOPY = 0x08
export const FILE_MAP_COPY = 0x0001
export const FILE_MAP_READ = 0x0004
export const FILE_MAP_ALL_ACCESS = 0x000f001f
export const ERROR_ALREADY_EXISTS = 183
export const ERROR_FILE_NOT_FOUND = 2
export const INVALID_HANDLE_VALUE = 0xffffffffffffffffn

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
  /** The Win32 HANDLE behind a C runtime descriptor (what Node's fs.openSync returns on Windows); -1 if none. */
  _get_osfhandle(fd: number): bigint | null
}

let bindings: WindowsBindings | undefined

export function kernel32(): WindowsBindings {
  if (bindings !== undefined) return bindings
  const lib = koffi.load('kernel32.dll')
  bindings = {
    CreateFileMappingW: lib.func('void * __stdcall CreateFileMappingW(void *file, void *attributes, uint32_t protect, uint32_t sizeHigh, uint32_t sizeLow, const char16_t *name)'),
    OpenFileMappingW: lib.func('void * __stdcall OpenFileMappingW(uint32_t access, bool inherit, const char16_t *name)'),
    MapViewOfFile: lib.func('void * __stdcall MapViewOfFile(void *mapping, uint32_t access, uint32_t offsetHigh, uint32_t offsetLow, size_t bytes)'),
    UnmapViewOfFile: lib.func('bool __stdcall UnmapViewOfFile(void *address)'),
    FlushViewOfFile: lib.func('bool __stdcall FlushViewOfFile(void *address, size_t bytes)'),
    CloseHandle: lib.func('bool __stdcall CloseHandle(void *handle)'),
    GetLastError: lib.func('uint32_t __stdcall GetLastError()'),
    VirtualQuery: lib.func('size_t __stdcall VirtualQuery(void *address, void *info, size_t length)'),
    // Node (libuv) hands out descriptors of the shared Universal CRT.
    _get_osfhandle: koffi.load('ucrtbase.dll').func('void *_get_osfhandle(int fd)'),
  } as WindowsBindings
  return bindings
}
