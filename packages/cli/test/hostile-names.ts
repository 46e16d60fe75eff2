// Segment and object names are bytes anyone with write access chose: the CLI
// prints them escaped, and never waits on objects that claim to be still
// initialising.
import t from 'tap'
import { ManagedSharedMemory, SegmentHeader, SEGMENT_MAGIC, t as types } from '@shmkit/named-store'
import { createForeignObject, removeQuietly, shmkit, shmkitJson, uniqueName } from './helpers/shmkit.js'

const SIZE = 1 << 20
const ESC = '\u001b'

t.test('control characters in segment and object names are escaped in every command', (t) => {
  const name = `${uniqueName('esc')}${ESC}]0;pwned${'\u0007'}`
  t.teardown(() => removeQuietly(name))
  const seg = ManagedSharedMemory.create(name, SIZE)
  seg.construct(`obj${ESC}[2J${'\u202e'}gnp.exe`, types.int32, 1)
  seg.close()
  for (const args of [['ls'], ['inspect', name], ['check', name]]) {
    const run = shmkit(...args)
    const printed = run.stdout + run.stderr
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for raw control characters
    t.notMatch(printed, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/, `${args[0]}: no raw control character reaches the terminal`)
  }
  t.match(shmkit('inspect', name).stdout, /obj\\x1b\[2J\\u202egnp\.exe/, 'the escaped object name is shown')
  t.match(shmkit('ls').stdout, /esc-.*\\x1b\]0;pwned\\x07/, 'the escaped segment name is shown')
  t.end()
})

t.test('ls lists objects stuck "initializing" at once, as such, without waiting on them', (t) => {
  const names: string[] = []
  t.teardown(() => names.forEach(removeQuietly))
  const header = new Uint8Array(SIZE)
  const words = new Uint32Array(header.buffer)
  words[SegmentHeader.MAGIC >> 2] = SEGMENT_MAGIC
  words[SegmentHeader.STATE >> 2] = 1 // initializing, forever
  for (let i = 0; i < 40; i++) {
    const name = uniqueName(`init${i}`)
    names.push(name)
    createForeignObject(name, header)
  }
  const { json } = shmkitJson<{ segments: { name: string; status: string }[] }>('ls')
  const stuck = json.segments.filter((s) => names.includes(s.name))
  t.equal(stuck.length, 40)
  t.ok(
    stuck.every((s) => s.status === 'initializing'),
    'each one is reported as initializing',
  )
  const inspect = shmkit('inspect', names[0] as string)
  t.not(inspect.status, 0)
  t.match(inspect.stderr, /still being initialized/)
  t.end()
})
