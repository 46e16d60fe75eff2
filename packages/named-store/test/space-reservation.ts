// Space is reserved when a segment is created or grown: on a tmpfs too small for it,
// create fails with ENOSPC and leaves nothing behind, where a sparse segment
// would have been created and killed Node with SIGBUS at its first unbacked page.
import t from 'tap'
import { runInSmallTmpfs, smallTmpfsUnavailable } from './helpers/small-tmpfs.js'

const unavailable = smallTmpfsUnavailable()

t.test(
  'create and grow on a 16 MiB tmpfs: ENOSPC for what does not fit, what fits is usable to the last byte',
  { skip: unavailable ?? false },
  async (t) => {
    const r = await runInSmallTmpfs('small-tmpfs.ts', '16m')
    t.equal(r.signal, null, 'no SIGBUS')
    t.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trim().split('\n')
    t.match(lines[0], /^shm 64 MiB: ShmError ENOSPC posix_fallocate shared memory object "too-big": no space left$/)
    t.equal(lines[1], 'left behind: []', 'the name is removed')
    t.match(lines[2], /^file 64 MiB: ShmError ENOSPC posix_fallocate file "\/dev\/shm\/too-big.seg": no space left$/)
    t.equal(lines[3], 'left behind: []', 'the file is removed')
    t.equal(lines[4], 'shm 12 MiB filled: ok')
    t.match(lines[5], /^then 8 MiB more: ShmError ENOSPC /)
    t.equal(lines[6], 'left behind: []')
    t.equal(
      lines[7],
      'size after: 4194304, sane: true, grow 4 MiB: ok, size 8388608',
      'a failed growth changes nothing; a smaller one fits',
    )
    t.match(lines[8], /^grow past the tmpfs: ShmError ENOSPC posix_fallocate shared memory object "grows": no space left$/)
    t.equal(lines[9], 'size after: 2097152, sane: true', 'automatic growth that does not fit changes nothing')
    t.match(lines[10], /^growBy past the tmpfs: ShmError ENOSPC /)
    t.match(lines[11], /^offline grow past the tmpfs: ShmError ENOSPC /)
    t.equal(lines[12], 'offline size after: 2097152')
  },
)
