#include "registry/stream_ramp.h"

#include <algorithm>

namespace corral::registry::internal {

StreamRamp::StreamRamp(int max_streams, Clock::time_point start, std::chrono::milliseconds window)
    : max_streams_(std::max(1, max_streams)),
      window_(window),
      streams_(std::min(2, max_streams_)),
      // The first window measures the starting streams; they too must connect first.
      phase_(streams_ >= max_streams_ ? Phase::kSettled : Phase::kWarmUp),
      window_start_(start) {}

int StreamRamp::Update(Clock::time_point now, int64_t completed) {
  if (phase_ == Phase::kSettled || now - window_start_ < window_) return streams_;
  const double seconds = std::chrono::duration<double>(now - window_start_).count();
  const double rate = static_cast<double>(completed - window_bytes_) / seconds;
  window_start_ = now;
  window_bytes_ = completed;
  if (phase_ == Phase::kWarmUp) {
    phase_ = Phase::kMeasure;
    return streams_;
  }
  if (rate_before_ > 0 && rate < rate_before_ * kWorthwhileGain) {
    // The last doubling did not pay: back to the streams before it, for good.
    streams_ = std::max(1, streams_before_);
    phase_ = Phase::kSettled;
    return streams_;
  }
  if (streams_ >= max_streams_) {
    phase_ = Phase::kSettled;
    return streams_;
  }
  rate_before_ = rate;
  streams_before_ = streams_;
  streams_ = std::min(max_streams_, streams_ * 2);
  phase_ = Phase::kWarmUp;
  return streams_;
}

}  // namespace corral::registry::internal
