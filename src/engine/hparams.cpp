#include "engine/hparams.h"

#include <cmath>
#include <string>

namespace corral::engine {
namespace {

// Sizes beyond these are not models we can run on a CPU; refusing them early keeps a hostile
// file from making us allocate a KV cache or scratch buffers of absurd size.
constexpr int64_t kMaxEmbd = 1 << 16;
constexpr int64_t kMaxLayers = 512;
constexpr int64_t kMaxHeads = 1024;
constexpr int64_t kMaxHeadDim = 1024;
constexpr int64_t kMaxFf = 1 << 18;
constexpr int64_t kMaxContext = 1 << 24;

}  // namespace

bool MetadataReader::Has(std::string_view name) const { return file_.Find(Key(name)) != nullptr; }

Result<int64_t> MetadataReader::Count(std::string_view name, int64_t max) const {
  std::string key = Key(name);
  const gguf::Value* value = file_.Find(key);
  if (value == nullptr) return NotFoundError("model metadata is missing '" + key + "'");
  std::optional<uint64_t> v = value->AsUint();
  if (!v.has_value()) {
    return CorruptionError("model metadata '" + key + "' should be a non-negative integer, got " +
                           value->ToDisplayString());
  }
  if (*v == 0 || *v > static_cast<uint64_t>(max)) {
    return OutOfRangeError("model metadata '" + key + "' = " + std::to_string(*v) +
                           " is outside 1.." + std::to_string(max));
  }
  return static_cast<int64_t>(*v);
}

Result<int64_t> MetadataReader::Count(std::string_view name, int64_t max, int64_t fallback) const {
  if (!Has(name)) return fallback;
  return Count(name, max);
}

Result<int64_t> MetadataReader::UniformCount(std::string_view name, int64_t max,
                                             int64_t fallback) const {
  std::string key = Key(name);
  const gguf::Value* value = file_.Find(key);
  if (value == nullptr) return fallback;
  if (!value->is_array()) return Count(name, max);
  if (value->array_size() == 0) {
    return CorruptionError("model metadata '" + key + "' is an empty array");
  }
  std::optional<uint64_t> first;
  for (uint64_t i = 0; i < value->array_size(); ++i) {
    std::optional<uint64_t> v = value->Element(i).AsUint();
    if (!v.has_value() || *v == 0 || *v > static_cast<uint64_t>(max)) {
      return OutOfRangeError("model metadata '" + key + "'[" + std::to_string(i) +
                             "] is not an integer in 1.." + std::to_string(max));
    }
    if (first.has_value() && *v != *first) {
      return UnsupportedError("model metadata '" + key +
                              "' varies per layer, which is not supported");
    }
    first = v;
  }
  return static_cast<int64_t>(*first);
}

Result<float> MetadataReader::Float(std::string_view name, float fallback) const {
  std::string key = Key(name);
  const gguf::Value* value = file_.Find(key);
  if (value == nullptr) return fallback;
  std::optional<double> v = value->AsFloat();
  if (!v.has_value() || !std::isfinite(*v)) {
    return CorruptionError("model metadata '" + key + "' should be a finite number, got " +
                           value->ToDisplayString());
  }
  return static_cast<float>(*v);
}

Result<bool> MetadataReader::Bool(std::string_view name, bool fallback) const {
  std::string key = Key(name);
  const gguf::Value* value = file_.Find(key);
  if (value == nullptr) return fallback;
  std::optional<bool> v = value->AsBool();
  if (!v.has_value()) {
    return CorruptionError("model metadata '" + key + "' should be a boolean, got " +
                           value->ToDisplayString());
  }
  return *v;
}

Result<HParams> ReadCommonHParams(const gguf::GgufFile& file, const std::string& arch,
                                  NormKind norm) {
  MetadataReader md(file, arch);
  HParams hp;
  hp.arch = arch;
  hp.norm = norm;
  ASSIGN_OR_RETURN(hp.n_embd, md.Count("embedding_length", kMaxEmbd));
  ASSIGN_OR_RETURN(hp.n_layer, md.Count("block_count", kMaxLayers));
  ASSIGN_OR_RETURN(hp.n_head, md.UniformCount("attention.head_count", kMaxHeads, 0));
  if (hp.n_head == 0)
    return NotFoundError("model metadata is missing '" + md.Key("attention.head_count") + "'");
  ASSIGN_OR_RETURN(hp.n_head_kv, md.UniformCount("attention.head_count_kv", kMaxHeads, hp.n_head));
  ASSIGN_OR_RETURN(hp.n_ff, md.UniformCount("feed_forward_length", kMaxFf, 0));
  if (hp.n_ff == 0)
    return NotFoundError("model metadata is missing '" + md.Key("feed_forward_length") + "'");
  ASSIGN_OR_RETURN(hp.n_ctx_train, md.Count("context_length", kMaxContext, 2048));
  if (hp.n_embd % hp.n_head != 0 && !md.Has("attention.key_length")) {
    return CorruptionError("embedding_length " + std::to_string(hp.n_embd) +
                           " is not a multiple of head_count " + std::to_string(hp.n_head));
  }
  ASSIGN_OR_RETURN(hp.head_dim_k,
                   md.Count("attention.key_length", kMaxHeadDim, hp.n_embd / hp.n_head));
  ASSIGN_OR_RETURN(hp.head_dim_v, md.Count("attention.value_length", kMaxHeadDim, hp.head_dim_k));
  float default_eps = norm == NormKind::kRms ? 1e-5f : 1e-12f;
  ASSIGN_OR_RETURN(hp.norm_eps, md.Float(norm == NormKind::kRms ? "attention.layer_norm_rms_epsilon"
                                                                : "attention.layer_norm_epsilon",
                                         default_eps));
  ASSIGN_OR_RETURN(hp.n_rot, md.Count("rope.dimension_count", kMaxHeadDim, hp.head_dim_k));
  ASSIGN_OR_RETURN(hp.rope_freq_base, md.Float("rope.freq_base", 10000.0f));
  hp.rope_freq_base_swa = hp.rope_freq_base;
  // Linear scaling: either rope.scaling.factor with type "linear", or the older
  // rope.scale_linear key.
  float linear_factor = 1.0f;
  ASSIGN_OR_RETURN(float old_linear, md.Float("rope.scale_linear", 1.0f));
  if (old_linear != 1.0f) linear_factor = old_linear;
  if (const gguf::Value* type = file.Find(md.Key("rope.scaling.type")); type != nullptr) {
    std::optional<std::string_view> name = type->AsString();
    if (!name.has_value())
      return CorruptionError("'" + md.Key("rope.scaling.type") + "' is not a string");
    if (*name == "linear") {
      ASSIGN_OR_RETURN(linear_factor, md.Float("rope.scaling.factor", 1.0f));
    } else if (*name != "none") {
      return UnsupportedError("rope scaling type '" + std::string(*name) +
                              "' is not supported yet");
    }
  }
  if (!(linear_factor > 0.0f)) {
    return OutOfRangeError("rope scaling factor must be positive, got " +
                           std::to_string(linear_factor));
  }
  hp.rope_freq_scale = 1.0f / linear_factor;
  hp.attn_scale = 1.0f / std::sqrt(static_cast<float>(hp.head_dim_k));
  ASSIGN_OR_RETURN(hp.attn_scale, md.Float("attention.scale", hp.attn_scale));
  hp.layer_swa.assign(hp.n_layer, 0);
  return hp;
}

Status ValidateHParams(const HParams& hp) {
  auto fail = [&](const std::string& what) {
    return CorruptionError("model '" + hp.arch + "': " + what);
  };
  if (hp.n_head % hp.n_head_kv != 0) {
    return fail("head_count " + std::to_string(hp.n_head) + " is not a multiple of head_count_kv " +
                std::to_string(hp.n_head_kv));
  }
  if (hp.n_rot > hp.head_dim_k || hp.n_rot % 2 != 0) {
    return fail("rope dimension_count " + std::to_string(hp.n_rot) +
                " must be even and at most the head size " + std::to_string(hp.head_dim_k));
  }
  if (hp.n_rot > kernels::kMaxRopeDims) return fail("rope dimension_count is too large");
  if (!(hp.norm_eps > 0.0f)) return fail("the norm epsilon must be positive");
  if (!(hp.rope_freq_base > 0.0f) || !(hp.rope_freq_base_swa > 0.0f)) {
    return fail("rope freq_base must be positive");
  }
  if (hp.attn_softcap < 0 || hp.final_softcap < 0) return fail("soft-caps must not be negative");
  if (static_cast<int64_t>(hp.layer_swa.size()) != hp.n_layer) return fail("layer_swa size");
  return Status::Ok();
}

}  // namespace corral::engine
