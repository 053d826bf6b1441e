// The bars and the display of progress.h against hand-computed frames: Ollama's layout
// (progress/bar.go), its speed averaged over samples a second apart, the time left, and the
// redraw of every line in place.
#include "cli/progress.h"

#include <gtest/gtest.h>

#include <sstream>

namespace corral::cli {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

const SteadyTime t0{};  // the tests' clock starts at the epoch

std::string Spaces(int n) { return std::string(n, ' '); }
std::string Blocks(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += "█";
  return out;
}

constexpr char kMessage[] = "pulling 1a2b3c4d5e6f:";  // 21 bytes: with " " and " 10%", 26

TEST(FormatBarDurationTest, TwoUnitsAtMost) {
  EXPECT_EQ(FormatBarDuration(seconds(0)), "0s");
  EXPECT_EQ(FormatBarDuration(seconds(9)), "9s");
  EXPECT_EQ(FormatBarDuration(seconds(62)), "1m2s");
  EXPECT_EQ(FormatBarDuration(milliseconds(1500)), "2s") << "halves round up, as Go's Round";
  EXPECT_EQ(FormatBarDuration(milliseconds(1499)), "1s");
  EXPECT_EQ(FormatBarDuration(seconds(3725)), "1h2m");
  EXPECT_EQ(FormatBarDuration(seconds(99 * 3600 + 59 * 60 + 59)), "99h59m");
  EXPECT_EQ(FormatBarDuration(std::chrono::hours(100)), "99h+");
  // Below an hour before rounding, an hour after: Go prints the rounded Duration.
  EXPECT_EQ(FormatBarDuration(milliseconds(3'599'600)), "1h0m0s");
}

TEST(ProgressBarTest, RunningBarWithSpeedAndTimeLeft) {
  ProgressBar bar(kMessage, 100'000'000, 0, t0);
  EXPECT_FALSE(bar.stopped());
  EXPECT_EQ(bar.Rate(), 0);
  bar.Set(10'000'000, t0 + seconds(1));
  // One sample: 10 MB in the second since the start. 90 MB left at 10 MB/s: 9 s.
  EXPECT_EQ(bar.Rate(), 10'000'000);
  // Widths: pre 26, suffix 13 + 10 + 8 = 31, so the bar has 80 - 26 - 31 - 5 = 18 cells, of
  // which int(18 * 10%) = 1 is full.
  EXPECT_EQ(bar.Render(80), "pulling 1a2b3c4d5e6f:  10% ▕" + Blocks(1) + Spaces(17) +
                                "▏  10 MB/100 MB   10 MB/s      9s");
}

TEST(ProgressBarTest, SamplesAtMostOneASecondAndAveraged) {
  ProgressBar bar(kMessage, 100'000'000, 0, t0);
  bar.Set(10'000'000, t0 + seconds(1));
  // Half a second later: no new sample, the speed stays 10 MB/s; 70 MB left: 7 s.
  bar.Set(30'000'000, t0 + milliseconds(1500));
  EXPECT_EQ(bar.Rate(), 10'000'000);
  EXPECT_EQ(bar.Render(80), "pulling 1a2b3c4d5e6f:  30% ▕" + Blocks(5) + Spaces(13) +
                                "▏  30 MB/100 MB   10 MB/s      7s");
  // A second sample at 3 s: (40 - 10) MB over 2 s = 15 MB/s; 60 MB left: 4 s.
  bar.Set(40'000'000, t0 + seconds(3));
  EXPECT_EQ(bar.Rate(), 15'000'000);
  EXPECT_EQ(bar.Render(80), "pulling 1a2b3c4d5e6f:  40% ▕" + Blocks(7) + Spaces(11) +
                                "▏  40 MB/100 MB   15 MB/s      4s");
  // At 4.5 s: first to last sample is 3.5 s, rounded to 4 s: 45 MB / 4 s = 11.25 MB/s.
  bar.Set(55'000'000, t0 + milliseconds(4500));
  EXPECT_EQ(bar.Rate(), 11'250'000);
  EXPECT_EQ(bar.Render(80), "pulling 1a2b3c4d5e6f:  55% ▕" + Blocks(9) + Spaces(9) +
                                "▏  55 MB/100 MB   11 MB/s      4s");
}

TEST(ProgressBarTest, ASampleNeedsMoreThanASecond) {
  ProgressBar bar("x", 100'000'000, 0, t0);
  bar.Set(10'000'000, t0 + seconds(1));
  // Exactly a second later is not "more than a second": no second sample, so the speed is
  // still the first sample's 10 MB/s (a sample would make it (30 - 10) MB / 1 s = 20 MB/s).
  bar.Set(30'000'000, t0 + seconds(2));
  EXPECT_EQ(bar.Rate(), 10'000'000);
  bar.Set(40'000'000, t0 + seconds(2) + milliseconds(1));
  EXPECT_EQ(bar.Rate(), 30'000'000) << "(40 - 10) MB over 1.001 s, rounded to 1 s";
}

TEST(ProgressBarTest, SpeedOverTheLastTenSamples) {
  ProgressBar bar("x", 1'000'000'000, 0, t0);
  // Samples of i² MB at 2i s, i = 1..11: the first drops out, so the speed is
  // (121 - 4) MB over (22 - 4) s = 6.5 MB/s (with it, 120 MB / 20 s = 6 MB/s).
  for (int64_t i = 1; i <= 11; ++i) bar.Set(i * i * 1'000'000, t0 + seconds(2 * i));
  EXPECT_EQ(bar.Rate(), 6'500'000);
}

TEST(ProgressBarTest, CompleteBarShowsTheTotalOnly) {
  ProgressBar bar(kMessage, 100'000'000, 0, t0);
  bar.Set(10'000'000, t0 + seconds(1));
  bar.Set(150'000'000, t0 + seconds(10));  // capped at the total
  EXPECT_TRUE(bar.stopped());
  EXPECT_EQ(bar.Rate(), 10'000'000) << "100 MB over the whole 10 s";
  EXPECT_EQ(bar.Render(80),
            "pulling 1a2b3c4d5e6f: 100% ▕" + Blocks(18) + "▏ 100 MB" + Spaces(7 + 10 + 8));
  // A bar that starts complete (a layer already here) is stopped from the start.
  ProgressBar present("pulling 0123456789ab:", 5, 5, t0);
  EXPECT_TRUE(present.stopped());
  EXPECT_EQ(present.Render(80),
            "pulling 0123456789ab: 100% ▕" + Blocks(18) + "▏    5 B" + Spaces(25));
}

TEST(ProgressBarTest, PercentRoundsHalfToEvenLikeGo) {
  ProgressBar bar("m", 8, 0, t0);
  bar.Set(1, t0);  // 12.5 %: Go's %3.0f gives " 12" (lround would say 13)
  // A sample at the start gives no speed (0 s): no rate and no time left, just padding.
  // pre "m  12%" is 6 bytes, suffix 13 + 10 + 8: 80 - 6 - 31 - 5 = 38 cells, int(38 * 12.5%) = 4.
  EXPECT_EQ(bar.Render(80),
            "m  12% ▕" + Blocks(4) + Spaces(34) + "▏    1 B/   8 B" + Spaces(10 + 8));
}

TEST(ProgressBarTest, HoursLeftAndNarrowTerminals) {
  ProgressBar bar(kMessage, 10'000'000'000, 0, t0);
  bar.Set(1'000'000, t0 + seconds(1));
  // 9 999 MB left at 1 MB/s: 9 999 s = 2h46m39s, shown as "2h46m".
  const std::string suffix = "  1 MB/ 10 GB    1 MB/s   2h46m";
  EXPECT_EQ(bar.Render(80), "pulling 1a2b3c4d5e6f:   0% ▕" + Spaces(18) + "▏ " + suffix);
  // No room for the bar: just its ends.
  EXPECT_EQ(bar.Render(40), "pulling 1a2b3c4d5e6f:   0% ▕▏ " + suffix);
}

// A display on a string stream with a hand-set clock and no animation thread.
struct TestDisplay {
  explicit TestDisplay(bool terminal) {
    ProgressOptions options;
    options.terminal = terminal;
    options.animate = false;
    options.clock = [this] { return now; };
    display = std::make_unique<ProgressDisplay>(out, options);
  }
  std::string Take() {
    std::string text = out.str();
    out.str("");
    return text;
  }
  SteadyTime now = t0;
  std::ostringstream out;
  std::unique_ptr<ProgressDisplay> display;
};

const std::string kDigest =
    "sha256:1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b";
constexpr char kFrameStart[] = "\033[?2026h\033[?25l";
constexpr char kFrameEnd[] = "\033[?25h\033[?2026l";

TEST(ProgressDisplayTest, PullRedrawsEveryLineInPlace) {
  TestDisplay t(/*terminal=*/true);
  ProgressStreamView view(ProgressKind::kPull, *t.display);
  view.OnLine({{"status", "pulling manifest"}});
  t.display->Render();
  EXPECT_EQ(t.Take(),
            std::string(kFrameStart) + "\033[1G" + "pulling manifest ⠋ \033[K" + kFrameEnd);

  // The layer's announcement with nothing done yet draws no bar.
  view.OnLine({{"status", "pulling 1a2b3c4d5e6f"},
               {"digest", kDigest},
               {"total", 100'000'000},
               {"completed", 0}});
  view.OnLine({{"status", "pulling 1a2b3c4d5e6f"},
               {"digest", kDigest},
               {"total", 100'000'000},
               {"completed", 10'000'000}});
  t.now = t0 + seconds(2);
  view.OnLine({{"status", "pulling 1a2b3c4d5e6f"},
               {"digest", kDigest},
               {"total", 100'000'000},
               {"completed", 30'000'000}});
  t.display->Render();
  // The spinner stopped (no frame); the bar's samples: 10 MB at 0 s, 30 MB at 2 s: 10 MB/s,
  // 70 MB left: 7 s. The cursor goes back 0 lines (the last frame had one).
  const std::string bar =
      "pulling 1a2b3c4d5e6f:  30% ▕" + Blocks(5) + Spaces(13) + "▏  30 MB/100 MB   10 MB/s      7s";
  EXPECT_EQ(t.Take(), std::string(kFrameStart) + "\033[1G" + "pulling manifest \033[K\n" + bar +
                          "\033[K" + kFrameEnd);

  t.now = t0 + seconds(5);
  view.OnLine({{"status", "pulling 1a2b3c4d5e6f"},
               {"digest", kDigest},
               {"total", 100'000'000},
               {"completed", 100'000'000}});
  view.OnLine({{"status", "verifying sha256 digest"}});
  view.OnLine({{"status", "success"}});
  t.display->Stop();
  const std::string done = "pulling 1a2b3c4d5e6f: 100% ▕" + Blocks(18) + "▏ 100 MB" + Spaces(25);
  // Back up one line (two were drawn), then all four lines, every spinner stopped.
  EXPECT_EQ(t.Take(), std::string(kFrameStart) + "\033[A\033[1G" + "pulling manifest \033[K\n" +
                          done + "\033[K\n" + "verifying sha256 digest \033[K\n" +
                          "success \033[K" + kFrameEnd + "\n");
  t.display->Stop();
  EXPECT_EQ(t.Take(), "") << "once";
}

TEST(ProgressDisplayTest, OnlyTheLastScreenfulIsDrawn) {
  ProgressOptions options;
  options.terminal = true;
  options.animate = false;
  options.height = 2;
  std::ostringstream out;
  ProgressDisplay display(out, options);
  display.AddSpinner("a");
  display.AddSpinner("b");
  display.AddSpinner("c");
  display.Render();
  EXPECT_EQ(out.str(),
            std::string(kFrameStart) + "\033[1G" + "b \033[K\n" + "c ⠋ \033[K" + kFrameEnd);
}

TEST(ProgressDisplayTest, PlainLinesWhenNotATerminal) {
  TestDisplay t(/*terminal=*/false);
  ProgressStreamView view(ProgressKind::kPull, *t.display);
  view.OnLine({{"status", "pulling manifest"}});
  view.OnLine({{"status", "pulling 1a2b3c4d5e6f"},
               {"digest", kDigest},
               {"total", 100'000'000},
               {"completed", 10'000'000}});
  EXPECT_EQ(t.Take(), "pulling manifest\n") << "a bar is printed once complete";
  t.now = t0 + seconds(5);
  view.OnLine({{"status", "pulling 1a2b3c4d5e6f"},
               {"digest", kDigest},
               {"total", 100'000'000},
               {"completed", 100'000'000}});
  view.OnLine({{"status", "pulling 1a2b3c4d5e6f"},
               {"digest", kDigest},
               {"total", 100'000'000},
               {"completed", 100'000'000}});
  view.OnLine({{"status", "success"}});
  t.display->Stop();
  EXPECT_EQ(t.Take(), "pulling 1a2b3c4d5e6f: 100% ▕" + Blocks(18) + "▏ 100 MB\nsuccess\n");
}

TEST(ProgressDisplayTest, PlainLinesShowAnUnfinishedBarAtTheEnd) {
  TestDisplay t(/*terminal=*/false);
  ProgressStreamView view(ProgressKind::kPush, *t.display);
  view.OnLine({{"status", "retrieving manifest"}});
  t.now = t0 + seconds(1);
  view.OnLine({{"status", "pushing 1a2b3c4d5e6f"},
               {"digest", kDigest},
               {"total", 100'000'000},
               {"completed", 10'000'000}});
  t.display->Stop();
  // One sample at creation: no speed yet. The message is a byte shorter than a pull's, so
  // the bar has 19 cells.
  EXPECT_EQ(t.Take(), "retrieving manifest\npushing 1a2b3c4d5e6f  10% ▕" + Blocks(1) + Spaces(18) +
                          "▏  10 MB/100 MB\n");
}

TEST(ProgressDisplayTest, PushAndCreateMessages) {
  TestDisplay t(/*terminal=*/true);
  ProgressStreamView push(ProgressKind::kPush, *t.display);
  // Without a status the message is made from the digest, as Ollama does.
  push.OnLine({{"digest", kDigest}, {"total", 4}, {"completed", 4}});
  push.OnLine({{"digest", "sha256:abc"}, {"total", 4}, {"completed", 4}});
  t.display->Render();
  const std::string frame = t.Take();
  EXPECT_NE(frame.find("pushing 1a2b3c4d5e6f... 100% ▕"), std::string::npos) << frame;
  EXPECT_NE(frame.find("pushing sha256:abc... 100% ▕"), std::string::npos) << frame;

  TestDisplay c(/*terminal=*/true);
  c.display->AddSpinner("gathering model components");
  c.display->StopSpinner();
  ProgressStreamView create(ProgressKind::kCreate, *c.display, "gathering model components");
  create.OnLine({{"status", "gathering model components"}});  // the same status: no new line
  create.OnLine({{"status", "quantizing F16 model to Q8_0"},
                 {"digest", kDigest},
                 {"total", 8},
                 {"completed", 0}});
  c.display->Render();
  EXPECT_EQ(c.Take(), std::string(kFrameStart) + "\033[1G" + "gathering model components \033[K\n" +
                          "quantizing F16 model to Q8_0   0% ▕" + Spaces(11) + "▏    0 B/   8 B" +
                          Spaces(18) + "\033[K" + kFrameEnd);
}

TEST(ProgressDisplayTest, CopyingSpinnerMessageChanges) {
  TestDisplay t(/*terminal=*/false);
  t.display->AddSpinner("copying file sha256:ab 0%");
  t.display->SetSpinnerMessage("copying file sha256:ab 50%");
  t.display->SetSpinnerMessage("copying file sha256:ab 100%");
  t.display->StopSpinner();
  t.display->Stop();
  EXPECT_EQ(t.Take(), "copying file sha256:ab 0%\ncopying file sha256:ab 100%\n");
}

}  // namespace
}  // namespace corral::cli
