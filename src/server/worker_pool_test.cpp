#include "server/worker_pool.h"

#include <atomic>
#include <chrono>
#include <future>
#include <set>

#include <gtest/gtest.h>

namespace corral::server {
namespace {

using namespace std::chrono_literals;

// Jobs one after another run on one thread: the idle thread is reused, none is added.
TEST(WorkerPoolTest, SequentialJobsReuseOneThread) {
  WorkerPool pool(64);
  std::set<std::thread::id> threads;
  for (int i = 0; i < 50; ++i) {
    std::promise<std::thread::id> ran;
    pool.enqueue([&] { ran.set_value(std::this_thread::get_id()); });
    threads.insert(ran.get_future().get());
    // Let the worker park itself as idle before the next job arrives.
    for (int k = 0; k < 100 && pool.thread_count() == 0; ++k) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(threads.size(), 1u);
  EXPECT_EQ(pool.thread_count(), 1u);
}

// Concurrent jobs get threads up to the maximum; the rest wait and still run.
TEST(WorkerPoolTest, GrowsToTheMaximumThenQueues) {
  WorkerPool pool(3);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> running{0}, peak{0};
  std::vector<int> order;
  for (int i = 0; i < 8; ++i) {
    pool.enqueue([&, i] {
      int now = ++running;
      peak = std::max(peak.load(), now);
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return release; });
      order.push_back(i);
      --running;
    });
  }
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(pool.thread_count(), 3u);
  EXPECT_EQ(running.load(), 3);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  pool.shutdown();  // runs the queued jobs, then joins
  EXPECT_EQ(order.size(), 8u);
  EXPECT_EQ(peak.load(), 3);
  std::sort(order.begin(), order.end());
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(WorkerPoolTest, ShutdownIsIdempotentAndRefusesLaterJobs) {
  WorkerPool pool(2);
  std::atomic<int> ran{0};
  pool.enqueue([&] { ++ran; });
  pool.shutdown();
  pool.shutdown();
  pool.enqueue([&] { ++ran; });
  EXPECT_EQ(ran.load(), 1);
}

}  // namespace
}  // namespace corral::server
