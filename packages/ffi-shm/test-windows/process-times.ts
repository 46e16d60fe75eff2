// Owner liveness on Windows: pid + start time from OpenProcess/GetProcessTimes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { isProcessAlive, processStartState, processStartTime } from '@shmkit/ffi-shm'

test('this process has a start time, stable between calls, in the past', () => {
  const mine = processStartTime(process.pid)
  assert.equal(typeof mine, 'bigint')
  assert.equal(processStartTime(process.pid), mine)
  // FILETIME: 100 ns ticks since 1601-01-01.
  const unixMs = Number((mine as bigint) / 10_000n) - 11_644_473_600_000
  assert.ok(unixMs <= Date.now() && unixMs > Date.now() - 24 * 3600_000, `started ${new Date(unixMs).toISOString()}`)
})

test('a child: alive with a later start time; gone once it has exited', async () => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' })
  await new Promise((resolve) => child.once('spawn', resolve))
  const pid = child.pid as number
  assert.equal(isProcessAlive(pid), true)
  const start = processStartState(pid)
  assert.equal(typeof start, 'bigint')
  assert.ok((start as bigint) > (processStartTime(process.pid) as bigint), 'the child started after us')
  child.kill()
  await new Promise((resolve) => child.once('exit', resolve))
  // Node may still hold the child's handle: the exit code then says it is gone.
  assert.equal(processStartState(pid), 'gone')
  assert.equal(isProcessAlive(pid), false)
})

test('no such pid is gone, never unknown', () => {
  assert.equal(processStartState(0x7ffffff0), 'gone')
  assert.equal(processStartState(-1), 'gone')
})
