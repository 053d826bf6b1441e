// Progress output of pull, push and create as Ollama draws it (its progress package): a
// list of lines on stderr, spinners ("pulling manifest ⠋ ") and bars
// ("pulling 1a2b3c4d5e6f:  45% ▕███        ▏  45 MB/100 MB   10 MB/s      5s"), the whole list
// redrawn in place every 100 ms on a terminal. Elsewhere (a pipe, a log file) each line is
// printed once as plain text instead, so logs stay readable.
//
// Time is a parameter (the bars' speed and time left come from it) and the animation thread is
// optional, so the tests pin every frame.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace corral::cli {

using SteadyTime = std::chrono::steady_clock::time_point;

// bar.go's formatDuration of the time left: "99h+" from 100 hours, "1h5m" from an hour, else
// Go's Duration.String() rounded to the second ("1m2s", "45s", "0s").
std::string FormatBarDuration(std::chrono::nanoseconds d);

// Ollama's progress.Bar. The speed is averaged over up to 10 samples taken at least a second
// apart (the first sample against the start); once complete it is the whole transfer's. The
// time left is what remains at that speed.
class ProgressBar {
 public:
  ProgressBar(std::string message, int64_t max_value, int64_t initial_value, SteadyTime now);

  // The new value (capped at the maximum; reaching it stops the bar's clock).
  void Set(int64_t value, SteadyTime now);

  // The line for a terminal `term_width` columns wide:
  // "<message> <pct>% ▕<bar>▏ <done>/<total>  <rate>/s  <left>", or once complete
  // "<message> 100% ▕<bar>▏ <total>" padded with spaces to the same width.
  std::string Render(int term_width) const;

  // Bytes per second as bar.go's rate(): 0 until it can tell.
  double Rate() const;
  bool stopped() const { return stopped_.has_value(); }

 private:
  struct Bucket {
    SteadyTime updated;
    int64_t value;
  };
  static constexpr size_t kMaxBuckets = 10;

  double Percent() const;

  std::string message_;
  int64_t max_value_;
  int64_t initial_value_;
  int64_t current_value_;
  SteadyTime started_;
  std::optional<SteadyTime> stopped_;
  std::deque<Bucket> buckets_;
};

struct ProgressOptions {
  bool terminal = false;  // redraw in place with escape codes; else plain lines
  int width = 80;         // the terminal's columns (Ollama measures stderr; 80 when unknown)
  int height = 24;        // its rows: only the last `height` lines are drawn
  std::function<SteadyTime()> clock = [] { return std::chrono::steady_clock::now(); };
  bool animate = true;  // a thread redraws every 100 ms (terminal only); tests call Render()
};

// Ollama's progress.Progress with its Spinner and Bar states.
class ProgressDisplay {
 public:
  // Terminal or not, and its size, from the stream (std::cerr is stderr).
  explicit ProgressDisplay(std::ostream& out);
  ProgressDisplay(std::ostream& out, ProgressOptions options);
  ~ProgressDisplay();
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  // A new spinner line; the current spinner (if any) stops and keeps its text.
  void AddSpinner(const std::string& message);
  // The current spinner's new text (create's "copying file <digest> 45%").
  void SetSpinnerMessage(const std::string& message);
  void StopSpinner();

  // The bar keyed `key` (a digest): made from `message`, `total` and `completed` the first
  // time, then set to `completed`.
  void UpdateBar(const std::string& key, const std::string& message, int64_t total,
                 int64_t completed);

  // Draws one frame now (the animation thread does this every 100 ms).
  void Render();
  // Ollama's Progress.Stop: spinners stop, a last frame, then a line break. Once.
  void Stop();

 private:
  struct Line {
    // A spinner when `bar` is null.
    std::string message;
    std::string printed;  // plain mode: the spinner text already written
    bool spinner_stopped = false;
    int frame = 0;
    std::unique_ptr<ProgressBar> bar;
    bool bar_printed = false;  // plain mode: the completed bar was written
  };

  std::string LineText(const Line& line) const;
  void RenderLocked();
  void StopSpinnerLocked();
  void PrintPlainLocked(Line& line, bool final);

  std::ostream& out_;
  ProgressOptions options_;
  std::mutex mutex_;
  std::vector<Line> lines_;
  std::map<std::string, size_t> bars_;  // key -> index in lines_
  std::optional<size_t> spinner_;       // the current spinner's index
  int pos_ = 0;                         // lines drawn by the last frame
  bool stopped_ = false;
  std::condition_variable wake_;
  std::thread thread_;
};

// How Ollama's pull, push and create handlers turn one progress line of /api/pull, /api/push
// or /api/create into spinners and bars.
enum class ProgressKind { kPull, kPush, kCreate };

class ProgressStreamView {
 public:
  // `status`: the spinner already shown (create starts with "gathering model components").
  ProgressStreamView(ProgressKind kind, ProgressDisplay& display, std::string status = "")
      : kind_(kind), display_(display), status_(std::move(status)) {}

  void OnLine(const nlohmann::json& line);

 private:
  ProgressKind kind_;
  ProgressDisplay& display_;
  std::string status_;
};

}  // namespace corral::cli
