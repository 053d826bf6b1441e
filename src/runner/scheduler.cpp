#include "runner/scheduler.h"

#include <algorithm>
#include <cstdio>

#include "base/log.h"

namespace corral::runner {
namespace {

bool SameLoadOptions(const RunnerOptions& a, const RunnerOptions& b) {
  return a.n_ctx == b.n_ctx && a.n_parallel == b.n_parallel && a.n_batch == b.n_batch &&
         a.n_threads == b.n_threads && a.kv_type == b.kv_type;
}

WallClock::time_point ExpiryAfter(WallClock::time_point now, std::chrono::nanoseconds keep_alive) {
  if (keep_alive == kForever) return WallClock::time_point::max();
  return now + std::chrono::duration_cast<WallClock::duration>(keep_alive);
}

std::string GiB(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1ull << 30));
  return buf;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Lease

Lease::Lease(Lease&& other) noexcept
    : scheduler_(other.scheduler_), entry_(std::move(other.entry_)), wait_(other.wait_) {
  other.scheduler_ = nullptr;
}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    if (scheduler_ && entry_) scheduler_->Release(entry_);
    scheduler_ = other.scheduler_;
    entry_ = std::move(other.entry_);
    wait_ = other.wait_;
    other.scheduler_ = nullptr;
  }
  return *this;
}

Lease::~Lease() {
  if (scheduler_ && entry_) scheduler_->Release(entry_);
}

Runner* Lease::runner() const { return entry_ ? entry_->runner.get() : nullptr; }

// ---------------------------------------------------------------------------------------------
// Scheduler

Scheduler::Scheduler(SchedulerOptions options, LoadFn load)
    : options_(std::move(options)), load_(std::move(load)) {
  if (options_.max_loaded <= 0) options_.max_loaded = 3;
  if (options_.reaper_thread) reaper_ = std::thread([this] { ReaperLoop(); });
}

Scheduler::~Scheduler() {
  std::vector<std::shared_ptr<Runner>> unloaded;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [key, entry] : entries_) unloaded.push_back(std::move(entry->runner));
    entries_.clear();
  }
  cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
  unloaded.clear();  // each Runner ends its generations and joins its thread
}

Result<Lease> Scheduler::Acquire(const LoadSpec& spec,
                                 std::optional<std::chrono::nanoseconds> keep_alive) {
  const auto start = std::chrono::steady_clock::now();
  const std::chrono::nanoseconds session = keep_alive.value_or(options_.default_keep_alive);
  if (options_.memory_budget > 0 && spec.estimated_bytes > options_.memory_budget) {
    return ResourceExhaustedError("model requires more system memory (" +
                                  GiB(spec.estimated_bytes) + ") than is available (" +
                                  GiB(options_.memory_budget) + ")");
  }
  std::vector<std::shared_ptr<Runner>> unloaded;  // destroyed outside the lock
  std::unique_lock lock(mu_);
  bool counted_waiting = false;
  auto done_waiting = [&] {
    if (counted_waiting) --waiting_;
    counted_waiting = false;
  };
  // Requests that must wait count against max_queue; a full queue turns them away.
  auto queue_or_refuse = [&]() -> bool {
    if (counted_waiting) return true;
    int queued = waiting_;
    for (const auto& [key, e] : entries_) {
      queued += std::max(0, e->refs - e->spec.options.n_parallel);
    }
    if (queued >= options_.max_queue) return false;
    ++waiting_;
    counted_waiting = true;
    return true;
  };
  const Status busy =
      ResourceExhaustedError("server busy, please try again.  maximum pending requests exceeded");

  while (true) {
    if (stopping_) {
      done_waiting();
      return UnavailableError("the server is shutting down");
    }
    auto it = entries_.find(spec.key);
    if (it != entries_.end()) {
      std::shared_ptr<Entry> e = it->second;
      if (!e->unloading && SameLoadOptions(e->spec.options, spec.options)) {
        // Loaded: lease it. Beyond its sequences the request waits inside the runner, which
        // counts as queued.
        if (!counted_waiting && e->refs >= e->spec.options.n_parallel && !queue_or_refuse()) {
          return busy;
        }
        done_waiting();
        ++e->refs;
        e->keep_alive = session;
        e->expires_at = ExpiryAfter(options_.now(), session);
        Lease lease;
        lease.scheduler_ = this;
        lease.entry_ = e;
        lease.wait_ = std::chrono::steady_clock::now() - start;
        return lease;
      }
      // Other load options, or on its way out: unload when idle, then load again.
      e->unloading = true;
      if (e->refs == 0) {
        Remove(spec.key, &unloaded);
        continue;
      }
      if (!queue_or_refuse()) return busy;
      cv_.wait(lock);
      continue;
    }
    if (loading_) {
      if (!queue_or_refuse()) return busy;
      cv_.wait(lock);
      continue;
    }
    if (!MakeRoom(spec.estimated_bytes, &unloaded)) {
      if (!queue_or_refuse()) return busy;
      cv_.wait(lock);
      continue;
    }
    loading_ = true;
    lock.unlock();
    unloaded.clear();
    LOG(kInfo) << "loading model " << spec.name << " (" << spec.key << ")";
    Result<LoadedModel> loaded = load_(spec);
    lock.lock();
    loading_ = false;
    cv_.notify_all();
    done_waiting();
    if (!loaded.ok()) return loaded.status();
    if (stopping_) return UnavailableError("the server is shutting down");
    auto e = std::make_shared<Entry>();
    e->spec = spec;
    e->runner = std::move(loaded->runner);
    e->size_bytes = loaded->size_bytes;
    e->refs = 1;
    e->keep_alive = session;
    e->expires_at = ExpiryAfter(options_.now(), session);
    entries_[spec.key] = e;
    Lease lease;
    lease.scheduler_ = this;
    lease.entry_ = e;
    lease.wait_ = std::chrono::steady_clock::now() - start;
    return lease;
  }
}

void Scheduler::Release(const std::shared_ptr<Entry>& entry) {
  std::vector<std::shared_ptr<Runner>> unloaded;
  {
    std::lock_guard lock(mu_);
    --entry->refs;
    if (entry->refs == 0) {
      auto it = entries_.find(entry->spec.key);
      const bool current = it != entries_.end() && it->second == entry;
      if (current && (entry->unloading || entry->keep_alive.count() == 0)) {
        Remove(entry->spec.key, &unloaded);
      } else {
        entry->expires_at = ExpiryAfter(options_.now(), entry->keep_alive);
      }
    }
  }
  cv_.notify_all();
}

bool Scheduler::MakeRoom(uint64_t bytes, std::vector<std::shared_ptr<Runner>>* unloaded) {
  auto fits = [&] {
    uint64_t used = 0;
    for (const auto& [key, e] : entries_) used += e->size_bytes;
    return static_cast<int>(entries_.size()) < options_.max_loaded &&
           (options_.memory_budget == 0 || used + bytes <= options_.memory_budget);
  };
  while (!fits()) {
    // The idle model with the shortest keep_alive goes first (ties: by file), as Ollama.
    std::shared_ptr<Entry> victim;
    for (const auto& [key, e] : entries_) {
      if (e->refs > 0) continue;
      if (!victim || e->keep_alive < victim->keep_alive) victim = e;
    }
    if (!victim) return false;
    LOG(kInfo) << "unloading model " << victim->spec.name << " to make room";
    Remove(victim->spec.key, unloaded);
  }
  return true;
}

void Scheduler::Remove(const std::string& key, std::vector<std::shared_ptr<Runner>>* unloaded) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  if (it->second->runner) unloaded->push_back(it->second->runner);
  it->second->runner = nullptr;
  entries_.erase(it);
  cv_.notify_all();
}

bool Scheduler::Expire(const std::string& key) {
  std::vector<std::shared_ptr<Runner>> unloaded;
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  it->second->unloading = true;
  it->second->keep_alive = std::chrono::nanoseconds(0);
  it->second->expires_at = options_.now();
  if (it->second->refs == 0) Remove(key, &unloaded);
  return true;
}

void Scheduler::Sweep(WallClock::time_point now) {
  std::vector<std::shared_ptr<Runner>> unloaded;
  std::lock_guard lock(mu_);
  std::vector<std::string> expired;
  for (const auto& [key, e] : entries_) {
    if (e->refs == 0 && e->expires_at <= now) expired.push_back(key);
  }
  for (const std::string& key : expired) {
    LOG(kInfo) << "unloading model " << entries_[key]->spec.name << ": keep_alive ran out";
    Remove(key, &unloaded);
  }
}

std::vector<LoadedInfo> Scheduler::List() const {
  std::lock_guard lock(mu_);
  std::vector<LoadedInfo> out;
  for (const auto& [key, e] : entries_) {
    LoadedInfo info;
    info.name = e->spec.name;
    info.digest = e->spec.digest;
    info.key = key;
    info.size_bytes = e->size_bytes;
    // What the runner allocated (the loader may clamp num_ctx to the model's trained context).
    info.context_length = e->runner ? e->runner->options().n_ctx : e->spec.options.n_ctx;
    info.expires_at = e->expires_at;
    info.active = e->refs;
    out.push_back(std::move(info));
  }
  return out;
}

void Scheduler::ReaperLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(250));
    if (stopping_) break;
    lock.unlock();
    Sweep(options_.now());
    lock.lock();
  }
}

}  // namespace corral::runner
