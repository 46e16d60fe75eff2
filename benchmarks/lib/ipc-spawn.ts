import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/**
 * Starts the benchmark's child peer. The child runs the same way this process
 * does: under tsx (its loader is in execArgv) from the .ts sources, or with
 * plain node from the compiled .js.
 */
export function spawnPeer(
  transport: string,
  args: string[],
  options: { stdio?: StdioOptions; serialization?: 'json' | 'advanced' } = {},
): ChildProcess {
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
  const script = fileURLToPath(new URL(`./ipc-child${extension}`, import.meta.url))
  return spawn(process.execPath, [...process.execArgv, script, transport, ...args], {
    stdio: options.stdio ?? ['ignore', 'inherit', 'inherit'],
    ...(options.serialization === undefined ? {} : { serialization: options.serialization }),
  })
}

/** Resolves when the child has exited; kills it if it has not within `ms`. */
export function reap(child: ChildProcess, ms = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/** Rejects when the child exits before `promise` settles, so a crashed peer is an error, not a hang. */
export function unlessChildDies<T>(child: ChildProcess, promise: Promise<T>, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onExit = (code: number | null, signal: string | null): void =>
      reject(new Error(`${what}: the child exited (${signal ?? code}) before finishing`))
    child.once('exit', onExit)
    promise.then(
      (value) => {
        child.off('exit', onExit)
        resolve(value)
      },
      (error: unknown) => {
        child.off('exit', onExit)
        reject(error instanceof Error ? error : new Error(String(error)))
      },
    )
  })
}

/** Rejects after `seconds`: every benchmark run is bounded. */
export function withDeadline<T>(promise: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${seconds} s`)), seconds * 1000)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
