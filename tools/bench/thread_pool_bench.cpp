// ThreadPool dispatch overhead: one ParallelFor whose chunks do (almost) nothing, so the time
// is the wake-up, the hand-off and the wait. A forward pass makes hundreds of these calls per
// token, so this number times ~300 is the per-token threading cost.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "base/thread_pool.h"

namespace corral {
namespace {

void BM_ParallelForOverhead(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  ThreadPool pool(threads);
  std::vector<int64_t> per_thread(static_cast<size_t>(threads) * 8);  // a cache line apart
  for (auto _ : state) {
    pool.ParallelFor(threads, [&](int64_t begin, int64_t end, int thread_index) {
      per_thread[static_cast<size_t>(thread_index) * 8] += end - begin;
    });
  }
  benchmark::DoNotOptimize(per_thread.data());
}

BENCHMARK(BM_ParallelForOverhead)->Arg(1)->Arg(2)->Arg(4)->UseRealTime();

}  // namespace
}  // namespace corral
