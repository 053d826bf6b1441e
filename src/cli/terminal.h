// What the client verbs draw on a terminal: a spinner while waiting (progress.h has the bars).
// Escape codes and animation only when the stream is a terminal, so pipes and logs stay
// readable.
#pragma once

#include <atomic>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

namespace corral::cli {

// Whether `stream` is this process's std::cout / std::cerr and that file is a terminal (tests
// pass string streams, which never are).
bool IsTerminal(const std::ostream& stream);
bool StdinIsTerminal();

// The size of the terminal behind `stream` (std::cout / std::cerr); Ollama's defaults of 80
// columns and 24 rows when it is not one or cannot say.
struct TerminalSize {
  int width = 80;
  int height = 24;
};
TerminalSize SizeOfTerminal(const std::ostream& stream);

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

}  // namespace corral::cli
