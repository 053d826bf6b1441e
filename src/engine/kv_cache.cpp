#include "engine/kv_cache.h"

#include <cstring>
#include <new>

#include "base/strings.h"
#include "tensor/quantize.h"

namespace corral::engine {

Result<gguf::GgmlType> KvCacheTypeFromName(std::string_view name) {
  std::string lower = ToLower(TrimSpace(name));
  if (lower.empty() || lower == "f16") return gguf::GgmlType::kF16;
  if (lower == "f32") return gguf::GgmlType::kF32;
  if (lower == "q8_0") return gguf::GgmlType::kQ8_0;
  return InvalidArgumentError("unsupported KV cache type '" + std::string(name) +
                              "' (use f16, f32 or q8_0)");
}

Result<std::unique_ptr<KvCache>> KvCache::Create(const HParams& hp, gguf::GgmlType type,
                                                 int64_t n_ctx, int64_t n_seq) {
  if (n_ctx < 1 || n_seq < 1) {
    return InvalidArgumentError("context size and sequence count must be positive");
  }
  if (type != gguf::GgmlType::kF16 && type != gguf::GgmlType::kF32 &&
      type != gguf::GgmlType::kQ8_0) {
    return InvalidArgumentError("unsupported KV cache type");
  }
  if (type == gguf::GgmlType::kQ8_0 && (hp.head_dim_k % 32 != 0 || hp.head_dim_v % 32 != 0)) {
    return InvalidArgumentError(
        "a q8_0 KV cache needs head sizes that are multiples of 32, this "
        "model's are " +
        std::to_string(hp.head_dim_k));
  }
  std::unique_ptr<KvCache> c(new KvCache());
  c->type_ = type;
  c->n_layer_ = hp.n_layer;
  c->n_seq_ = n_seq;
  c->n_ctx_ = n_ctx;
  c->n_head_kv_ = hp.n_head_kv;
  c->head_dim_k_ = hp.head_dim_k;
  c->head_dim_v_ = hp.head_dim_v;
  c->k_head_bytes_ = gguf::RowBytes(type, hp.head_dim_k);
  c->v_head_bytes_ = gguf::RowBytes(type, hp.head_dim_v);
  c->k_pos_stride_ = c->k_head_bytes_ * hp.n_head_kv;
  c->v_pos_stride_ = c->v_head_bytes_ * hp.n_head_kv;
  // Overflow-safe: every factor is bounded by ValidateHParams / the caller's limits, but check
  // the product against a sane ceiling anyway before allocating.
  long double cells = static_cast<long double>(hp.n_layer) * n_seq * n_ctx;
  long double total = cells * (c->k_pos_stride_ + c->v_pos_stride_);
  if (total > static_cast<long double>(1ull << 46)) {
    return ResourceExhaustedError("KV cache would need more than 64 TiB");
  }
  size_t n_cells = static_cast<size_t>(hp.n_layer * n_seq * n_ctx);
  c->k_.reset(new (std::nothrow) uint8_t[n_cells * c->k_pos_stride_]);
  c->v_.reset(new (std::nothrow) uint8_t[n_cells * c->v_pos_stride_]);
  if (c->k_ == nullptr || c->v_ == nullptr) {
    return ResourceExhaustedError("cannot allocate the KV cache (" +
                                  std::to_string(static_cast<uint64_t>(total) >> 20) + " MiB)");
  }
  c->bytes_ = static_cast<size_t>(total);
  return c;
}

void KvCache::Store(int64_t layer, int64_t seq, int64_t pos, const float* k, const float* v) {
  uint8_t* kd = K(layer, seq, pos);
  uint8_t* vd = V(layer, seq, pos);
  for (int64_t h = 0; h < n_head_kv_; ++h) {
    tensor::QuantizeRow(type_, k + h * head_dim_k_, kd + h * k_head_bytes_, head_dim_k_);
    tensor::QuantizeRow(type_, v + h * head_dim_v_, vd + h * v_head_bytes_, head_dim_v_);
  }
}

void KvCache::MoveCells(int64_t seq, int64_t from, int64_t to, int64_t count) {
  for (int64_t il = 0; il < n_layer_; ++il) {
    std::memmove(K(il, seq, to), K(il, seq, from), count * k_pos_stride_);
    std::memmove(V(il, seq, to), V(il, seq, from), count * v_pos_stride_);
  }
}

}  // namespace corral::engine
