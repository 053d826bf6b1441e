#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

// Counts every global allocation of this test binary, so the tests below can assert that a
// ParallelFor call allocates nothing. The aligned forms keep their default (matching) versions.
namespace {
std::atomic<int64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  std::abort();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace corral {
namespace {

struct Chunk {
  int64_t begin, end;
  int thread_index;
};

// Runs one ParallelFor and returns its chunks sorted by begin.
std::vector<Chunk> RecordChunks(ThreadPool& pool, int64_t n, int64_t min_chunk) {
  std::mutex mutex;
  std::vector<Chunk> chunks;
  pool.ParallelFor(
      n,
      [&](int64_t begin, int64_t end, int thread_index) {
        std::lock_guard<std::mutex> lock(mutex);
        chunks.push_back({begin, end, thread_index});
      },
      min_chunk);
  std::sort(chunks.begin(), chunks.end(),
            [](const Chunk& a, const Chunk& b) { return a.begin < b.begin; });
  return chunks;
}

TEST(ThreadPoolTest, VisitsEveryIndexExactlyOnce) {
  for (int threads = 1; threads <= 4; ++threads) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.num_threads(), threads);
    for (int64_t n : {0, 1, 2, 3, 4, 5, 7, 64, 1001, 100003}) {
      std::vector<std::atomic<int>> visits(static_cast<size_t>(n));
      pool.ParallelFor(n, [&](int64_t begin, int64_t end, int thread_index) {
        EXPECT_GE(thread_index, 0);
        EXPECT_LT(thread_index, threads);
        for (int64_t i = begin; i < end; ++i) visits[i].fetch_add(1);
      });
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(visits[i].load(), 1) << "threads=" << threads << " n=" << n << " i=" << i;
      }
    }
  }
}

TEST(ThreadPoolTest, ChunksAreContiguousBalancedAndOnePerThread) {
  for (int threads = 1; threads <= 4; ++threads) {
    ThreadPool pool(threads);
    for (int64_t n : {1, 2, 3, 5, 10, 11, 1000, 1003}) {
      std::vector<Chunk> chunks = RecordChunks(pool, n, 1);
      ASSERT_EQ(static_cast<int64_t>(chunks.size()), std::min<int64_t>(threads, n));
      int64_t expected_begin = 0, smallest = n, largest = 0;
      std::vector<int> seen_threads;
      for (const Chunk& chunk : chunks) {
        EXPECT_EQ(chunk.begin, expected_begin);
        EXPECT_LT(chunk.begin, chunk.end) << "empty chunks are not called";
        expected_begin = chunk.end;
        smallest = std::min(smallest, chunk.end - chunk.begin);
        largest = std::max(largest, chunk.end - chunk.begin);
        seen_threads.push_back(chunk.thread_index);
      }
      EXPECT_EQ(expected_begin, n);
      EXPECT_LE(largest - smallest, 1);
      std::sort(seen_threads.begin(), seen_threads.end());
      EXPECT_EQ(std::adjacent_find(seen_threads.begin(), seen_threads.end()), seen_threads.end())
          << "a thread index ran two chunks";
    }
  }
}

TEST(ThreadPoolTest, MinChunkCapsTheNumberOfChunks) {
  ThreadPool pool(4);
  EXPECT_EQ(RecordChunks(pool, 10, 4).size(), 3u);    // ceil(10 / 4)
  EXPECT_EQ(RecordChunks(pool, 10, 100).size(), 1u);  // too small to split
  EXPECT_EQ(RecordChunks(pool, 10, 0).size(), 4u);    // min_chunk < 1 means 1
}

TEST(ThreadPoolTest, CallerRunsThreadIndexZero) {
  ThreadPool pool(3);
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<int> zero_on_caller{0};
  pool.ParallelFor(300, [&](int64_t, int64_t, int thread_index) {
    if (thread_index == 0 && std::this_thread::get_id() == caller) zero_on_caller.fetch_add(1);
    if (thread_index != 0) {
      EXPECT_NE(std::this_thread::get_id(), caller);
    }
  });
  EXPECT_EQ(zero_on_caller.load(), 1);
}

TEST(ThreadPoolTest, NestedCallRunsInlineOnTheCallingThread) {
  ThreadPool pool(4);
  std::atomic<int> inner_calls{0};
  std::atomic<int> mismatches{0};
  pool.ParallelFor(4, [&](int64_t, int64_t, int outer_index) {
    const std::thread::id outer_thread = std::this_thread::get_id();
    pool.ParallelFor(100, [&](int64_t begin, int64_t end, int inner_index) {
      inner_calls.fetch_add(1);
      if (begin != 0 || end != 100 || inner_index != outer_index ||
          std::this_thread::get_id() != outer_thread) {
        mismatches.fetch_add(1);
      }
    });
  });
  EXPECT_EQ(inner_calls.load(), 4);
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(ThreadPoolTest, ConcurrentCallersAreSerialized) {
  ThreadPool pool(3);
  std::atomic<int64_t> total{0};
  auto caller = [&] {
    for (int call = 0; call < 500; ++call) {
      pool.ParallelFor(97, [&](int64_t begin, int64_t end, int) { total.fetch_add(end - begin); });
    }
  };
  std::thread a(caller), b(caller);
  a.join();
  b.join();
  EXPECT_EQ(total.load(), 2 * 500 * 97);
}

TEST(ThreadPoolTest, ManyBackToBackCallsAndCallsAfterWorkersPark) {
  ThreadPool pool(4);
  int64_t total = 0;
  std::vector<int64_t> per_thread(4);
  for (int call = 0; call < 2000; ++call) {
    pool.ParallelFor(4, [&](int64_t begin, int64_t end, int thread_index) {
      per_thread[thread_index] += end - begin;
    });
  }
  for (int64_t v : per_thread) total += v;
  EXPECT_EQ(total, 4 * 2000);

  for (int call = 0; call < 3; ++call) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the workers park
    std::atomic<int64_t> sum{0};
    pool.ParallelFor(1000, [&](int64_t begin, int64_t end, int) {
      for (int64_t i = begin; i < end; ++i) sum.fetch_add(i);
    });
    EXPECT_EQ(sum.load(), 999 * 1000 / 2);
  }
}

TEST(ThreadPoolTest, CallsDoNotAllocate) {
  ThreadPool pool(4);
  std::vector<int64_t> out(1000);
  int64_t a = 1, b = 2, c = 3, d = 4;  // a capture too large for std::function's inline buffer
  auto body = [&out, &a, &b, &c, &d](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) out[i] += a + b + c + d;
  };
  const std::function<void(int64_t, int64_t, int)> as_function = body;
  pool.ParallelFor(1000, body);  // warm-up
  const int64_t before = g_allocations.load();
  for (int call = 0; call < 1000; ++call) {
    pool.ParallelFor(1000, body);
    pool.ParallelFor(1000, as_function);
    pool.ParallelFor(3, body, 2);
  }
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_EQ(out[0], 10 + 1000 * 3 * 10);  // warm-up, then three calls per iteration
}

TEST(ThreadPoolTest, DestroysWhileWorkersAreParkedOrSpinning) {
  { ThreadPool spinning(4); }
  {
    ThreadPool parked(4);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  {
    ThreadPool used(2);
    used.ParallelFor(10, [](int64_t, int64_t, int) {});
  }
  EXPECT_GE(ThreadPool::DefaultThreadCount(), 1);
}

}  // namespace
}  // namespace corral

namespace corral {
namespace {

// Waits up to `limit` for `pool` to have `want` parked workers.
bool ParkedWithin(const ThreadPool& pool, int want, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (pool.parked_workers() != want) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// What Park is for: workers spinning for the next call give their cores back at once. With a
// spin of 2^30 checks (tens of seconds) they are still spinning 200 ms after a call; after Park
// they are parked well within a second.
TEST(ThreadPoolTest, ParkStopsTheWorkersSpinning) {
  ThreadPool pool(3, /*spin_checks=*/1 << 30);
  std::atomic<int> ran{0};
  pool.ParallelFor(3, [&](int64_t, int64_t, int) { ++ran; });
  EXPECT_EQ(ran.load(), 3);
  EXPECT_FALSE(ParkedWithin(pool, 2, std::chrono::milliseconds(200)));
  pool.Park();
  EXPECT_TRUE(ParkedWithin(pool, 2, std::chrono::seconds(5)));
  // Parked workers still take the next call.
  pool.ParallelFor(3, [&](int64_t, int64_t, int) { ++ran; });
  EXPECT_EQ(ran.load(), 6);
}

// Park only shortens the workers' spin: calls before and after it (and racing with it from
// another thread) still run every chunk exactly once.
TEST(ThreadPoolTest, ParkBetweenCallsKeepsEveryCallCorrect) {
  ThreadPool pool(3);
  std::atomic<bool> done{false};
  std::thread parker([&] {
    while (!done.load()) pool.Park();
  });
  std::vector<int> hits(300);
  for (int round = 0; round < 2000; ++round) {
    if (round % 3 == 0) pool.Park();
    pool.ParallelFor(static_cast<int64_t>(hits.size()), [&](int64_t begin, int64_t end, int) {
      for (int64_t i = begin; i < end; ++i) ++hits[static_cast<size_t>(i)];
    });
  }
  done = true;
  parker.join();
  for (int h : hits) ASSERT_EQ(h, 2000);
}

}  // namespace
}  // namespace corral
