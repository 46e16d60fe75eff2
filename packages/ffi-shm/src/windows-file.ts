import {
  CREATE_NEW,
  FILE_ATTRIBUTE_NORMAL,
  FILE_ATTRIBUTE_TEMPORARY,
  FILE_BEGIN,
  FILE_SHARE_ALL,
  GENERIC_READ,
  GENERIC_WRITE,
  INVALID_HANDLE_VALUE,
  kernel32,
  OPEN_EXISTING,
} from './bindings/windows.js'
import { windowsError } from './errors.js'

/**
 * A file opened through kernel32 `CreateFileW`, so the HANDLE is ours to map.
 *
 * Why not Node's `fs.openSync`: on Windows it returns a descriptor of the C
 * runtime linked into node.exe, and the CRT that koffi can load
 * (ucrtbase.dll) has its own descriptor table, so `_get_osfhandle(fd)` there
 * does not know the descriptor (it failed with "descriptor 3 has no Windows
 * handle" under Wine). Node offers no way to get the HANDLE behind an fd.
 *
 * Every open shares read, write and delete, so the file behaves like a POSIX
 * object: others may open it, resize it, and remove its name while it is open.
 */
export class WindowsFile {
  #handle: bigint

  private constructor(handle: bigint) {
    this.#handle = handle
  }

  /**
   * Opens `path`: `create` makes a new file (EEXIST if it exists, as
   * O_CREAT|O_EXCL), otherwise the file must exist (ENOENT). `temporary`
   * marks a new file as memory rather than storage (the shared memory
   * emulation): Windows then keeps its pages in the cache.
   */
  static open(path: string, options: { create: boolean; readOnly: boolean; temporary?: boolean }, target: string): WindowsFile {
    const k = kernel32()
    const access = options.readOnly ? GENERIC_READ : GENERIC_READ | GENERIC_WRITE
    const flags = options.create && options.temporary ? FILE_ATTRIBUTE_TEMPORARY : FILE_ATTRIBUTE_NORMAL
    const handle = k.CreateFileW(path, access, FILE_SHARE_ALL, null, options.create ? CREATE_NEW : OPEN_EXISTING, flags, null)
    if (handle === null || handle === INVALID_HANDLE_VALUE) throw windowsError('CreateFileW', k.GetLastError(), target)
    return new WindowsFile(handle)
  }

  /** The HANDLE, for CreateFileMappingW; 0n once closed. */
  get handle(): bigint {
    return this.#handle
  }

  size(target: string): number {
    const k = kernel32()
    const out = new BigInt64Array(1)
    if (!k.GetFileSizeEx(this.#handle, out)) throw windowsError('GetFileSizeEx', k.GetLastError(), target)
    return Number(out[0])
  }

  /** Sets the size (new bytes read as zero). Windows refuses to cut a file below a mapped view: EBUSY, not a crash. */
  truncate(bytes: number, target: string): void {
    const k = kernel32()
    if (!k.SetFilePointerEx(this.#handle, BigInt(bytes), null, FILE_BEGIN)) throw windowsError('SetFilePointerEx', k.GetLastError(), target)
    if (!k.SetEndOfFile(this.#handle)) throw windowsError('SetEndOfFile', k.GetLastError(), target)
  }

  close(): void {
    if (this.#handle === 0n) return
    kernel32().CloseHandle(this.#handle)
    this.#handle = 0n
  }
}
