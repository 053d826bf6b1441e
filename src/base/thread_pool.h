// ThreadPool: a fixed set of worker threads, created once, that split a row range among
// themselves. Built for the engine's per-token loops (hundreds of parallel ops per token), so a
// call allocates nothing, and idle workers spin briefly before parking on a condition variable
// (a futex wake costs microseconds, too much at that call rate).
//
// Thread safety: ParallelFor may be called from any thread. Calls from different threads on the
// same pool are serialized (one runs at a time). A ParallelFor made from inside a running
// ParallelFor body on the same pool (nesting) does not dispatch again: it runs the whole range
// inline on the calling thread as a single chunk, with that thread's index, so it cannot
// deadlock. The destructor must not run concurrently with ParallelFor.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace corral {

// A non-owning reference to a callable `void(int64_t begin, int64_t end, int thread_index)`.
// Binding a lambda or a std::function to it never allocates; the referenced callable must
// outlive the call it is passed to (it always does when passed as a ParallelFor argument).
class RangeFnRef {
 public:
  template <typename Fn>
  requires(!std::is_same_v<std::remove_cvref_t<Fn>, RangeFnRef> &&
           std::is_invocable_v<Fn&, int64_t, int64_t, int>)
      RangeFnRef(Fn&& fn)  // NOLINT: implicit by design, so callers pass lambdas directly
      : object_(const_cast<void*>(static_cast<const void*>(&fn))),
        trampoline_([](void* object, int64_t begin, int64_t end, int thread_index) {
          (*static_cast<std::remove_reference_t<Fn>*>(object))(begin, end, thread_index);
        }) {}

  void operator()(int64_t begin, int64_t end, int thread_index) const {
    trampoline_(object_, begin, end, thread_index);
  }

 private:
  void* object_;
  void (*trampoline_)(void* object, int64_t begin, int64_t end, int thread_index);
};

class ThreadPool {
 public:
  // `num_threads` counts the calling thread: a pool of N starts N-1 workers, and the thread
  // calling ParallelFor does the first chunk. N must be >= 1; N == 1 runs everything inline.
  // `spin_checks`: how long a waiting thread spins before it parks (see thread_pool.cpp); tests
  // set it huge to see what Park alone does.
  static constexpr int kDefaultSpinChecks = 1 << 14;
  explicit ThreadPool(int num_threads, int spin_checks = kDefaultSpinChecks);
  ~ThreadPool();

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Splits [0, n) into at most num_threads() contiguous chunks of near-equal size (sizes differ
  // by at most one) and calls fn(begin, end, thread_index) once per non-empty chunk, chunk k
  // on thread k (0 = the caller), so `thread_index` can index per-thread scratch buffers.
  // `min_chunk` caps the number of chunks at ceil(n / min_chunk), so small ranges do not pay
  // for waking threads. Returns when every chunk has finished; fn's writes are visible to the
  // caller then. n <= 0 calls nothing.
  void ParallelFor(int64_t n, RangeFnRef fn, int64_t min_chunk = 1);

  // Tells the workers that no call is coming soon, so those spinning for the next one park now
  // instead of holding their cores for the rest of the spin (~0.6 ms): the owner calls it when
  // it goes idle, and the threads it woke (a server's reply, its client) get the cores at once.
  // The next ParallelFor wakes them as usual.
  void Park();

  // Workers parked (or parking) on the condition variable, for tests.
  int parked_workers() const { return parked_workers_.load(std::memory_order_seq_cst); }

  // Threads worth using on this machine: std::thread::hardware_concurrency(), at least 1.
  static int DefaultThreadCount();

 private:
  void WorkerLoop(int thread_index);
  // Waits until work_word_ differs from `seen`, spinning first, and returns the new value.
  uint64_t WaitForWork(uint64_t seen);
  void RunChunk(int chunk);
  void WaitForWorkers();

  const int num_threads_;
  const int spin_checks_;
  std::vector<std::thread> workers_;

  // Serializes ParallelFor calls coming from different threads.
  std::mutex call_mutex_;

  // The current job, on one cache line so a waking worker fetches it in one transfer.
  // work_word_ is (generation << 16) | number of chunks: a new generation publishes a job;
  // workers whose index is >= the chunk count skip it without touching the other fields. The
  // job fields are written by the caller before it publishes, read by the workers that take
  // part, and left alone until they have all finished. A new generation with stop_ set ends
  // the workers.
  alignas(64) std::atomic<uint64_t> work_word_{0};
  const RangeFnRef* job_fn_ = nullptr;
  int64_t job_n_ = 0;
  int job_chunks_ = 0;
  std::atomic<bool> stop_{false};

  // Workers still running a chunk of the current job; the last one wakes a parked caller.
  // Written by the workers, so on its own line.
  alignas(64) std::atomic<int> pending_{0};
  std::atomic<bool> caller_parked_{false};

  alignas(64) std::atomic<int> parked_workers_{0};
  // Set by Park, cleared by ParallelFor: spinning workers stop spinning when they see it.
  std::atomic<bool> park_hint_{false};
  std::mutex park_mutex_;
  std::condition_variable park_cv_;
  std::mutex done_mutex_;
  std::condition_variable done_cv_;
};

}  // namespace corral
