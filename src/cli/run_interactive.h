// The interactive `corral run MODEL` session (Ollama's REPL: ">>> " prompts, /set, /show,
// /load, /save, """ multi-line input, chat history over POST /api/chat). Not written yet: this
// is the hook `run` calls when stdin and stdout are terminals and no prompt was given.
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
  bool hide_thinking = false;
  std::optional<nlohmann::json> keep_alive;  // as sent: "5m" or -1
  std::string format;                        // "" or "json"
  bool verbose = false;
  bool word_wrap = true;
};

// Runs the session until the user leaves; returns the exit code.
int RunInteractive(ApiClient& client, const InteractiveOptions& options, CommandIo& io);

}  // namespace corral::cli
