import { currentPid, isProcessAlive, processStartTime } from '@shmkit/ffi-shm'
import { isOwnerToken, thisThread, type OwnerClaim, type OwnerState } from './owner.js'

function tagOf(start: bigint | undefined): number | undefined {
  if (start === undefined) return undefined
  const tag = Number(start & 0xffffffffn) | 0
  return tag === 0 ? 1 : tag
}

/** What the pid method reads next to a lock word: the owner's start-time tag and thread. */
export interface PidOwnerWords {
  /** The start tag stored beside the lock word while `token` holds the lock, else 0. */
  ownerStartOf(token: number): number
  ownerThread(): number
}

/**
 * The fallback where no kernel lock record is available (Windows, macOS, an
 * XSI segment without its owner file, a file system without OFD locks): the
 * token is the owner's pid, paired with its start time against pid reuse.
 * Dead only when the OS says there is no such process (kill ESRCH) or that
 * pid now belongs to a process started at another time; a start time that
 * cannot be read (/proc hidepid) is unknown, never dead.
 *
 * What it cannot see: an owner in another pid namespace (its pid means
 * nothing here — kill may say ESRCH for a live owner, so do not share such
 * segments across containers without the file-lock method), and a terminated
 * worker thread (its process lives on: the lock waits, or times out).
 */
export class PidLiveness implements OwnerClaim {
  readonly method = 'pid'
  readonly token: number
  /** This process's start-time tag (0 where unknown), stored beside the lock word by its owner. */
  readonly startTag: number

  constructor(private readonly words: PidOwnerWords) {
    const pid = currentPid()
    this.token = pid
    this.startTag = tagOf(processStartTime(pid)) ?? 0
  }

  stateOf(token: number): OwnerState {
    if (!isOwnerToken(token)) return 'dead'
    if (token === this.token) return 'alive'
    if (!isProcessAlive(token)) return 'dead'
    const recorded = this.words.ownerStartOf(token)
    if (recorded === 0 || this.startTag === 0) return 'alive'
    const start = tagOf(processStartTime(token))
    if (start === undefined) return 'unknown'
    return start === recorded ? 'alive' : 'dead'
  }

  /** One pid for every handle of the process: the owner-thread word tells this thread's holds apart. */
  isHeldHere(token: number): boolean {
    return token === this.token && this.words.ownerThread() === thisThread
  }

  release(): void {}
}
