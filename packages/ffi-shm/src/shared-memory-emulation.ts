import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fsError } from './errors.js'
import { WindowsFile } from './windows-file.js'

/**
 * Where Windows keeps the files that emulate POSIX shared memory objects:
 * `%TEMP%\shmkit-shm`, one file per name. Boost keeps its emulation files in
 * a per-boot folder under ProgramData (`boost_interprocess\<boot time>`), so
 * that a reboot empties the namespace as it does POSIX shared memory. shmkit
 * does not: every process must compute the same folder, and a boot time read
 * from a clock or the event log has made Boost processes disagree (fast
 * startup, hibernation, a cleared log) — a segment that silently cannot be
 * found is worse than one that outlives a reboot. So emulation files persist
 * like files until `remove`, and, being under the user's %TEMP%, they are
 * private to the user, as mode 0600 is.
 */
export const emulationFolder = (): string => join(tmpdir(), 'shmkit-shm')

/** Removed objects that something still had open or mapped wait here to be deleted. */
const trashFolder = (): string => join(emulationFolder(), '.removed')

/** At most this many leftovers are retried per create or remove: bounded work. */
const SWEEP_LIMIT = 16

export function openEmulationFile(name: string, options: { create: boolean; readOnly: boolean }, target: string): WindowsFile {
  mkdirSync(emulationFolder(), { recursive: true })
  if (options.create) sweepTrash()
  return WindowsFile.open(join(emulationFolder(), name), { ...options, temporary: true }, target)
}

/**
 * Removes the name at once, as shm_unlink does, while processes that have the
 * object open or mapped keep using it. Windows cannot delete a file that is
 * mapped, and a deleted file that is still open keeps its name (delete
 * pending) until its last handle closes, on Wine and older Windows: either
 * way a new object of the same name could not be created. So the file is
 * first renamed into a trash folder (allowed while mapped: every handle
 * shares delete), then deleted if it can be; what cannot is retried by later
 * calls. Boost renames before deleting for the same reason.
 */
export function removeEmulationFile(name: string, target: string): boolean {
  const trash = trashFolder()
  mkdirSync(trash, { recursive: true })
  const parked = join(trash, `${name}.${randomBytes(6).toString('hex')}`)
  try {
    renameSync(join(emulationFolder(), name), parked)
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    if (err.code === 'ENOENT') return false
    throw fsError(err, 'rename', target)
  }
  tryDelete(parked)
  sweepTrash()
  return true
}

function tryDelete(path: string): void {
  try {
    rmSync(path)
  } catch {
    // Still mapped somewhere: a later sweep deletes it.
  }
}

function sweepTrash(): void {
  let entries: string[]
  try {
    entries = readdirSync(trashFolder())
  } catch {
    return
  }
  for (const entry of entries.slice(0, SWEEP_LIMIT)) tryDelete(join(trashFolder(), entry))
}
