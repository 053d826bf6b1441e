// Runs a program to completion for tests: argv, extra environment, stdin text in; exit code,
// stdout and stderr out. Also a handle for a long-running child (a server under test).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace corral::testing {

struct ProcessResult {
  int exit_code = -1;  // the exit status, or 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] (looked up in PATH) with the current environment plus `env`. Kills the child and
// returns DeadlineExceeded after `timeout`.
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                 const std::map<std::string, std::string>& env = {},
                                 const std::string& stdin_text = "",
                                 std::chrono::milliseconds timeout = std::chrono::seconds(120));

// A child left running; stdout and stderr go to files so they never block it.
class ChildProcess {
 public:
  static Result<ChildProcess> Start(const std::vector<std::string>& argv,
                                    const std::map<std::string, std::string>& env = {});
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ~ChildProcess();  // kills (SIGKILL) and reaps the child if it still runs

  pid_t pid() const { return pid_; }
  void Signal(int signal);
  // Waits for the exit and returns its code (128 + signal if killed); DeadlineExceeded on
  // timeout (the child keeps running).
  Result<int> Wait(std::chrono::milliseconds timeout);
  std::string ReadStdout() const;
  std::string ReadStderr() const;

 private:
  ChildProcess(pid_t pid, std::string out_path, std::string err_path)
      : pid_(pid), out_path_(std::move(out_path)), err_path_(std::move(err_path)) {}
  pid_t pid_ = -1;
  std::string out_path_, err_path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreeLoopbackPort();

}  // namespace corral::testing
