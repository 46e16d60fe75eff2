import { fstatSync } from 'node:fs'
import { ShmError } from '@shmkit/errors'

/**
 * What `openOrCreate` checks before adopting an object that already exists
 * (the descriptor it opened, not the name again): it must belong to this user
 * and allow no more than the mode the caller asked for. Otherwise another
 * user may have created the name first ("squatting") to read the data and
 * hold the lock: EACCES, unless the caller opted in with `trustExisting`.
 */
export function checkAdoptable(fd: number | undefined, requestedMode: number, target: string): void {
  // Windows: a HANDLE, with no POSIX owner or mode bits to compare (ACLs are not checked).
  if (fd === undefined || process.platform === 'win32') return
  const st = fstatSync(fd)
  const uid = process.geteuid?.()
  const hint = 'if another user is meant to share it, pass { trustExisting: true }; otherwise remove it and create it again'
  if (uid !== undefined && st.uid !== uid) {
    throw new ShmError(
      'EACCES',
      `${target} already exists and belongs to uid ${st.uid}, not to this process (uid ${uid}): openOrCreate will not adopt it`,
      {
        target,
        details: { owner: st.uid, uid },
        hint,
      },
    )
  }
  const mode = st.mode & 0o777
  if ((mode & ~requestedMode) !== 0) {
    throw new ShmError(
      'EACCES',
      `${target} already exists with mode 0o${mode.toString(8)}, wider than the 0o${requestedMode.toString(8)} asked for: openOrCreate will not adopt it`,
      {
        target,
        details: { mode, requested: requestedMode },
        hint,
      },
    )
  }
}
