// The child peer of benchmarks/ipc.ts: `ipc-child TRANSPORT ...ARGS`.
import { channelChild } from './ipc-channel.js'
import { shmkitChild } from './ipc-shmkit.js'
import { socketChild } from './ipc-socket.js'

const [transport, ...args] = process.argv.slice(2)
const int = (text: string | undefined): number => {
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`ipc-child ${transport}: bad numeric argument ${JSON.stringify(text)}`)
  return value
}

switch (transport) {
  case 'shmkit':
    shmkitChild(args[0] ?? '', int(args[1]), int(args[2]))
    break
  case 'socket':
    socketChild(args[0] ?? '', int(args[1]))
    break
  case 'channel':
    channelChild(int(args[0]))
    break
  default:
    process.stderr.write(`ipc-child: unknown transport ${JSON.stringify(transport)}\n`)
    process.exitCode = 2
}
