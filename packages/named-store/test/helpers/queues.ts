import { MessageQueue, ZeroCopyChannel } from '@shmkit/named-store'
import { uniqueName } from './segments.js'

type Teardown = { teardown(fn: () => void | Promise<void>): void }

/** A queue name removed when the test ends, whatever happens. */
export function queueName(t: Teardown, prefix = 'shmkit-mq'): string {
  const name = uniqueName(prefix)
  t.teardown(() => {
    MessageQueue.remove(name)
  })
  return name
}

/** A channel name removed when the test ends, whatever happens. */
export function channelName(t: Teardown, prefix = 'shmkit-ch'): string {
  const name = uniqueName(prefix)
  t.teardown(() => {
    ZeroCopyChannel.remove(name)
  })
  return name
}
