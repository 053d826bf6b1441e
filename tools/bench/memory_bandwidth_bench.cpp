// Memory read bandwidth: streams through buffers larger than the caches and reports bytes/s.
// Token generation is bound by reading the weights once per token, so "GB/s achieved" in later
// benchmarks is read against this number.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

namespace {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// [n_bytes] of non-zero data, 64-byte aligned.
std::unique_ptr<uint64_t, FreeDeleter> MakeBuffer(size_t n_bytes) {
  auto* p = static_cast<uint64_t*>(std::aligned_alloc(64, n_bytes));
  for (size_t i = 0; i < n_bytes / sizeof(uint64_t); ++i) p[i] = i * 0x9E3779B97F4A7C15ull;
  return std::unique_ptr<uint64_t, FreeDeleter>(p);
}

uint64_t SumRange(const uint64_t* data, size_t n) {
  // Four independent accumulators so the adds do not serialize; the compiler vectorizes this.
  uint64_t a = 0, b = 0, c = 0, d = 0;
  for (size_t i = 0; i + 4 <= n; i += 4) {
    a += data[i];
    b += data[i + 1];
    c += data[i + 2];
    d += data[i + 3];
  }
  return a + b + c + d;
}

void BM_MemoryRead(benchmark::State& state) {
  const size_t n_bytes = static_cast<size_t>(state.range(0)) << 20;
  const int n_threads = static_cast<int>(state.range(1));
  auto buffer = MakeBuffer(n_bytes);
  const size_t n_words = n_bytes / sizeof(uint64_t);
  for (auto _ : state) {
    std::vector<std::thread> threads;
    std::vector<uint64_t> sums(n_threads);
    for (int t = 0; t < n_threads; ++t) {
      threads.emplace_back([&, t] {
        size_t begin = n_words * t / n_threads, end = n_words * (t + 1) / n_threads;
        sums[t] = SumRange(buffer.get() + begin, end - begin);
      });
    }
    for (auto& th : threads) th.join();
    benchmark::DoNotOptimize(sums.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n_bytes));
}

BENCHMARK(BM_MemoryRead)
    ->ArgNames({"MiB", "threads"})
    ->Args({512, 1})
    ->Args({512, static_cast<int64_t>(std::max(1u, std::thread::hardware_concurrency()))})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
