#include "server/worker_pool.h"

#include <algorithm>

namespace corral::server {

WorkerPool::WorkerPool(size_t max_threads) : max_threads_(std::max<size_t>(1, max_threads)) {}

WorkerPool::~WorkerPool() { shutdown(); }

size_t WorkerPool::thread_count() const {
  std::lock_guard lock(mu_);
  return workers_.size();
}

void WorkerPool::enqueue(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  if (shutdown_) return;
  if (!idle_.empty()) {
    Worker* w = idle_.back();
    idle_.pop_back();
    w->job = std::move(fn);
    w->wake.notify_one();
    return;
  }
  if (workers_.size() < max_threads_) {
    auto w = std::make_unique<Worker>();
    w->job = std::move(fn);
    Worker* raw = w.get();
    workers_.push_back(std::move(w));
    raw->thread = std::thread([this, raw] { Run(raw); });
    return;
  }
  backlog_.push_back(std::move(fn));
}

void WorkerPool::Run(Worker* worker) {
  std::unique_lock lock(mu_);
  while (true) {
    if (!worker->job && !backlog_.empty()) {
      worker->job = std::move(backlog_.front());
      backlog_.pop_front();
    }
    if (worker->job) {
      std::function<void()> job = std::move(worker->job);
      worker->job = nullptr;
      lock.unlock();
      job();
      lock.lock();
      continue;
    }
    if (shutdown_) return;
    idle_.push_back(worker);
    worker->wake.wait(lock, [&] { return worker->job != nullptr || shutdown_; });
    // Woken by shutdown while still listed as idle: leave the list.
    idle_.erase(std::remove(idle_.begin(), idle_.end(), worker), idle_.end());
  }
}

void WorkerPool::shutdown() {
  std::vector<std::unique_ptr<Worker>> workers;
  {
    std::lock_guard lock(mu_);
    if (shutdown_ && workers_.empty()) return;
    shutdown_ = true;
    for (auto& w : workers_) w->wake.notify_one();
    workers.swap(workers_);
  }
  for (auto& w : workers) {
    if (w->thread.joinable()) w->thread.join();
  }
}

}  // namespace corral::server
