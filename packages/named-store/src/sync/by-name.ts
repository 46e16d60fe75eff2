import type { Type } from '../types/type.js'
import { conditionType } from './condition.js'
import { mutexType, recursiveMutexType } from './mutex.js'
import { rwlockType } from './rwlock.js'
import { semaphoreType } from './semaphore.js'

/** The sync types by canonical name, for typeFromName (longest names first: 'recursive_mutex' before 'mutex'). */
export const syncTypesByName: Record<string, Type> = {
  recursive_mutex: recursiveMutexType,
  semaphore: semaphoreType,
  condition: conditionType,
  rwlock: rwlockType,
  mutex: mutexType,
}
