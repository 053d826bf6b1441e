// The attention key/value cache of one Context: for every layer, sequence slot and position, the
// keys (after RoPE) and values of every KV head, stored as F16 (default), F32 or Q8_0 rows of
// head_dim elements. Cell index == position: a sequence always holds positions 0..length-1
// (context shift renumbers them), so attention reads one contiguous run per sequence.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/status.h"
#include "engine/hparams.h"
#include "gguf/ggml_type.h"

namespace corral::engine {

// OLLAMA_KV_CACHE_TYPE values: "f16" (default), "f32", "q8_0". Unknown names are an error.
Result<gguf::GgmlType> KvCacheTypeFromName(std::string_view name);

class KvCache {
 public:
  // Allocates n_layer × n_seq × n_ctx cells for K and V (untouched pages cost no memory until
  // used). Q8_0 needs head sizes that are multiples of 32.
  static Result<std::unique_ptr<KvCache>> Create(const HParams& hp, gguf::GgmlType type,
                                                 int64_t n_ctx, int64_t n_seq);

  gguf::GgmlType type() const { return type_; }
  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_seq() const { return n_seq_; }
  size_t bytes() const { return bytes_; }

  // Rows of one KV head: K [head_dim_k] and V [head_dim_v] in type().
  size_t k_head_bytes() const { return k_head_bytes_; }
  size_t v_head_bytes() const { return v_head_bytes_; }

  // Start of the K (V) data of (layer, seq, pos): n_head_kv head rows back to back;
  // consecutive positions are k_pos_stride() (v_pos_stride()) bytes apart.
  uint8_t* K(int64_t layer, int64_t seq, int64_t pos) {
    return k_.get() + ((layer * n_seq_ + seq) * n_ctx_ + pos) * k_pos_stride_;
  }
  uint8_t* V(int64_t layer, int64_t seq, int64_t pos) {
    return v_.get() + ((layer * n_seq_ + seq) * n_ctx_ + pos) * v_pos_stride_;
  }
  size_t k_pos_stride() const { return k_pos_stride_; }
  size_t v_pos_stride() const { return v_pos_stride_; }

  // Stores one position's K and V (float, all KV heads) converted to type().
  void Store(int64_t layer, int64_t seq, int64_t pos,
             const float* k,   // [n_head_kv · head_dim_k]
             const float* v);  // [n_head_kv · head_dim_v]

  // Moves positions [from, from + count) of `seq` to start at `to` (to < from), in every layer.
  void MoveCells(int64_t seq, int64_t from, int64_t to, int64_t count);

 private:
  KvCache() = default;

  gguf::GgmlType type_ = gguf::GgmlType::kF16;
  int64_t n_layer_ = 0, n_seq_ = 0, n_ctx_ = 0;
  int64_t n_head_kv_ = 0, head_dim_k_ = 0, head_dim_v_ = 0;
  size_t k_head_bytes_ = 0, v_head_bytes_ = 0;
  size_t k_pos_stride_ = 0, v_pos_stride_ = 0;
  size_t bytes_ = 0;
  std::unique_ptr<uint8_t[]> k_;  // [n_layer, n_seq, n_ctx, n_head_kv, k_head_bytes]
  std::unique_ptr<uint8_t[]> v_;  // [n_layer, n_seq, n_ctx, n_head_kv, v_head_bytes]
};

}  // namespace corral::engine
