// The threads that serve httplib's connections: created on demand up to a maximum, and the one
// that went idle last is reused first. httplib's own pool starts every thread at once and wakes
// them in turn, so each of hundreds of threads touches its stack and malloc arena sooner or later
// (RSS creeping up over the first thousand requests); here sequential requests keep running on
// the same one or two threads, and the count grows only with real concurrency.
//
// Thread-safety: enqueue and shutdown may be called from any thread.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace corral::server {

class WorkerPool : public httplib::TaskQueue {
 public:
  explicit WorkerPool(size_t max_threads);
  ~WorkerPool() override;

  // Runs `fn` on an idle thread, else on a new one while fewer than max_threads exist, else
  // after the running jobs (in order).
  void enqueue(std::function<void()> fn) override;
  // Runs what is queued, then joins every thread. No enqueue after it.
  void shutdown() override;

  size_t thread_count() const;

 private:
  struct Worker {
    std::thread thread;
    std::condition_variable wake;
    std::function<void()> job;  // set by enqueue for this (idle) worker
  };
  void Run(Worker* worker);

  const size_t max_threads_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<Worker*> idle_;                  // most recently idle last
  std::deque<std::function<void()>> backlog_;  // jobs waiting for a thread
  bool shutdown_ = false;
};

}  // namespace corral::server
