// A model's hyperparameters, read from GGUF metadata (`<arch>.*` keys) and validated before
// anything is allocated. One struct for every architecture: the flags say which building blocks
// a forward pass uses, so the forward code never switches on the architecture's name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "gguf/gguf_reader.h"
#include "kernels/kernels.h"

namespace corral::engine {

enum class FfnActivation { kSilu, kGeluTanh, kGeluErf };
enum class PoolingType { kNone, kMean, kCls, kLast };
enum class NormKind { kRms, kLayer };

struct HParams {
  std::string arch;  // general.architecture

  int64_t n_vocab = 0;  // rows of token_embd
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim_k = 0;  // attention.key_length (default n_embd / n_head)
  int64_t head_dim_v = 0;  // attention.value_length (default head_dim_k)
  int64_t n_ff = 0;
  int64_t n_ctx_train = 0;

  NormKind norm = NormKind::kRms;
  float norm_eps = 1e-5f;

  // RoPE; n_rot == 0 means no rotary embedding (BERT).
  int64_t n_rot = 0;
  kernels::RopeMode rope_mode = kernels::RopeMode::kNorm;
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // 1 / linear scaling factor
  // Sliding-window layers (gemma3) rotate with their own base and no scaling.
  float rope_freq_base_swa = 10000.0f;

  // Attention: scores = scale · q·k (+ soft-cap) + mask.
  float attn_scale = 1.0f;
  float attn_softcap = 0.0f;  // 0: none
  bool causal = true;
  int64_t sliding_window = 0;      // 0: none
  std::vector<uint8_t> layer_swa;  // [n_layer] 1 where the layer uses the sliding window

  FfnActivation ffn_activation = FfnActivation::kSilu;
  float embed_scale = 1.0f;    // token embeddings are multiplied by this (gemma: √n_embd)
  float final_softcap = 0.0f;  // logits = cap·tanh(logits/cap); 0: none
  PoolingType pooling = PoolingType::kNone;

  int64_t q_dim() const { return n_head * head_dim_k; }     // [n_head · head_dim_k]
  int64_t k_dim() const { return n_head_kv * head_dim_k; }  // [n_head_kv · head_dim_k]
  int64_t v_dim() const { return n_head_kv * head_dim_v; }  // [n_head_kv · head_dim_v]
};

// Reads `<arch>.<name>` keys with the types GGUF writers use, saying which key is wrong.
class MetadataReader {
 public:
  MetadataReader(const gguf::GgufFile& file, std::string arch)
      : file_(file), arch_(std::move(arch)) {}

  // A positive integer key no larger than `max`; required unless a default is given.
  Result<int64_t> Count(std::string_view name, int64_t max) const;
  Result<int64_t> Count(std::string_view name, int64_t max, int64_t fallback) const;
  // A finite float key (fallback when absent).
  Result<float> Float(std::string_view name, float fallback) const;
  Result<bool> Bool(std::string_view name, bool fallback) const;
  bool Has(std::string_view name) const;
  // Keys whose value may be an array with one entry per layer (head_count_kv in some files):
  // all entries must be equal, since we do not support varying them per layer.
  Result<int64_t> UniformCount(std::string_view name, int64_t max, int64_t fallback) const;

  std::string Key(std::string_view name) const { return arch_ + "." + std::string(name); }
  const gguf::GgufFile& file() const { return file_; }

 private:
  const gguf::GgufFile& file_;
  std::string arch_;
};

// Reads the keys every architecture shares (sizes, norm epsilon, rope base and linear scaling,
// attention head dims) and checks them against each other. Architecture files adjust the rest.
Result<HParams> ReadCommonHParams(const gguf::GgufFile& file, const std::string& arch,
                                  NormKind norm);

// Checks relations every forward pass relies on (head counts divide, dims positive, ...).
Status ValidateHParams(const HParams& hp);

}  // namespace corral::engine
