// How many ranged requests a blob download keeps in flight. Internal to src/registry.
//
// It starts with two and doubles while doubling still pays: a link whose rate per stream is
// capped (a CDN, a long fat pipe) grows to the limit, while a link that one or two streams
// already fill (loopback, a LAN mirror) stays at two. Extra streams there only take CPU from
// receiving, hashing and writing, and they finish their parts together at the end, so the
// sha256 of the blob, which must go in order, is left to do after the last byte.
#pragma once

#include <chrono>
#include <cstdint>

namespace corral::registry::internal {

class StreamRamp {
 public:
  using Clock = std::chrono::steady_clock;

  // `max_streams` >= 1. A rate is measured over `window`; the window right after a change is
  // skipped, because new streams spend it connecting.
  StreamRamp(int max_streams, Clock::time_point start,
             std::chrono::milliseconds window = std::chrono::milliseconds(1000));

  // `completed`: bytes of the blob downloaded so far. Returns how many streams should run.
  int Update(Clock::time_point now, int64_t completed);
  int streams() const { return streams_; }

  // Doubling must raise the rate by this factor to be kept.
  static constexpr double kWorthwhileGain = 1.2;

 private:
  enum class Phase { kWarmUp, kMeasure, kSettled };

  int max_streams_;
  std::chrono::milliseconds window_;
  int streams_;
  Phase phase_;
  Clock::time_point window_start_;
  int64_t window_bytes_ = 0;
  // The streams before the last doubling (capped at the maximum, so not always half) and the
  // rate they had (0 before the first measurement).
  int streams_before_ = 0;
  double rate_before_ = 0;
};

}  // namespace corral::registry::internal
