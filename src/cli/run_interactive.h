// The interactive `corral run MODEL` session (Ollama's REPL: ">>> " prompts, /set, /show,
// /load, /save, """ multi-line input, chat history over POST /api/chat): `run` calls it when
// stdin and stdout are terminals and no prompt was given. It loads the model, prints the model's
// MESSAGE history, then reads lines with libedit (repl_line_editor.h) and hands them to
// ReplSession (repl_session.h), whose backend here is the server and the terminal.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/api_client.h"
#include "cli/commands.h"

namespace corral::cli {

// What `run` has worked out before the session starts.
struct InteractiveOptions {
  std::string model;
  nlohmann::json show;                  // the model's /api/show reply (capabilities, messages)
  std::optional<nlohmann::json> think;  // true/false/"low"/"medium"/"high", unset: server default
  bool think_explicit = false;          // --think given (else inferred): /load keeps it
  bool hide_thinking = false;
  std::optional<nlohmann::json> keep_alive;  // as sent: "5m" or -1
  std::string format;                        // "" or "json"
  bool verbose = false;
  bool word_wrap = true;
};

// Runs the session until the user leaves; returns the exit code.
int RunInteractive(ApiClient& client, const InteractiveOptions& options, CommandIo& io);

}  // namespace corral::cli
