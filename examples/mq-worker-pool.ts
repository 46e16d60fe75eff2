// A worker pool on two message queues: the parent puts jobs on "jobs", three
// child processes pull them (whoever is free takes the next), compute, and
// put the answer on "results"; the parent awaits the results without ever
// blocking its event loop (for await), checks every one, then stops the
// workers with empty messages and removes both queues.
//
//   npx tsx examples/mq-worker-pool.ts
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { MessageQueue } from '@shmkit/named-store'

const [role, jobsName, resultsName] = process.argv.slice(2)
const WORKERS = 3
const JOBS = 300

/** The "work": the sum of i*i for i below n (some CPU, a checkable answer). */
const work = (n: number): number => {
  let sum = 0
  for (let i = 0; i < n; i++) sum += i * i
  return sum
}

if (role === 'worker') {
  using jobs = MessageQueue.open(jobsName ?? '')
  using results = MessageQueue.open(resultsName ?? '')
  const job = new Uint8Array(8)
  const answer = new Float64Array(3)
  let done = 0
  for (;;) {
    const m = jobs.receive(job)
    if (m.size === 0) break // an empty message: no more work
    const [id, n] = new Uint32Array(job.buffer, 0, 2) as unknown as [number, number]
    answer[0] = id
    answer[1] = work(n)
    answer[2] = process.pid
    results.send(new Uint8Array(answer.buffer))
    done++
  }
  console.log(`worker ${process.pid}: ${done} jobs`)
} else {
  // Named after this pid (the examples tests look for leftovers that way).
  const jobsQueue = `shmkit-example-jobs-${process.pid}`
  const resultsQueue = `shmkit-example-results-${process.pid}`
  let status = 1
  try {
    using jobs = MessageQueue.create(jobsQueue, { maxMessages: 16, maxMessageSize: 8 })
    using results = MessageQueue.create(resultsQueue, { maxMessages: 16, maxMessageSize: 24 })
    const workers = Array.from({ length: WORKERS }, () =>
      spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'worker', jobsQueue, resultsQueue], {
        stdio: ['ignore', 'inherit', 'inherit'],
      }),
    )
    const exits = workers.map((w) => new Promise<number | null>((resolve) => w.on('exit', (code) => resolve(code))))
    // Feed jobs without blocking: sendAsync waits (asynchronously) while the queue is full.
    const feeding = (async () => {
      for (let id = 0; id < JOBS; id++) await jobs.sendAsync(new Uint8Array(new Uint32Array([id, 1000 + id]).buffer), { timeoutMs: 60_000 })
    })()
    const answers = new Map<number, number>()
    const byWorker = new Map<number, number>()
    const received = new Float64Array(3)
    while (answers.size < JOBS) {
      const m = await results.receiveAsync({ timeoutMs: 60_000, into: new Uint8Array(received.buffer) })
      if (m.size !== 24) throw new Error(`a result of ${m.size} bytes`)
      const [id, value, pid] = received as unknown as [number, number, number]
      if (answers.has(id)) throw new Error(`job ${id} answered twice`)
      answers.set(id, value)
      byWorker.set(pid, (byWorker.get(pid) ?? 0) + 1)
    }
    await feeding
    for (let i = 0; i < WORKERS; i++) await jobs.sendAsync(new Uint8Array(0))
    const codes = await Promise.all(exits)
    let wrong = 0
    for (let id = 0; id < JOBS; id++) if (answers.get(id) !== work(1000 + id)) wrong++
    console.log(
      `parent: ${answers.size} results, ${wrong} wrong, from ${byWorker.size} workers (${[...byWorker.values()].join(', ')} jobs each)`,
    )
    status = wrong === 0 && codes.every((c) => c === 0) && jobs.numMessages === 0 && results.numMessages === 0 ? 0 : 1
  } finally {
    MessageQueue.remove(jobsQueue)
    MessageQueue.remove(resultsQueue)
  }
  process.exit(status)
}
