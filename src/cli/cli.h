// The `corral` command line: verb dispatch, help, version. Verbs are registered in one table
// (commands.cpp); each verb parses its own flags with CLI11 and runs.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace corral::cli {

// Exit codes: 0 success, 1 the command failed, 2 the command line itself was wrong, 130 Ctrl+C
// (what a shell reports for a process SIGINT killed, as Ollama's is where it has no handler).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInterrupted = 130;

// Runs `corral args...` (args excludes the program name) writing to out/err; returns the exit
// code. main() passes std::cout/std::cerr; tests pass string streams.
int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace corral::cli
