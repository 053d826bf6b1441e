#include "cli/terminal.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>

#include "cli/format.h"

namespace corral::cli {
namespace {

constexpr const char* kFrames[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
constexpr int kFrameCount = sizeof(kFrames) / sizeof(kFrames[0]);
constexpr const char kClearLine[] = "\r\033[K";

}  // namespace

bool IsTerminal(const std::ostream& stream) {
  if (&stream == &std::cout) return isatty(STDOUT_FILENO) == 1;
  if (&stream == &std::cerr) return isatty(STDERR_FILENO) == 1;
  return false;
}

bool StdinIsTerminal() { return isatty(STDIN_FILENO) == 1; }

std::string FormatProgressBar(const std::string& message, int64_t total, int64_t completed,
                              int bar_width) {
  const double fraction =
      total > 0 ? std::clamp(static_cast<double>(completed) / static_cast<double>(total), 0.0, 1.0)
                : 0.0;
  const int percent = static_cast<int>(std::lround(fraction * 100));
  std::string pct = std::to_string(percent);
  pct.insert(0, 3 - std::min<size_t>(3, pct.size()), ' ');  // Go's %3.0f
  const int filled = static_cast<int>(fraction * bar_width);
  std::string bar;
  for (int i = 0; i < bar_width; ++i) bar += i < filled ? "█" : " ";
  return message + " " + pct + "% ▕" + bar + "▏ " + HumanBytes(completed) + "/" + HumanBytes(total);
}

Spinner::Spinner(std::ostream& out, std::string message) : out_(out), message_(std::move(message)) {
  if (!IsTerminal(out_)) {
    stopped_ = true;
    return;
  }
  thread_ = std::thread([this] {
    for (int frame = 0; !stop_.load(); frame = (frame + 1) % kFrameCount) {
      Draw(frame);
      for (int i = 0; i < 10 && !stop_.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  });
}

Spinner::~Spinner() { Stop(); }

void Spinner::Draw(int frame) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_) return;
  out_ << kClearLine << message_ << (message_.empty() ? "" : " ") << kFrames[frame] << " "
       << std::flush;
}

void Spinner::Stop(bool keep_message) {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_) return;
  stopped_ = true;
  out_ << kClearLine;
  if (keep_message && !message_.empty()) out_ << message_ << " \n";
  out_ << std::flush;
}

ProgressDisplay::ProgressDisplay(std::ostream& out) : out_(out), terminal_(IsTerminal(out)) {}

ProgressDisplay::~ProgressDisplay() { Finish(); }

void ProgressDisplay::EndCurrentLine() {
  if (spinner_) {
    spinner_->Stop(/*keep_message=*/true);
    spinner_.reset();
  }
  if (!bar_key_.empty() && terminal_) out_ << "\n" << std::flush;
  bar_key_.clear();
}

void ProgressDisplay::SetStatus(const std::string& status) {
  if (status == status_ && bar_key_.empty()) return;
  EndCurrentLine();
  status_ = status;
  if (terminal_) {
    spinner_ = std::make_unique<Spinner>(out_, status);
  } else {
    out_ << status << "\n" << std::flush;
  }
}

void ProgressDisplay::SetBar(const std::string& key, const std::string& message, int64_t total,
                             int64_t completed) {
  if (key != bar_key_) {
    EndCurrentLine();
    status_.clear();
    bar_key_ = key;
    bar_message_ = message;
    bar_done_printed_ = false;
    if (!terminal_) out_ << message << "\n" << std::flush;
  }
  if (terminal_) {
    out_ << kClearLine << FormatProgressBar(bar_message_, total, completed) << std::flush;
  } else if (total > 0 && completed >= total && !bar_done_printed_) {
    bar_done_printed_ = true;
    out_ << FormatProgressBar(bar_message_, total, completed) << "\n" << std::flush;
  }
}

void ProgressDisplay::Finish() {
  EndCurrentLine();
  status_.clear();
}

}  // namespace corral::cli
