// The Boost.Interprocess (C++) peer of benchmarks/ipc.ts: the same protocol as
// the shmkit transport (lib/ipc-shmkit.ts) in native code, as a C++ user would
// write it — a managed_shared_memory holding a control block and two payload
// slots as named objects; the parent writes round r into slot r % 2 and bumps
// WRITTEN, the child checksums the slot in place (the same lane checksum as
// lib/checksum.ts) and bumps READ; each side spins, then sleeps on a futex.
//
//   boost_ipc PAYLOAD_BYTES TARGET_SECONDS WARMUP_ROUNDS
// prints one JSON line: {"transport":..., "payload_bytes", "rounds", "seconds", "ns_per_op", "mb_per_s"}.
#include <boost/interprocess/managed_shared_memory.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <linux/futex.h>
#include <signal.h>
#include <string>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace bip = boost::interprocess;
using clock_type = std::chrono::steady_clock;

struct Control {
  std::atomic<uint32_t> written{0};
  std::atomic<uint32_t> read{0};
  std::atomic<uint32_t> child_sleeping{0};
  std::atomic<uint32_t> parent_sleeping{0};
  std::atomic<uint32_t> stop{0};
  uint64_t checksum[2]{0, 0};
};

// The same adaptive spin budget as lib/ipc-shmkit.ts: doubles when a wait ends
// while spinning, halves when it has to sleep, back to the full budget every
// PROBE_EVERY waits.
static const int MIN_SPINS = 16;
static const int MAX_SPINS = 4096;
static const unsigned PROBE_EVERY = 64;
static int spins = MAX_SPINS;
static unsigned waits = 0;

static uint64_t lane_checksum(const unsigned char *bytes, size_t n) {
  const uint32_t *words = reinterpret_cast<const uint32_t *>(bytes);
  uint32_t low = 0, high = 0;
  for (size_t i = 0; i + 1 < n / 4; i += 2) {
    low += words[i];
    high += words[i + 1];
  }
  return (uint64_t(high) << 32) | low;
}

static void futex_wait(std::atomic<uint32_t> *word, uint32_t expected) {
  timespec timeout{0, 20 * 1000 * 1000};
  syscall(SYS_futex, reinterpret_cast<uint32_t *>(word), FUTEX_WAIT, expected, &timeout, nullptr, 0);
}

static void futex_wake(std::atomic<uint32_t> *word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t *>(word), FUTEX_WAKE, 1, nullptr, nullptr, 0);
}

// Waits while busy(value) holds: spin, then sleep on the word. Gives up (exit 3) past the deadline.
template <class Busy>
static uint32_t wait_while(std::atomic<uint32_t> &word, std::atomic<uint32_t> &sleeping, Busy busy, clock_type::time_point deadline) {
  if (++waits % PROBE_EVERY == 0) spins = MAX_SPINS;
  for (int spin = 0; spin < spins; spin++) {
    uint32_t value = word.load();
    if (!busy(value)) {
      spins = std::min(MAX_SPINS, spins * 2);
      return value;
    }
  }
  spins = std::max(MIN_SPINS, spins / 2);
  for (;;) {
    sleeping.store(1);
    uint32_t value = word.load();
    if (!busy(value)) {
      sleeping.store(0);
      return value;
    }
    futex_wait(&word, value);
    sleeping.store(0);
    if (clock_type::now() > deadline) {
      fprintf(stderr, "boost_ipc: waited past the deadline\n");
      exit(3);
    }
  }
}

static void publish(std::atomic<uint32_t> &word, uint32_t value, std::atomic<uint32_t> &sleeping) {
  word.store(value);
  if (sleeping.load()) futex_wake(&word);
}

static int child_main(const char *name, size_t payload_bytes) {
  bip::managed_shared_memory segment(bip::open_only, name);
  Control *control = segment.find<Control>("control").first;
  unsigned char *slots[2] = {segment.find<unsigned char>("slot0").first, segment.find<unsigned char>("slot1").first};
  if (!control || !slots[0] || !slots[1]) return 4;
  pid_t parent = getppid();
  for (uint32_t round = 0;; round++) {
    auto deadline = clock_type::now() + std::chrono::minutes(30);
    uint32_t written = wait_while(control->written, control->child_sleeping,
                                  [&](uint32_t w) { return w <= round && control->stop.load() == 0 && getppid() == parent; }, deadline);
    if (written <= round) return 0;
    control->checksum[round % 2] = lane_checksum(slots[round % 2], payload_bytes);
    publish(control->read, round + 1, control->parent_sleeping);
  }
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s PAYLOAD_BYTES TARGET_SECONDS WARMUP_ROUNDS\n", argv[0]);
    return 2;
  }
  size_t payload_bytes = strtoull(argv[1], nullptr, 10);
  double target_seconds = atof(argv[2]);
  uint32_t warmup = uint32_t(atol(argv[3]));
  if (payload_bytes == 0 || payload_bytes % 8 != 0 || target_seconds <= 0) return 2;
  std::string name = "shmkit-bench-boost-ipc-" + std::to_string(getpid());
  bip::shared_memory_object::remove(name.c_str());
  struct Remover {
    std::string name;
    ~Remover() { bip::shared_memory_object::remove(name.c_str()); }
  } remover{name};

  // The same payload as lib/ipc-plan.ts makePayload: xorshift32 words, the first one zero.
  std::vector<uint32_t> source(payload_bytes / 4);
  uint32_t x = 0x9e3779b9u;
  for (auto &word : source) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    word = x;
  }
  source[0] = 0;
  uint64_t base = lane_checksum(reinterpret_cast<unsigned char *>(source.data()), payload_bytes);

  bip::managed_shared_memory segment(bip::create_only, name.c_str(), 2 * payload_bytes + (1 << 20));
  Control *control = segment.construct<Control>("control")();
  unsigned char *slots[2] = {segment.construct<unsigned char>("slot0")[payload_bytes](0), segment.construct<unsigned char>("slot1")[payload_bytes](0)};

  pid_t child = fork();
  if (child < 0) return 5;
  if (child == 0) _exit(child_main(name.c_str(), payload_bytes));

  auto deadline = clock_type::now() + std::chrono::seconds(120);
  uint32_t sent = 0;
  auto verify = [&](uint32_t round) {
    uint64_t expected = (base & 0xffffffff00000000ull) | uint32_t(uint32_t(base) + (round + 1));
    if (control->checksum[round % 2] != expected) {
      fprintf(stderr, "boost_ipc: checksum mismatch in round %u\n", round);
      kill(child, SIGKILL);
      exit(6);
    }
  };
  auto run = [&](uint32_t rounds) {
    auto start = clock_type::now();
    uint32_t end = sent + rounds;
    for (uint32_t round = sent; round < end; round++) {
      wait_while(control->read, control->parent_sleeping, [&](uint32_t r) { return round - r >= 2; }, deadline);
      if (round >= 2) verify(round - 2);
      source[0] = round + 1;
      std::memcpy(slots[round % 2], source.data(), payload_bytes);
      publish(control->written, round + 1, control->child_sleeping);
    }
    wait_while(control->read, control->parent_sleeping, [&](uint32_t r) { return r < end; }, deadline);
    for (uint32_t round = end >= 2 ? end - 2 : 0; round < end; round++) verify(round);
    sent = end;
    return std::chrono::duration<double>(clock_type::now() - start).count();
  };

  // As lib/ipc-plan.ts measureRounds: warm up, double until a batch lasts a
  // quarter of the target, then time one batch sized to last the target.
  run(warmup);
  uint32_t batch = 1, rounds = 1;
  double seconds = 0;
  for (;;) {
    seconds = run(batch);
    if (seconds >= target_seconds / 4 || batch >= (1u << 30)) {
      rounds = uint32_t(std::max(1.0, std::ceil(batch * target_seconds / std::max(seconds, 1e-9))));
      seconds = run(rounds);
      break;
    }
    batch *= 2;
  }
  control->stop.store(1);
  futex_wake(&control->written);
  int status = 0;
  waitpid(child, &status, 0);
  printf("{\"transport\":\"Boost.Interprocess (C++)\",\"payload_bytes\":%zu,\"rounds\":%u,\"seconds\":%.6f,\"ns_per_op\":%.2f,\"mb_per_s\":%.2f}\n", payload_bytes, rounds,
         seconds, seconds * 1e9 / rounds, payload_bytes * double(rounds) / seconds / 1e6);
  return 0;
}
