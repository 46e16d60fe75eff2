/** Which OS interface a platform maps memory through. */
export type Backend = 'posix' | 'windows'

export function selectBackend(platform: NodeJS.Platform = process.platform): Backend {
  return platform === 'win32' ? 'windows' : 'posix'
}
