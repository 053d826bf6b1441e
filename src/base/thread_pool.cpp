#include "base/thread_pool.h"

#include <algorithm>

#include "base/check.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace corral {
namespace {

// How a waiting thread (a worker between jobs, the caller waiting for workers) spends its
// time before parking on a condition variable: spin_checks_ checks (by default 2^14, ~0.6 ms
// in all), with a pause between them (~25 ns on Zen 4) and a yield (~1 us) every
// kYieldEvery-th, so an oversubscribed or busy machine runs the thread being waited for
// instead of the spinner.
// Measured on the shared 2-core VM: pure spinning costs 0.1-1 ms per call as soon as other
// processes compete for the cores; with the yields a 2-thread call costs ~2-3 us there.
constexpr int kYieldEvery = 64;

void CpuRelax(int iteration) {
  if (iteration % kYieldEvery == kYieldEvery - 1) {
    std::this_thread::yield();
    return;
  }
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

constexpr int kChunkBits = 16;
constexpr uint64_t kChunkMask = (uint64_t{1} << kChunkBits) - 1;

// The pool whose chunk this thread is running (and the chunk's thread index), to run nested
// calls inline instead of deadlocking on the busy workers.
thread_local const ThreadPool* tls_running_pool = nullptr;
thread_local int tls_thread_index = 0;

// First index of chunk k when n items are split into `chunks` parts whose sizes differ by at
// most one (the first n % chunks parts get the extra item). Overflow-free for any n.
int64_t ChunkBegin(int64_t n, int chunks, int k) {
  const int64_t base = n / chunks, extra = n % chunks;
  return base * k + std::min<int64_t>(k, extra);
}

// Runs fn with the thread-local nesting marker set, restoring the previous one after.
void RunMarked(const ThreadPool* pool, int thread_index, const RangeFnRef& fn, int64_t begin,
               int64_t end) {
  const ThreadPool* previous_pool = tls_running_pool;
  const int previous_index = tls_thread_index;
  tls_running_pool = pool;
  tls_thread_index = thread_index;
  fn(begin, end, thread_index);
  tls_running_pool = previous_pool;
  tls_thread_index = previous_index;
}

}  // namespace

ThreadPool::ThreadPool(int num_threads, int spin_checks)
    : num_threads_(num_threads), spin_checks_(spin_checks) {
  CHECK(num_threads >= 1 && static_cast<uint64_t>(num_threads) <= kChunkMask)
      << "thread count out of range: " << num_threads;
  CHECK(spin_checks >= 0) << "spin_checks out of range: " << spin_checks;
  workers_.reserve(num_threads - 1);
  for (int i = 1; i < num_threads; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_seq_cst);
  const uint64_t generation = (work_word_.load(std::memory_order_relaxed) >> kChunkBits) + 1;
  work_word_.store(generation << kChunkBits, std::memory_order_seq_cst);
  {
    std::lock_guard<std::mutex> lock(park_mutex_);
    park_cv_.notify_all();
  }
  for (std::thread& worker : workers_) worker.join();
}

int ThreadPool::DefaultThreadCount() { return std::max(1u, std::thread::hardware_concurrency()); }

void ThreadPool::ParallelFor(int64_t n, RangeFnRef fn, int64_t min_chunk) {
  if (n <= 0) return;
  if (tls_running_pool == this) {
    fn(0, n, tls_thread_index);
    return;
  }
  min_chunk = std::max<int64_t>(1, min_chunk);
  const int64_t max_chunks = n / min_chunk + (n % min_chunk != 0 ? 1 : 0);
  const int chunks = static_cast<int>(std::min<int64_t>(num_threads_, max_chunks));
  if (chunks == 1) {
    RunMarked(this, 0, fn, 0, n);
    return;
  }

  std::lock_guard<std::mutex> call_lock(call_mutex_);
  park_hint_.store(false, std::memory_order_relaxed);
  job_fn_ = &fn;
  job_n_ = n;
  job_chunks_ = chunks;
  pending_.store(chunks - 1, std::memory_order_relaxed);
  const uint64_t generation = (work_word_.load(std::memory_order_relaxed) >> kChunkBits) + 1;
  // seq_cst store then seq_cst load of parked_workers_: either we see a parking worker and
  // notify it, or that worker's own check (after it registered) sees the new word.
  work_word_.store((generation << kChunkBits) | static_cast<uint64_t>(chunks),
                   std::memory_order_seq_cst);
  if (parked_workers_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lock(park_mutex_);
    park_cv_.notify_all();
  }
  RunChunk(0);
  WaitForWorkers();
  job_fn_ = nullptr;
}

void ThreadPool::RunChunk(int chunk) {
  RunMarked(this, chunk, *job_fn_, ChunkBegin(job_n_, job_chunks_, chunk),
            ChunkBegin(job_n_, job_chunks_, chunk + 1));
}

void ThreadPool::WaitForWorkers() {
  for (int i = 0; i < spin_checks_; ++i) {
    if (pending_.load(std::memory_order_acquire) == 0) return;
    CpuRelax(i);
  }
  std::unique_lock<std::mutex> lock(done_mutex_);
  caller_parked_.store(true, std::memory_order_seq_cst);
  done_cv_.wait(lock, [this] { return pending_.load(std::memory_order_seq_cst) == 0; });
  caller_parked_.store(false, std::memory_order_relaxed);
}

void ThreadPool::Park() { park_hint_.store(true, std::memory_order_relaxed); }

uint64_t ThreadPool::WaitForWork(uint64_t seen) {
  for (int i = 0; i < spin_checks_; ++i) {
    const uint64_t word = work_word_.load(std::memory_order_acquire);
    if (word != seen) return word;
    // A stale hint only parks a worker early: parking below is correct at any time.
    if (park_hint_.load(std::memory_order_relaxed)) break;
    CpuRelax(i);
  }
  std::unique_lock<std::mutex> lock(park_mutex_);
  parked_workers_.fetch_add(1, std::memory_order_seq_cst);
  uint64_t word = seen;
  park_cv_.wait(lock, [&] {
    word = work_word_.load(std::memory_order_seq_cst);
    return word != seen;
  });
  parked_workers_.fetch_sub(1, std::memory_order_relaxed);
  return word;
}

void ThreadPool::WorkerLoop(int thread_index) {
  uint64_t seen = 0;
  for (;;) {
    seen = WaitForWork(seen);
    if (stop_.load(std::memory_order_acquire)) return;
    const int chunks = static_cast<int>(seen & kChunkMask);
    if (thread_index >= chunks) continue;  // not part of this job: leave its fields alone
    RunChunk(thread_index);
    // seq_cst pairs with the caller's caller_parked_ store the same way as parking above.
    if (pending_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
        caller_parked_.load(std::memory_order_seq_cst)) {
      std::lock_guard<std::mutex> lock(done_mutex_);
      done_cv_.notify_one();
    }
  }
}

}  // namespace corral
