#include "cli/progress.h"

#include <algorithm>
#include <iomanip>
#include <sstream>
#include <utility>

#include "base/strings.h"
#include "cli/format.h"
#include "cli/terminal.h"

namespace corral::cli {
namespace {

using nlohmann::json;
using std::chrono::nanoseconds;

constexpr const char* kFrames[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
constexpr int kFrameCount = sizeof(kFrames) / sizeof(kFrames[0]);
constexpr nanoseconds kSecond = std::chrono::seconds(1);

// strings.Repeat that, like bar.go's repeat, gives "" for counts below one.
std::string Repeat(std::string_view s, int64_t n) {
  std::string out;
  for (int64_t i = 0; i < n; ++i) out += s;
  return out;
}

// Right-aligned in six columns, as bar.go pads sizes, speeds and times.
std::string Pad6(const std::string& s) {
  return Repeat(" ", 6 - static_cast<int64_t>(s.size())) + s;
}

// Go's Duration.Round(time.Second) of a duration >= 0 (halves round up).
nanoseconds RoundToSecond(nanoseconds d) {
  const nanoseconds r = d % kSecond;
  return r + r < kSecond ? d - r : d + (kSecond - r);
}

double Seconds(nanoseconds d) { return static_cast<double>(d.count()) / 1e9; }

std::string JsonText(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t JsonNumber(const json& object, const char* key) {
  if (!object.is_object()) return 0;
  auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<int64_t>() : 0;
}

// Go's digest[7:19] of "sha256:<hex>" (Ollama's push and create bars); a short digest whole,
// where Go would panic.
std::string DigestShort(const std::string& digest) {
  return digest.size() >= 19 ? digest.substr(7, 12) : digest;
}

}  // namespace

std::string FormatBarDuration(nanoseconds d) {
  if (d >= std::chrono::hours(100)) return "99h+";
  if (d >= std::chrono::hours(1)) {
    const int64_t minutes = std::chrono::duration_cast<std::chrono::minutes>(d).count();
    return std::to_string(minutes / 60) + "h" + std::to_string(minutes % 60) + "m";
  }
  return GoDurationString(RoundToSecond(d).count());
}

ProgressBar::ProgressBar(std::string message, int64_t max_value, int64_t initial_value,
                         SteadyTime now)
    : message_(std::move(message)),
      max_value_(max_value),
      initial_value_(initial_value),
      current_value_(initial_value),
      started_(now) {
  if (initial_value >= max_value) stopped_ = now;
}

void ProgressBar::Set(int64_t value, SteadyTime now) {
  if (value >= max_value_) value = max_value_;
  current_value_ = value;
  if (current_value_ >= max_value_) stopped_ = now;
  // One sample a second at most, the last ten kept.
  if (buckets_.empty() || now - buckets_.back().updated > kSecond) {
    buckets_.push_back({now, value});
    if (buckets_.size() > kMaxBuckets) buckets_.pop_front();
  }
}

double ProgressBar::Percent() const {
  if (max_value_ <= 0) return 0;
  return static_cast<double>(current_value_) / static_cast<double>(max_value_) * 100;
}

double ProgressBar::Rate() const {
  double numerator = 0, denominator = 0;
  if (stopped_) {
    numerator = static_cast<double>(current_value_ - initial_value_);
    denominator = Seconds(RoundToSecond(*stopped_ - started_));
  } else if (buckets_.size() == 1) {
    numerator = static_cast<double>(buckets_.front().value - initial_value_);
    denominator = Seconds(RoundToSecond(buckets_.front().updated - started_));
  } else if (buckets_.size() > 1) {
    numerator = static_cast<double>(buckets_.back().value - buckets_.front().value);
    denominator = Seconds(RoundToSecond(buckets_.back().updated - buckets_.front().updated));
  }
  return denominator != 0 ? numerator / denominator : 0;
}

std::string ProgressBar::Render(int term_width) const {
  // Byte lengths, as Go's len() and strings.Builder.Len() count them.
  std::string pre;
  if (!message_.empty()) pre = std::string(TrimSpace(message_)) + " ";
  // Go's %3.0f: rounded half to even, as printf (behind ostream's fixed) rounds.
  std::ostringstream percent;
  percent << std::fixed << std::setprecision(0) << std::setw(3) << Percent() << "%";
  pre += percent.str();

  std::string suf;
  const double rate = Rate();
  const bool running = !stopped_;
  if (running) {
    suf += Pad6(HumanBytes(current_value_)) + "/" + Pad6(HumanBytes(max_value_));
  } else {
    suf += Pad6(HumanBytes(max_value_)) + std::string(7, ' ');
  }
  if (running && rate > 0) {
    suf += "  " + Pad6(HumanBytes(static_cast<int64_t>(rate))) + "/s";
  } else {
    suf += std::string(10, ' ');
  }
  if (running && rate > 0) {
    const double left = static_cast<double>(max_value_ - current_value_) / rate;
    // Whole seconds, as Go's time.Duration(int64(left)) * time.Second; beyond 100 hours the
    // text is "99h+" whatever the value, and the cap keeps the conversion in range.
    const nanoseconds remaining = left >= 100.0 * 3600
                                      ? std::chrono::hours(100)
                                      : std::chrono::seconds(static_cast<int64_t>(left));
    suf += "  " + Pad6(FormatBarDuration(remaining));
  } else {
    suf += std::string(8, ' ');
  }

  // Two boundary characters and a space at each end.
  const int64_t f = static_cast<int64_t>(term_width) - static_cast<int64_t>(pre.size()) -
                    static_cast<int64_t>(suf.size()) - 5;
  const auto n = static_cast<int64_t>(static_cast<double>(f) * Percent() / 100);
  return pre + " ▕" + Repeat("█", n) + Repeat(" ", f - n) + "▏ " + suf;
}

ProgressDisplay::ProgressDisplay(std::ostream& out)
    : ProgressDisplay(out, [&out] {
        ProgressOptions options;
        options.terminal = IsTerminal(out);
        if (options.terminal) {
          const TerminalSize size = SizeOfTerminal(out);
          options.width = size.width;
          options.height = size.height;
        }
        return options;
      }()) {}

ProgressDisplay::ProgressDisplay(std::ostream& out, ProgressOptions options)
    : out_(out), options_(std::move(options)) {
  if (options_.terminal && options_.animate) {
    thread_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(mutex_);
      while (!stopped_) {
        if (wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopped_; })) {
          break;
        }
        for (Line& line : lines_) {
          if (!line.bar && !line.spinner_stopped) line.frame = (line.frame + 1) % kFrameCount;
        }
        RenderLocked();
      }
    });
  }
}

ProgressDisplay::~ProgressDisplay() { Stop(); }

std::string ProgressDisplay::LineText(const Line& line) const {
  if (line.bar) return line.bar->Render(options_.width);
  std::string text;
  if (!line.message.empty()) text = std::string(TrimSpace(line.message)) + " ";
  if (!line.spinner_stopped) text += std::string(kFrames[line.frame]) + " ";
  return text;
}

void ProgressDisplay::RenderLocked() {
  // Synchronized output and a hidden cursor while the lines are rewritten (less flicker), then
  // back to the first line of the last frame and every line again.
  std::string frame = "\033[?2026h\033[?25l";
  for (int i = 0; i < pos_ - 1; ++i) frame += "\033[A";
  frame += "\033[1G";
  const size_t count = lines_.size();
  const size_t shown = std::min(count, static_cast<size_t>(std::max(options_.height, 1)));
  for (size_t i = count - shown; i < count; ++i) {
    frame += LineText(lines_[i]) + "\033[K";
    if (i + 1 < count) frame += "\n";
  }
  pos_ = static_cast<int>(count);
  frame += "\033[?25h\033[?2026l";
  out_ << frame << std::flush;
}

void ProgressDisplay::PrintPlainLocked(Line& line, bool final) {
  if (line.bar) {
    if (line.bar_printed || (!final && !line.bar->stopped())) return;
    line.bar_printed = true;
    std::string text = line.bar->Render(options_.width);
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out_ << text << "\n" << std::flush;
  } else if (line.message != line.printed) {
    line.printed = line.message;
    out_ << line.message << "\n" << std::flush;
  }
}

void ProgressDisplay::StopSpinnerLocked() {
  if (!spinner_) return;
  Line& line = lines_[*spinner_];
  line.spinner_stopped = true;
  if (!options_.terminal) PrintPlainLocked(line, true);
  spinner_.reset();
}

void ProgressDisplay::AddSpinner(const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_) return;
  StopSpinnerLocked();
  lines_.push_back(Line{.message = message});
  spinner_ = lines_.size() - 1;
  if (!options_.terminal) PrintPlainLocked(lines_.back(), false);
}

void ProgressDisplay::SetSpinnerMessage(const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (spinner_) lines_[*spinner_].message = message;
}

void ProgressDisplay::StopSpinner() {
  std::lock_guard<std::mutex> lock(mutex_);
  StopSpinnerLocked();
}

void ProgressDisplay::UpdateBar(const std::string& key, const std::string& message, int64_t total,
                                int64_t completed) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_) return;
  const SteadyTime now = options_.clock();
  auto it = bars_.find(key);
  if (it == bars_.end()) {
    lines_.push_back(Line{.bar = std::make_unique<ProgressBar>(message, total, completed, now)});
    it = bars_.emplace(key, lines_.size() - 1).first;
  }
  Line& line = lines_[it->second];
  line.bar->Set(completed, now);
  if (!options_.terminal) PrintPlainLocked(line, false);
}

void ProgressDisplay::Render() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (options_.terminal && !stopped_) RenderLocked();
}

void ProgressDisplay::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  StopSpinnerLocked();
  for (Line& line : lines_) line.spinner_stopped = true;
  if (options_.terminal) {
    RenderLocked();
    out_ << "\n" << std::flush;
  } else {
    // Bars that never completed (an error cut the transfer short) show how far they got.
    for (Line& line : lines_) PrintPlainLocked(line, true);
  }
}

void ProgressStreamView::OnLine(const json& line) {
  const std::string status = JsonText(line, "status");
  const std::string digest = JsonText(line, "digest");
  const int64_t total = JsonNumber(line, "total");
  const int64_t completed = JsonNumber(line, "completed");
  if (!digest.empty()) {
    std::string message;
    switch (kind_) {
      case ProgressKind::kPull: {
        // The server announces each layer with completed 0 before its download; Ollama skips
        // that line rather than draw a 0% bar for every layer up front.
        if (completed == 0) return;
        display_.StopSpinner();
        std::string name = digest;
        const bool is_digest = StartsWith(name, "sha256:");
        if (is_digest) name.erase(0, 7);
        name = std::string(TrimSpace(name));
        if (is_digest) name = name.substr(0, 12);
        message = "pulling " + name + ":";
        break;
      }
      case ProgressKind::kPush:
        display_.StopSpinner();
        message = status.empty() ? "pushing " + DigestShort(digest) + "..." : status;
        break;
      case ProgressKind::kCreate:
        message = status.empty() ? "pulling " + DigestShort(digest) + "..." : status;
        break;
    }
    display_.UpdateBar(digest, message, total, completed);
  } else if (status != status_) {
    status_ = status;
    display_.AddSpinner(status);  // stops the one before
  }
}

}  // namespace corral::cli
