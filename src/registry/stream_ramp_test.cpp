#include "registry/stream_ramp.h"

#include <gtest/gtest.h>

#include <functional>

namespace corral::registry::internal {
namespace {

using std::chrono::milliseconds;
using Clock = StreamRamp::Clock;

// Drives a ramp for `seconds` in 100 ms steps with a link whose rate (bytes/s) for n streams is
// `rate(n)`; returns the stream counts it asked for, one per step.
std::vector<int> Drive(StreamRamp& ramp, Clock::time_point start, int seconds,
                       const std::function<double(int)>& rate) {
  std::vector<int> asked;
  double bytes = 0;
  int streams = ramp.streams();
  for (int step = 1; step <= seconds * 10; ++step) {
    bytes += rate(streams) * 0.1;
    streams = ramp.Update(start + milliseconds(100 * step), static_cast<int64_t>(bytes));
    asked.push_back(streams);
  }
  return asked;
}

TEST(StreamRampTest, StartsWithTwoStreams) {
  Clock::time_point t0{};
  EXPECT_EQ(StreamRamp(16, t0).streams(), 2);
  EXPECT_EQ(StreamRamp(1, t0).streams(), 1);
  EXPECT_EQ(StreamRamp(0, t0).streams(), 1);  // at least one, whatever the caller asks
}

TEST(StreamRampTest, ALinkTwoStreamsFillStaysAtTwo) {
  Clock::time_point t0{};
  StreamRamp ramp(16, t0);
  // 800 MB/s however many streams (loopback): doubling to 4 gains nothing.
  std::vector<int> asked = Drive(ramp, t0, 10, [](int) { return 800e6; });
  // Warm-up (1 s), measure 2 streams (1 s), then try 4: warm-up and measure, then back to 2.
  EXPECT_EQ(asked[19 - 1], 2);
  EXPECT_EQ(asked[20 - 1], 4);
  EXPECT_EQ(asked[39 - 1], 4);
  EXPECT_EQ(asked[40 - 1], 2);
  EXPECT_EQ(asked.back(), 2);
}

TEST(StreamRampTest, ALinkCappedPerStreamGrowsToTheLimit) {
  Clock::time_point t0{};
  StreamRamp ramp(16, t0);
  // 10 MB/s per stream, as a CDN that caps each connection.
  std::vector<int> asked = Drive(ramp, t0, 20, [](int n) { return 10e6 * n; });
  EXPECT_EQ(asked[20 - 1], 4);
  EXPECT_EQ(asked[40 - 1], 8);
  EXPECT_EQ(asked[60 - 1], 16);
  EXPECT_EQ(asked.back(), 16);
}

TEST(StreamRampTest, StopsWhereTheLinkIsFull) {
  Clock::time_point t0{};
  StreamRamp ramp(16, t0);
  // 10 MB/s per stream up to a 50 MB/s line: 4 streams (40) pay over 2 (20); 8 (50) gain only
  // 25%, which still pays; 16 (50) gains nothing, so it settles at 8.
  std::vector<int> asked = Drive(ramp, t0, 20, [](int n) { return std::min(10e6 * n, 50e6); });
  EXPECT_EQ(asked[60 - 1], 16);
  EXPECT_EQ(asked[80 - 1], 8);
  EXPECT_EQ(asked.back(), 8);
}

TEST(StreamRampTest, TheWindowAfterAChangeIsNotMeasured) {
  Clock::time_point t0{};
  StreamRamp ramp(16, t0);
  // New streams deliver nothing during their first second (connecting), then 10 MB/s each: if
  // the warm-up counted, 4 streams would look no better than 2 and the ramp would stop.
  int64_t bytes = 0;
  int streams = ramp.streams();
  int started_at_step = 0;
  int previous = streams;
  for (int step = 1; step <= 45; ++step) {
    bool connecting = step - started_at_step <= 10;
    bytes += static_cast<int64_t>((connecting ? previous : streams) * 10e6 * 0.1);
    int asked = ramp.Update(t0 + milliseconds(100 * step), bytes);
    if (asked != streams) {
      previous = streams;
      streams = asked;
      started_at_step = step;
    }
  }
  EXPECT_EQ(streams, 8);
}

TEST(StreamRampTest, MaxBelowTheStartIsRespected) {
  Clock::time_point t0{};
  StreamRamp one(1, t0), three(3, t0);
  EXPECT_EQ(Drive(one, t0, 5, [](int n) { return 1e6 * n; }).back(), 1);
  std::vector<int> asked = Drive(three, t0, 8, [](int n) { return 1e6 * n; });
  EXPECT_EQ(asked[20 - 1], 3);  // 2 doubled, capped at 3...
  EXPECT_EQ(asked.back(), 3);   // ...and 3 pays (1.5x), so it stays
  StreamRamp capped(3, t0);
  // 3 streams no faster than 2: back to 2, not to 3 / 2.
  EXPECT_EQ(Drive(capped, t0, 8, [](int) { return 1e6; }).back(), 2);
}

}  // namespace
}  // namespace corral::registry::internal
