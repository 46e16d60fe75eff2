// The workloads' random numbers, exactly as the Boost harness draws them
// (../shared/bench/boost/boost_bench.cpp), so both sides do the same work.

/** x = (x * 1103515245 + 12345) mod 2^31, seed 42. */
export function lcg(seed = 42): () => number {
  let x = seed
  return () => (x = Number((BigInt(x) * 1103515245n + 12345n) & 0x7fffffffn))
}

/** alloc_batch_mixed's inputs: the free order (Fisher–Yates from the end, drawn first), then the sizes 16..4096. */
export function batchMixedPlan(n: number): { order: number[]; sizes: number[] } {
  const r = lcg()
  const order = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = r() % (i + 1)
    const tmp = order[i] as number
    order[i] = order[j] as number
    order[j] = tmp
  }
  const sizes = Array.from({ length: n }, () => 16 + (r() % (4096 - 16 + 1)))
  return { order, sizes }
}
