#include "runner/scheduler.h"

#include <atomic>
#include <future>
#include <thread>

#include <gtest/gtest.h>

namespace corral::runner {
namespace {

using namespace std::chrono_literals;

// Fake loads (no model) and a hand-moved clock.
struct Harness {
  std::atomic<int> loads{0};
  std::vector<std::string> loaded_keys;
  std::mutex mu;
  WallClock::time_point now = WallClock::time_point() + std::chrono::hours(1000);
  std::function<Result<LoadedModel>(const LoadSpec&)> on_load;

  SchedulerOptions Options() {
    SchedulerOptions o;
    o.reaper_thread = false;
    o.now = [this] {
      std::lock_guard lock(mu);
      return now;
    };
    return o;
  }
  LoadFn Loader() {
    return [this](const LoadSpec& spec) -> Result<LoadedModel> {
      ++loads;
      {
        std::lock_guard lock(mu);
        loaded_keys.push_back(spec.key);
      }
      if (on_load) return on_load(spec);
      return LoadedModel{nullptr, spec.estimated_bytes};
    };
  }
  void Advance(std::chrono::nanoseconds d) {
    std::lock_guard lock(mu);
    now += std::chrono::duration_cast<WallClock::duration>(d);
  }
};

LoadSpec Spec(const std::string& key, int n_parallel = 1, int64_t n_ctx = 2048,
              uint64_t bytes = 100) {
  LoadSpec s;
  s.key = key;
  s.name = key + ":latest";
  s.options.n_parallel = n_parallel;
  s.options.n_ctx = n_ctx;
  s.estimated_bytes = bytes;
  return s;
}

std::vector<std::string> Keys(const Scheduler& s) {
  std::vector<std::string> keys;
  for (const LoadedInfo& i : s.List()) keys.push_back(i.key);
  return keys;
}

TEST(SchedulerTest, LoadsOnFirstUseAndReusesTheLoadedModel) {
  Harness h;
  Scheduler s(h.Options(), h.Loader());
  {
    auto a = s.Acquire(Spec("a"), std::nullopt);
    ASSERT_TRUE(a.ok());
    auto b = s.Acquire(Spec("a"), std::nullopt);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(s.List()[0].active, 2);
  }
  EXPECT_EQ(h.loads.load(), 1);
  EXPECT_EQ(s.List()[0].active, 0);
}

TEST(SchedulerTest, KeepAliveCountsFromIdleAndZeroUnloadsAtOnce) {
  Harness h;
  Scheduler s(h.Options(), h.Loader());
  const auto t0 = h.now;
  { auto a = s.Acquire(Spec("a"), std::nullopt); }  // default 5m
  ASSERT_EQ(s.List().size(), 1u);
  EXPECT_EQ(s.List()[0].expires_at, t0 + 5min);
  h.Advance(4min);
  s.Sweep(h.now);
  EXPECT_EQ(s.List().size(), 1u);
  h.Advance(61s);
  s.Sweep(h.now);
  EXPECT_TRUE(s.List().empty()) << "expired after 5 minutes idle";

  { auto a = s.Acquire(Spec("a"), 0ns); }
  EXPECT_TRUE(s.List().empty()) << "keep_alive 0 unloads when the request ends";

  { auto a = s.Acquire(Spec("a"), kForever); }
  h.Advance(24h * 365);
  s.Sweep(h.now);
  EXPECT_EQ(s.List().size(), 1u) << "negative keep_alive never expires";
  EXPECT_EQ(s.List()[0].expires_at, WallClock::time_point::max());
  EXPECT_EQ(h.loads.load(), 3);
}

TEST(SchedulerTest, ExpireUnloadsWhenIdle) {
  Harness h;
  Scheduler s(h.Options(), h.Loader());
  EXPECT_FALSE(s.Expire("a"));
  {
    auto a = s.Acquire(Spec("a"), std::nullopt);
    EXPECT_TRUE(s.Expire("a"));
    EXPECT_EQ(s.List().size(), 1u) << "still in use";
  }
  EXPECT_TRUE(s.List().empty());
}

TEST(SchedulerTest, OtherLoadOptionsReloadTheModel) {
  Harness h;
  Scheduler s(h.Options(), h.Loader());
  { auto a = s.Acquire(Spec("a", 1, 2048), std::nullopt); }
  { auto a = s.Acquire(Spec("a", 1, 4096), std::nullopt); }
  EXPECT_EQ(h.loads.load(), 2);
  ASSERT_EQ(s.List().size(), 1u);
  EXPECT_EQ(s.List()[0].context_length, 4096);
}

TEST(SchedulerTest, MaxLoadedEvictsTheIdleModelWithTheShortestKeepAlive) {
  Harness h;
  SchedulerOptions o = h.Options();
  o.max_loaded = 2;
  Scheduler s(o, h.Loader());
  { auto a = s.Acquire(Spec("a"), 10min); }
  { auto b = s.Acquire(Spec("b"), 1min); }
  { auto c = s.Acquire(Spec("c"), 5min); }
  EXPECT_EQ(Keys(s), (std::vector<std::string>{"a", "c"}));
}

TEST(SchedulerTest, MemoryBudgetEvictsAndRefusesWhatCanNeverFit) {
  Harness h;
  SchedulerOptions o = h.Options();
  o.memory_budget = 250;
  Scheduler s(o, h.Loader());
  { auto a = s.Acquire(Spec("a", 1, 2048, 100), std::nullopt); }
  { auto b = s.Acquire(Spec("b", 1, 2048, 100), std::nullopt); }
  { auto c = s.Acquire(Spec("c", 1, 2048, 100), std::nullopt); }
  EXPECT_EQ(s.List().size(), 2u) << "the third needed the room of one";
  auto huge = s.Acquire(Spec("d", 1, 2048, 251), std::nullopt);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(huge.status().message().find("more system memory"), std::string::npos);
}

TEST(SchedulerTest, ABusyModelIsNotEvictedTheNewOneWaits) {
  Harness h;
  SchedulerOptions o = h.Options();
  o.max_loaded = 1;
  Scheduler s(o, h.Loader());
  auto a = s.Acquire(Spec("a"), std::nullopt);
  ASSERT_TRUE(a.ok());
  auto waiting = std::async(std::launch::async, [&] { return s.Acquire(Spec("b"), std::nullopt); });
  EXPECT_EQ(waiting.wait_for(100ms), std::future_status::timeout);
  *a = Lease();  // release
  auto b = waiting.get();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(Keys(s), (std::vector<std::string>{"b"}));
}

TEST(SchedulerTest, FullQueueAnswersServerBusy) {
  Harness h;
  SchedulerOptions o = h.Options();
  o.max_queue = 2;
  Scheduler s(o, h.Loader());
  // 2 sequences: two leases run, two more wait inside the runner, the fifth is refused.
  std::vector<Lease> leases;
  for (int i = 0; i < 4; ++i) {
    auto l = s.Acquire(Spec("a", 2), std::nullopt);
    ASSERT_TRUE(l.ok()) << i;
    leases.push_back(std::move(*l));
  }
  auto refused = s.Acquire(Spec("a", 2), std::nullopt);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.status().message(),
            "server busy, please try again.  maximum pending requests exceeded");
  leases.pop_back();
  EXPECT_TRUE(s.Acquire(Spec("a", 2), std::nullopt).ok()) << "room again";
}

TEST(SchedulerTest, LoadErrorsReachTheCallerAndLeaveNothingLoaded) {
  Harness h;
  h.on_load = [](const LoadSpec&) -> Result<LoadedModel> {
    return CorruptionError("tensor 'x' is truncated");
  };
  Scheduler s(h.Options(), h.Loader());
  auto a = s.Acquire(Spec("a"), std::nullopt);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(), "tensor 'x' is truncated");
  EXPECT_TRUE(s.List().empty());
}

TEST(SchedulerTest, LoadsRunOneAtATime) {
  Harness h;
  std::atomic<int> in_load{0}, max_in_load{0};
  h.on_load = [&](const LoadSpec& spec) -> Result<LoadedModel> {
    int n = ++in_load;
    max_in_load = std::max(max_in_load.load(), n);
    std::this_thread::sleep_for(30ms);
    --in_load;
    return LoadedModel{nullptr, spec.estimated_bytes};
  };
  Scheduler s(h.Options(), h.Loader());
  std::vector<std::future<bool>> all;
  for (const char* key : {"a", "b", "c"}) {
    all.push_back(std::async(std::launch::async,
                             [&, key] { return s.Acquire(Spec(key), std::nullopt).ok(); }));
  }
  for (auto& f : all) EXPECT_TRUE(f.get());
  EXPECT_EQ(max_in_load.load(), 1);
  EXPECT_EQ(s.List().size(), 3u);
}

TEST(SchedulerTest, ReaperThreadUnloadsExpiredModels) {
  SchedulerOptions o;
  o.default_keep_alive = 50ms;
  Scheduler s(o, [](const LoadSpec& spec) -> Result<LoadedModel> {
    return LoadedModel{nullptr, spec.estimated_bytes};
  });
  { auto a = s.Acquire(Spec("a"), std::nullopt); }
  for (int i = 0; i < 40 && !s.List().empty(); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(s.List().empty());
}

}  // namespace
}  // namespace corral::runner
