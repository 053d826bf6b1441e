#include "server/inference.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "base/log.h"
#include "config/env_config.h"
#include "engine/kv_cache.h"
#include "engine/model.h"
#include "sampling/json_schema.h"
#include "server/json_request.h"

namespace corral::server {
namespace {

// Total memory of the machine (MemTotal), 0 when unknown.
uint64_t MachineMemoryBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  while (meminfo >> key >> kib) {
    if (key == "MemTotal:") return kib * 1024;
    meminfo.ignore(256, '\n');
  }
  return 0;
}

uint64_t FileBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  return f ? static_cast<uint64_t>(f.tellg()) : 0;
}

Result<runner::LoadedModel> LoadRunner(const runner::LoadSpec& spec) {
  ASSIGN_OR_RETURN(std::unique_ptr<engine::Model> loaded,
                   engine::Model::Load(spec.key, {.n_threads = spec.options.n_threads}));
  std::shared_ptr<const engine::Model> model = std::move(loaded);
  runner::RunnerOptions options = spec.options;
  const engine::HParams& hp = model->hparams();
  // Ollama clamps num_ctx to the trained context, and runs embedding models one at a time.
  if (hp.n_ctx_train > 0) options.n_ctx = std::min(options.n_ctx, hp.n_ctx_train);
  options.n_ctx = std::max<int64_t>(options.n_ctx, 4);
  if (model->is_embedding_model()) {
    options.n_parallel = 1;
    options.n_batch = std::max<int64_t>(options.n_batch, std::min<int64_t>(options.n_ctx, 2048));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<runner::Runner> r, runner::Runner::Create(model, options));
  runner::LoadedModel out;
  out.size_bytes = model->tensor_bytes() + model->packed_bytes() + r->kv_cache_bytes();
  out.runner = std::move(r);
  return out;
}

}  // namespace

InferenceOptions InferenceOptions::FromEnv() {
  InferenceOptions o;
  o.num_parallel = config::NumParallel();
  const int64_t ctx = config::ContextLength();
  if (ctx > 0) o.default_num_ctx = ctx;
  o.kv_cache_type = config::KvCacheType();
  o.scheduler.max_loaded = config::MaxLoadedModels();
  o.scheduler.max_queue = config::MaxQueue();
  const int64_t keep_alive = config::KeepAliveNanos();
  o.scheduler.default_keep_alive =
      keep_alive == INT64_MAX ? runner::kForever : std::chrono::nanoseconds(keep_alive);
  // Leave a tenth of the machine to everything else.
  o.scheduler.memory_budget = MachineMemoryBytes() / 10 * 9;
  return o;
}

Inference::Inference(InferenceOptions options) : options_(std::move(options)) {
  scheduler_ = std::make_unique<runner::Scheduler>(options_.scheduler, LoadRunner);
}

modelfile::ModelOptions Inference::DefaultOptions() const {
  modelfile::ModelOptions o = modelfile::DefaultModelOptions();
  o.num_ctx = options_.default_num_ctx;
  return o;
}

Result<runner::Lease> Inference::Acquire(const LocalModel& model,
                                         const modelfile::ModelOptions& options,
                                         std::optional<std::chrono::nanoseconds> keep_alive) {
  if (model.model_path.empty()) {
    return InvalidArgumentError("model '" + model.entry.name.DisplayShortest() +
                                "' has no weights to run");
  }
  runner::LoadSpec spec;
  spec.key = model.model_path;
  spec.name = model.entry.name.DisplayShortest();
  spec.digest = model.entry.digest.hex();
  spec.options.n_ctx = options.num_ctx > 0 ? options.num_ctx : options_.default_num_ctx;
  spec.options.n_parallel = options_.num_parallel;
  spec.options.n_batch = std::max<int64_t>(1, options.num_batch);
  spec.options.n_threads =
      options.num_thread > 0 ? static_cast<int>(options.num_thread) : options_.n_threads;
  if (!options_.kv_cache_type.empty()) {
    ASSIGN_OR_RETURN(spec.options.kv_type, engine::KvCacheTypeFromName(options_.kv_cache_type));
  }
  // The file's bytes (mapped, and repacked) plus a rough KV cache: enough to decide eviction.
  spec.estimated_bytes = FileBytes(model.model_path);
  return scheduler_->Acquire(spec, keep_alive);
}

void Inference::Unload(const LocalModel& model) { scheduler_->Expire(model.model_path); }

Result<std::optional<std::chrono::nanoseconds>> ParseKeepAlive(const nlohmann::json* value) {
  using Out = std::optional<std::chrono::nanoseconds>;
  if (value == nullptr || value->is_null()) return Out();
  auto from_nanos = [](long double ns) -> Out {
    if (ns < 0) return runner::kForever;
    if (ns >= 9.2e18L) return runner::kForever;
    return std::chrono::nanoseconds(static_cast<int64_t>(ns));
  };
  if (value->is_number()) {
    return from_nanos(static_cast<long double>(value->get<double>()) * 1e9L);
  }
  if (value->is_string()) {
    const std::string text = value->get<std::string>();
    std::optional<int64_t> ns = config::ParseGoDuration(text);
    if (!ns) {
      bool bare_number = !text.empty();
      for (char c : text)
        bare_number = bare_number && ((c >= '0' && c <= '9') || c == '-' || c == '.');
      return InvalidArgumentError(
          std::string("time: ") +
          (bare_number ? "missing unit in duration " : "invalid duration ") + GoQuote(text));
    }
    return from_nanos(static_cast<long double>(*ns));
  }
  const char* type = value->is_boolean() ? "bool"
                     : value->is_array() ? "[]interface {}"
                                         : "map[string]interface {}";
  return InvalidArgumentError(std::string("Unsupported type: '") + type + "'");
}

Result<std::shared_ptr<const sampling::Grammar>> ParseOutputConstraint(
    const nlohmann::ordered_json* format, const nlohmann::json* grammar) {
  const bool has_format = format != nullptr && !format->is_null() &&
                          !(format->is_string() && format->get<std::string>().empty());
  const bool has_grammar = grammar != nullptr && !grammar->is_null() &&
                           !(grammar->is_string() && grammar->get<std::string>().empty());
  if (has_format && has_grammar) {
    return InvalidArgumentError("format and grammar cannot be used together");
  }
  if (has_grammar) {
    if (!grammar->is_string()) return InvalidArgumentError("grammar must be a GBNF string");
    Result<std::shared_ptr<const sampling::Grammar>> g =
        sampling::Grammar::Parse(grammar->get<std::string>());
    if (!g.ok()) return InvalidArgumentError("invalid grammar: " + g.status().message());
    return std::move(g).value();
  }
  if (!has_format) return std::shared_ptr<const sampling::Grammar>();
  std::string gbnf;
  if (format->is_string()) {
    if (format->get<std::string>() != "json") {
      return InvalidArgumentError("invalid format: " + GoQuote(format->dump()) +
                                  "; expected \"json\" or a valid JSON Schema object");
    }
    gbnf = sampling::JsonObjectGbnf();
  } else if (format->is_object()) {
    Result<std::string> converted = sampling::JsonSchemaToGbnf(*format);
    if (!converted.ok()) return InvalidArgumentError(converted.status().message());
    gbnf = std::move(converted).value();
  } else {
    return InvalidArgumentError("invalid format: " + GoQuote(format->dump()) +
                                "; expected \"json\" or a valid JSON Schema object");
  }
  Result<std::shared_ptr<const sampling::Grammar>> g = sampling::Grammar::Parse(gbnf);
  if (!g.ok())
    return InternalError("the JSON schema's grammar did not parse: " + g.status().message());
  return std::move(g).value();
}

Result<PromptSetup> PromptSetupFor(const LocalModel& model, const gguf::GgufFile* gguf,
                                   const std::string& family) {
  PromptSetup setup;
  if (model.template_text) {
    Result<prompt::PromptTemplate> t = prompt::PromptTemplate::Parse(*model.template_text);
    if (!t.ok()) return InternalError("template error: " + t.status().message());
    setup.format.go_template = std::move(*t);
    setup.template_text = *model.template_text;
  } else if (gguf != nullptr) {
    if (const gguf::Value* ct = gguf->Find("tokenizer.chat_template")) {
      setup.format.chat_template = std::string(ct->AsString().value_or(""));
    }
  }
  if (!setup.format.go_template && setup.format.chat_template.empty()) {
    setup.format.go_template = prompt::PromptTemplate::Default();
  }
  setup.defaults.system = model.system;
  if (!model.messages.empty()) {
    ASSIGN_OR_RETURN(setup.defaults.messages,
                     prompt::ParseMessages(nlohmann::json::parse(model.messages.dump())));
  }
  setup.defaults.strip_earlier_thinking = StripsEarlierThinking(model, family);
  setup.output_format = !setup.template_text.empty()
                            ? prompt::OutputFormatForGoTemplate(setup.template_text)
                            : prompt::OutputFormatForJinja(setup.format.chat_template);
  return setup;
}

bool StripsEarlierThinking(const LocalModel& model, const std::string& family) {
  return family == "qwen3" || model.entry.name.model.find("deepseek-r1") != std::string::npos;
}

std::string FormatUtcTime(std::chrono::system_clock::time_point t) {
  const auto since = t.time_since_epoch();
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
  int64_t nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since - secs).count();
  std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (nanos > 0) {
    char frac[32];
    std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(nanos));
    std::string f = frac;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + "Z";
}

}  // namespace corral::server
