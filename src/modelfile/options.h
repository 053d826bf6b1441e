// Ollama's model options (ollama-api.md §2): the `options` map of generate/chat/embed requests,
// the params layer a Modelfile's PARAMETER lines become, and the typed struct the runner uses.
//
//   ModelOptions defaults = DefaultModelOptions();
//   defaults.num_ctx = env_or_vram_default;
//   ASSIGN_OR_RETURN(ModelOptions opts, MergeOptions(defaults, params_layer, request.options));
//
// Two decoders with Ollama's two sets of rules:
//   - ApplyOptions (api.Options.FromMap): JSON values. Numbers are accepted for ints (truncated
//     toward zero) and floats; other JSON types are errors; unknown and removed keys are logged and
//     ignored; null values are skipped.
//   - ParseParameter (api.FormatParams): a Modelfile PARAMETER's text, parsed with Go's strconv
//     rules into the JSON value `ollama create` sends; unknown names are errors.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "sampling/sampler.h"

namespace corral::modelfile {

// Every option of api.Options with Ollama's defaults (api.DefaultOptions).
struct ModelOptions {
  // temperature, top_k, top_p, min_p, typical_p, repeat_last_n, repeat_penalty,
  // presence_penalty, frequency_penalty, seed; mirostat* too (see ApplyOptions).
  sampling::SamplingOptions sampling;

  int64_t num_predict = -1;  // -1: until a stop or the context is full
  int64_t num_keep = 4;      // tokens kept at the start on a context shift
  std::vector<std::string> stop;

  // Load-time options: changing one relative to a loaded runner forces a reload.
  int64_t num_ctx = 0;  // 0: not set; the caller applies OLLAMA_CONTEXT_LENGTH / VRAM tiers
  int64_t num_batch = 512;
  int64_t num_gpu = -1;  // -1: decide automatically
  int64_t main_gpu = 0;
  std::optional<bool> use_mmap;  // unset: decide automatically
  int64_t num_thread = 0;        // 0: decide automatically
  int64_t draft_num_predict = 4;

  // Names of the options some layer set explicitly (defaults excluded), so callers can tell
  // "num_batch not set, may be tuned" or "draft_num_predict not set, force 0 without a draft".
  std::set<std::string> explicitly_set;

  bool IsSet(std::string_view name) const { return explicitly_set.count(std::string(name)) > 0; }
};

ModelOptions DefaultModelOptions();

// The JSON type an option takes.
enum class OptionType { kInt, kFloat, kBool, kStringList };

// The type of a current option, or nullopt when `name` is not one (unknown or removed).
std::optional<OptionType> CurrentOptionType(std::string_view name);

// Options Ollama removed but older clients and old params layers still send: penalize_newline,
// low_vram, f16_kv, logits_all, vocab_only, use_mlock, mirostat, mirostat_tau, mirostat_eta.
// The Modelfile CLI warns "parameter X is deprecated" and drops them.
bool IsDeprecatedParameter(std::string_view name);

// Applies one JSON options map over `options` (Ollama's Options.FromMap), in key order.
//   - null map: nothing to do; a non-object map: InvalidArgument.
//   - null value: skipped.
//   - int options take any JSON number; 1.9 -> 1, -1.9 -> -1 (Go's int64(float64)); out-of-range
//     values saturate (Go's conversion is undefined there).
//   - float options take any JSON number, rounded to float32.
//   - use_mmap takes only a bool; stop only an array of strings.
//   - wrong types: InvalidArgument `option "top_k" must be of type integer` (also "float32",
//     "boolean", "array", `option "stop" must be of an array of strings`). Ollama answers
//     these with HTTP 500; InvalidArgument maps to 400 (a deliberate quirk fix).
//   - unknown and removed keys: warning `invalid option provided option=<key>` and ignored,
//     their names appended to `ignored` when given. mirostat, mirostat_tau and mirostat_eta are
//     the exception: our sampler still implements them, so a well-typed value is honoured
//     (a mistyped one is ignored like Ollama ignores every removed option).
// On error `options` may be partly updated.
Status ApplyOptions(const nlohmann::json& map, ModelOptions* options,
                    std::vector<std::string>* ignored = nullptr);

// defaults -> model params layer -> request options (later layers win; a later `stop` replaces
// an earlier one). Either map may be null.
Result<ModelOptions> MergeOptions(const ModelOptions& defaults, const nlohmann::json& model_params,
                                  const nlohmann::json& request_options,
                                  std::vector<std::string>* ignored = nullptr);

// A Modelfile `PARAMETER name value` as the typed JSON value the CLI sends in /api/create's
// `parameters` (api.FormatParams):
//   int options:   Go strconv.ParseInt(v, 10, 64)  -> integer   else "invalid int value [v]"
//   float options: Go strconv.ParseFloat(v, 32)    -> number    else "invalid float value [v]"
//                  (the number is the float32's shortest decimal, so 0.7 is sent as 0.7)
//   use_mmap:      Go strconv.ParseBool(v)         -> bool      else "invalid bool value [v]"
//   stop:          ["v"] (the caller accumulates repeated stop lines)
//   anything else (numa, tfs_z, typos, removed options): "unknown parameter 'name'".
// Deprecated names are reported unknown here too; callers check IsDeprecatedParameter first.
Result<nlohmann::json> ParseParameter(std::string_view name, std::string_view value);

// Go's strconv parsers, exposed for tests and for other Go-compatible inputs.
std::optional<int64_t> GoParseInt(std::string_view s);    // base 10, optional sign, no spaces
std::optional<float> GoParseFloat32(std::string_view s);  // decimal/hex/inf/nan, underscores
std::optional<bool> GoParseBool(std::string_view s);      // 1 t T TRUE true True 0 f F ...

}  // namespace corral::modelfile
