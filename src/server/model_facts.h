// A stored model as the handlers see it (Ollama's GetModel): the manifest's layers read into
// template, system, parameters, license, messages and file paths; plus what Ollama derives
// from them: ModelDetails (§1.0) and capabilities. Used by /api/show and /api/tags now, and by
// generate/chat later.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "gguf/gguf_reader.h"
#include "store/store.h"

namespace corral::server {

// Layer blobs other than the model are small text; a larger one is refused rather than read.
inline constexpr size_t kMaxTextLayerBytes = 16 << 20;

struct LocalModel {
  store::ModelEntry entry;
  nlohmann::json config = nlohmann::json::object();  // the config blob; {} when there is none
  std::string model_path;                            // the GGUF weights; "" when none
  std::string parent_model;                          // the model layer's "from"
  std::vector<std::string> adapter_paths;
  std::vector<std::string> projector_paths;
  std::optional<std::string> template_text;  // the TEMPLATE layer, when there is one
  std::string system;
  std::vector<std::string> licenses;
  nlohmann::ordered_json options = nlohmann::ordered_json::object();  // the params layer
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();  // the messages layer

  // A string field of the config blob ("" when absent or not a string).
  std::string ConfigString(const char* key) const;
};

// Reads every layer of `entry` (blob paths come from validated digests only).
Result<LocalModel> LoadLocalModel(const store::Store& store, store::ModelEntry entry);

// Ollama's api.ModelDetails.
struct ModelDetails {
  std::string parent_model;
  std::string format;
  std::string family;
  std::optional<std::vector<std::string>> families;  // null when the config has none
  std::string parameter_size;
  std::string quantization_level;
  int64_t context_length = 0;    // omitted when 0
  int64_t embedding_length = 0;  // omitted when 0

  nlohmann::ordered_json ToJson() const;
};

struct ModelFacts {
  ModelDetails details;
  std::vector<std::string> capabilities;
};

// Details from the config blob, completed from the GGUF where the config is silent (family from
// general.architecture, parameter_size from the parameter count, quantization_level from
// general.file_type, context/embedding length from the architecture's keys); capabilities as
// §1.0 derives them. `gguf` may be null (no weights, or unreadable).
ModelFacts ComputeModelFacts(const LocalModel& model, const gguf::GgufFile* gguf);

// Ollama's thinking.InferTags on a Go template's text: true when a {{ .Thinking }} action inside
// a `range .Messages` sits between two non-blank literal texts (the opening and closing tags).
bool TemplateHasThinkingTags(std::string_view template_text);

// Values derived from a model's files, keyed by manifest digest: the manifest names immutable
// blobs, so what is derived from a digest never changes. Bounded; cleared wholesale when full.
template <typename V>
class DigestCache {
 public:
  explicit DigestCache(size_t max_entries) : max_entries_(max_entries) {}

  std::optional<V> Get(const store::Digest& manifest_digest) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = values_.find(manifest_digest);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  void Put(const store::Digest& manifest_digest, V value) {
    std::lock_guard<std::mutex> lock(mu_);
    if (values_.size() >= max_entries_) values_.clear();
    values_[manifest_digest] = std::move(value);
  }

 private:
  const size_t max_entries_;
  mutable std::mutex mu_;
  std::map<store::Digest, V> values_;
};

// The parts of /api/show that come from the model's GGUF.
struct ShownGguf {
  std::optional<std::string> chat_template;  // tokenizer.chat_template, when non-empty
  nlohmann::ordered_json model_info;         // GgufModelInfo(file, verbose)
  nlohmann::ordered_json tensors;            // GgufTensors(file); null when there are none
};

// The facts /api/tags and the inference routes need, for every model in a store.
class ModelFactsCache : public DigestCache<ModelFacts> {
 public:
  ModelFactsCache() : DigestCache<ModelFacts>(4096) {}
};

}  // namespace corral::server
