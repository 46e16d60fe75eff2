import type { LockStatus } from './mutex.js'

/**
 * What every lock guard shares (`MutexGuard`, `RwLockGuard`,
 * `RwLockSharedGuard`): it gives its hold back once, on `unlock()` or when
 * disposed (`using`), and says whether the hold began after an owner died.
 */
export abstract class HeldLock implements Disposable {
  private released = false
  constructor(readonly status: LockStatus) {}
  /** True when the hold began after an owner died holding the lock (see each guard for who repairs). */
  get ownerDied(): boolean {
    return this.status === 'owner-died'
  }
  /** Gives the hold back now (disposing later does nothing). */
  unlock(): void {
    if (this.released) return
    this.released = true
    this.release()
  }
  /** Same as unlock(). */
  [Symbol.dispose](): void {
    this.unlock()
  }
  /** The lock's own unlock. */
  protected abstract release(): void
}
