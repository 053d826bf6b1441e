// Which models are loaded, for how long, and who may use them: Ollama's scheduler
// (server/sched.go) for an in-process engine.
//
//   Scheduler sched(options, LoadRunner);              // LoadRunner: spec -> Runner
//   ASSIGN_OR_RETURN(Lease lease, sched.Acquire(spec, keep_alive));
//   lease.runner()->Submit(...);                        // the model stays loaded while leased
//   // ~Lease: keep_alive starts counting (0: unload now, negative: never)
//
// - One runner per model file, loaded on first use; loads run one at a time. A request with
//   other load-time options (num_ctx, num_batch, ...) waits until the loaded runner is idle,
//   then reloads it.
// - keep_alive: the last request's value (else OLLAMA_KEEP_ALIVE, default 5m) counts from the
//   moment the model goes idle; `expires_at` is what /api/ps shows.
// - At most max_loaded models, and at most memory_budget bytes of them: the idle one with the
//   shortest keep_alive is unloaded first; when none is idle, the request waits.
// - At most max_queue requests wait (for a load, or for a busy model's sequences); more get
//   ResourceExhausted with Ollama's "server busy" text (a 503).
//
// The loader and the clock are seams: tests run the scheduler with fake loads and a fake clock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "runner/runner.h"

namespace corral::runner {

using WallClock = std::chrono::system_clock;

// A keep_alive that never expires (Ollama: any negative duration).
inline constexpr std::chrono::nanoseconds kForever = std::chrono::nanoseconds::max();

struct LoadSpec {
  std::string key;               // the model file: one runner per file
  std::string name;              // the model's name as /api/ps shows it ("llama3.2:latest")
  std::string digest;            // the manifest digest (hex), for /api/ps
  RunnerOptions options;         // load-time options: a change reloads the model
  uint64_t estimated_bytes = 0;  // memory the load will take (file size + KV cache), for eviction
};

// What a load produced.
struct LoadedModel {
  std::shared_ptr<Runner> runner;  // null only with test loaders
  uint64_t size_bytes = 0;         // memory it holds (weights, packed copies, KV cache)
};

using LoadFn = std::function<Result<LoadedModel>(const LoadSpec&)>;

struct SchedulerOptions {
  int max_loaded = 3;   // OLLAMA_MAX_LOADED_MODELS (0 means 3, as on a CPU-only Ollama)
  int max_queue = 512;  // OLLAMA_MAX_QUEUE
  std::chrono::nanoseconds default_keep_alive = std::chrono::minutes(5);  // OLLAMA_KEEP_ALIVE
  uint64_t memory_budget = 0;  // bytes for all loaded models; 0: no limit
  bool reaper_thread = true;   // unload expired models in the background (tests call Sweep)
  std::function<WallClock::time_point()> now = [] { return WallClock::now(); };
};

// One loaded model as /api/ps lists it.
struct LoadedInfo {
  std::string name;
  std::string digest;
  std::string key;
  uint64_t size_bytes = 0;
  int64_t context_length = 0;
  WallClock::time_point expires_at;  // time_point::max() while in use with keep_alive forever
  int active = 0;                    // leases held
};

class Scheduler;
namespace detail {
struct SchedulerEntry;
}

// A model held for one request; movable. Destroying it releases the model.
class Lease {
 public:
  Lease() = default;
  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&& other) noexcept;
  ~Lease();

  Runner* runner() const;
  // Time spent getting the model (waiting and loading): Ollama's load_duration.
  std::chrono::nanoseconds wait_time() const { return wait_; }

 private:
  friend class Scheduler;
  Scheduler* scheduler_ = nullptr;
  std::shared_ptr<detail::SchedulerEntry> entry_;
  std::chrono::nanoseconds wait_{0};
};

namespace detail {
struct SchedulerEntry {
  LoadSpec spec;
  std::shared_ptr<Runner> runner;
  uint64_t size_bytes = 0;
  int refs = 0;
  std::chrono::nanoseconds keep_alive{0};
  WallClock::time_point expires_at;
  bool unloading = false;  // expired or being replaced: no new leases
};
}  // namespace detail

class Scheduler {
 public:
  Scheduler(SchedulerOptions options, LoadFn load);
  ~Scheduler();  // unloads everything
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Loads the model if needed and leases it. keep_alive: the request's value (nullopt: the
  // default); negative values mean forever. Errors: the load's error; ResourceExhausted when
  // the queue is full or the model needs more memory than the budget.
  Result<Lease> Acquire(const LoadSpec& spec, std::optional<std::chrono::nanoseconds> keep_alive);

  // Unloads the model when idle (now, if nobody uses it): an empty request with keep_alive 0,
  // `ollama stop`. Returns whether it was loaded.
  bool Expire(const std::string& key);

  // Unloads every idle model whose keep_alive has run out at `now`.
  void Sweep(WallClock::time_point now);

  std::vector<LoadedInfo> List() const;

 private:
  friend class Lease;
  using Entry = detail::SchedulerEntry;
  void Release(const std::shared_ptr<Entry>& entry);
  // Under mu_: unloads idle entries to make room for `bytes` more in at most max_loaded - 1
  // others. Returns false when that needs an entry that is busy.
  bool MakeRoom(uint64_t bytes, std::vector<std::shared_ptr<Runner>>* unloaded);
  void Remove(const std::string& key, std::vector<std::shared_ptr<Runner>>* unloaded);
  void ReaperLoop();

  SchedulerOptions options_;
  LoadFn load_;
  mutable std::mutex mu_;
  std::condition_variable cv_;  // an entry went idle or was removed, or a load finished
  std::map<std::string, std::shared_ptr<Entry>> entries_;
  bool loading_ = false;  // one load at a time
  int waiting_ = 0;       // requests waiting for a load or a busy model
  bool stopping_ = false;
  std::thread reaper_;
};

}  // namespace corral::runner
