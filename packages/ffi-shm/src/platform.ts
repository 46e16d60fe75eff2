/** Which OS interface a platform maps memory through. */
export type Backend = 'posix' | 'windows'

/** Which system interface serves `platform`: kernel32 on Windows, POSIX elsewhere. */
export function selectBackend(platform: NodeJS.Platform = process.platform): Backend {
  return platform === 'win32' ? 'windows' : 'posix'
}
