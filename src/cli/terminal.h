// What the client verbs draw on a terminal: a spinner while waiting, status lines and progress
// bars. Escape codes and animation only when the stream is a terminal; otherwise plain lines,
// so pipes and logs stay readable.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

namespace corral::cli {

// Whether `stream` is this process's std::cout / std::cerr and that file is a terminal (tests
// pass string streams, which never are).
bool IsTerminal(const std::ostream& stream);
bool StdinIsTerminal();

// Ollama's progress bar line: "<message> <pct>% ▕<bar>▏ <done>/<total>"; for example
// "quantizing F16 model to Q4_K_M  45% ▕███████████         ▏ 45 MB/100 MB".
std::string FormatProgressBar(const std::string& message, int64_t total, int64_t completed,
                              int bar_width = 25);

// "<message> ⠋ " redrawn every 100 ms on `out` until Stop() (only when `out` is a terminal;
// otherwise it draws nothing).
class Spinner {
 public:
  Spinner(std::ostream& out, std::string message);
  ~Spinner();
  Spinner(const Spinner&) = delete;
  Spinner& operator=(const Spinner&) = delete;

  // Stops drawing; clears the line, or with keep_message leaves "<message>" and a line break.
  void Stop(bool keep_message = false);

 private:
  void Draw(int frame);

  std::ostream& out_;
  std::string message_;
  std::mutex mutex_;
  std::atomic<bool> stop_{false};
  bool stopped_ = false;
  std::thread thread_;
};

// The status stream of `create` (and uploads): each new status on its own line, a spinner on
// the current one, progress bars redrawn in place on a terminal; plain lines otherwise, with a
// bar printed when it starts and when it completes.
class ProgressDisplay {
 public:
  explicit ProgressDisplay(std::ostream& out);
  ~ProgressDisplay();

  void SetStatus(const std::string& status);
  // `key` tells bars apart (a digest); a new key starts a new bar line.
  void SetBar(const std::string& key, const std::string& message, int64_t total, int64_t completed);
  // Ends the current line (spinner or bar) and leaves the display.
  void Finish();

 private:
  void EndCurrentLine();

  std::ostream& out_;
  const bool terminal_;
  std::string status_;
  std::unique_ptr<Spinner> spinner_;
  std::string bar_key_;
  std::string bar_message_;
  bool bar_done_printed_ = false;
};

}  // namespace corral::cli
