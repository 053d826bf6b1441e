// The server's side of running models: the scheduler with the loader that turns a stored model
// into a Runner, Ollama's request decoding rules shared by generate, chat and embed
// (keep_alive, format, options), and the prompt format of a stored model.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "modelfile/options.h"
#include "prompt/output_parser.h"
#include "prompt/prompt.h"
#include "runner/scheduler.h"
#include "sampling/grammar.h"
#include "server/model_facts.h"

namespace corral::server {

struct InferenceOptions {
  runner::SchedulerOptions scheduler;
  int num_parallel = 1;            // OLLAMA_NUM_PARALLEL
  int64_t default_num_ctx = 4096;  // OLLAMA_CONTEXT_LENGTH, else Ollama's CPU tier
  std::string kv_cache_type;       // OLLAMA_KV_CACHE_TYPE ("" = f16)
  int n_threads = 0;               // 0: one per core

  // Everything from the OLLAMA_* variables; the memory budget is the machine's memory.
  static InferenceOptions FromEnv();
};

class Inference {
 public:
  explicit Inference(InferenceOptions options);

  // api.DefaultOptions with the server's num_ctx default.
  modelfile::ModelOptions DefaultOptions() const;

  // Loads (or reuses) the model's runner with the load-time options of `options`.
  Result<runner::Lease> Acquire(const LocalModel& model, const modelfile::ModelOptions& options,
                                std::optional<std::chrono::nanoseconds> keep_alive);
  // Unloads the model when idle (keep_alive 0 on an empty request).
  void Unload(const LocalModel& model);

  runner::Scheduler& scheduler() { return *scheduler_; }

 private:
  InferenceOptions options_;
  std::unique_ptr<runner::Scheduler> scheduler_;
};

// Ollama's api.Duration for keep_alive: a number of seconds (fractional allowed) or a Go
// duration string; negative values mean forever (runner::kForever). nullopt when absent or
// null. InvalidArgument with Go's message otherwise ("time: missing unit in duration \"3600\"",
// "Unsupported type: 'bool'").
Result<std::optional<std::chrono::nanoseconds>> ParseKeepAlive(const nlohmann::json* value);

// The request's `format` (absent, null, "", "json" or a JSON schema object) and our `grammar`
// extension (GBNF text) as one grammar; null when the output is unconstrained. InvalidArgument
// naming the problem: an unsupported schema keyword, another format string, both given.
// `format` keeps the request's key order: a schema's property order is the output's.
Result<std::shared_ptr<const sampling::Grammar>> ParseOutputConstraint(
    const nlohmann::ordered_json* format, const nlohmann::json* grammar);

// How a stored model's prompts are rendered: its TEMPLATE layer, else the GGUF's Jinja chat
// template, else "{{ .Prompt }}"; and the MESSAGE/SYSTEM defaults.
// The same for every request to one manifest (under one name), so the server keeps it parsed.
struct PromptSetup {
  prompt::ChatFormat format;
  prompt::ModelDefaults defaults;
  std::string template_text;  // the Go template's text ("" when Jinja or none)
  // The template's thinking and tool-call tags (starts_in_thinking is set per prompt).
  prompt::OutputFormat output_format;
};
Result<PromptSetup> PromptSetupFor(const LocalModel& model, const gguf::GgufFile* gguf,
                                   const std::string& family);
// Whether earlier turns' thinking is dropped from the prompt (qwen3, deepseek-r1), as Ollama
// decides it: by family and by model name.
bool StripsEarlierThinking(const LocalModel& model, const std::string& family);

// Go's time.Time JSON for a UTC instant: "2024-09-12T03:54:03.516566Z".
std::string FormatUtcTime(std::chrono::system_clock::time_point t);

}  // namespace corral::server
