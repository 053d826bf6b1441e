#include "cli/terminal.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <iostream>

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

TerminalSize SizeOfTerminal(const std::ostream& stream) {
  int fd = -1;
  if (&stream == &std::cout) fd = STDOUT_FILENO;
  if (&stream == &std::cerr) fd = STDERR_FILENO;
  TerminalSize size;
  struct winsize ws {};
  if (fd >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0) {
    if (ws.ws_col > 0) size.width = ws.ws_col;
    if (ws.ws_row > 0) size.height = ws.ws_row;
  }
  return size;
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

}  // namespace corral::cli
