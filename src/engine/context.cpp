#include "engine/context.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"
#include "base/log.h"
#include "kernels/matmul.h"
#include "tensor/dequantize.h"
#include "tensor/quantize.h"

namespace corral::engine {
namespace {

constexpr int64_t kMaxSequences = 256;

}  // namespace

Context::Context(const Model& model, const ContextOptions& options)
    : model_(model), options_(options) {}

Context::~Context() = default;

Result<std::unique_ptr<Context>> Context::Create(const Model& model,
                                                 const ContextOptions& options) {
  const HParams& hp = model.hparams();
  ContextOptions o = options;
  if (o.n_ctx < 1)
    return InvalidArgumentError("num_ctx must be at least 1, got " + std::to_string(o.n_ctx));
  if (o.n_seq < 1 || o.n_seq > kMaxSequences) {
    return InvalidArgumentError("the number of parallel sequences must be in 1.." +
                                std::to_string(kMaxSequences));
  }
  if (o.n_ubatch < 1) return InvalidArgumentError("the ubatch size must be at least 1");
  o.n_ubatch = std::min(o.n_ubatch, o.n_ctx * o.n_seq);
  if (o.n_outputs_max <= 0) o.n_outputs_max = o.n_seq;
  if (o.n_threads <= 0) o.n_threads = ThreadPool::DefaultThreadCount();
  if (model.weights().position_embd.present() && o.n_ctx > model.weights().position_embd.n_rows) {
    return InvalidArgumentError("num_ctx " + std::to_string(o.n_ctx) + " exceeds the " +
                                std::to_string(model.weights().position_embd.n_rows) +
                                " positions this model was trained for");
  }
  std::unique_ptr<Context> ctx(new Context(model, o));
  ASSIGN_OR_RETURN(ctx->kv_, KvCache::Create(hp, o.kv_type, o.n_ctx, o.n_seq));
  RETURN_IF_ERROR(ctx->Allocate());
  LOG(kDebug) << "context n_ctx=" << o.n_ctx << " n_seq=" << o.n_seq << " n_ubatch=" << o.n_ubatch
              << " threads=" << o.n_threads << " kv=" << gguf::TypeInfo(o.kv_type).name << " ("
              << (ctx->kv_->bytes() >> 20) << " MiB)";
  return ctx;
}

Status Context::Allocate() {
  const HParams& hp = model_.hparams();
  const ModelWeights& w = model_.weights();
  const int64_t nb = options_.n_ubatch;
  pool_ = std::make_unique<ThreadPool>(options_.n_threads);
  seq_len_.assign(options_.n_seq, 0);
  seq_tokens_.assign(options_.n_seq, {});
  for (auto& tokens : seq_tokens_) tokens.reserve(options_.n_ctx);
  batch_added_.assign(options_.n_seq, 0);
  ubatch_out_rows_.reserve(options_.n_ubatch);
  ub_tokens_.resize(nb);
  ub_seq_.resize(nb);
  ub_pos_.resize(nb);
  const int64_t qkv = hp.q_dim() + hp.k_dim() + hp.v_dim();
  const int64_t attn_width = hp.n_head * hp.head_dim_v;
  x_.resize(nb * hp.n_embd);
  xn_.resize(nb * hp.n_embd);
  q_.resize(nb * hp.q_dim());
  k_.resize(nb * hp.k_dim());
  v_.resize(nb * hp.v_dim());
  // The attention output may overwrite the queries in place (each (token, head) reads its query
  // into thread scratch before writing its output), so attn_ is only needed when V and K heads
  // differ in size.
  if (hp.head_dim_v != hp.head_dim_k) attn_.resize(nb * attn_width);
  bool fused_qkv = !w.layers.empty() && w.layers[0].wqkv.present();
  if (fused_qkv) qkv_.resize(nb * qkv);
  bool fused_up =
      !w.layers.empty() && !w.layers[0].gate.present() && w.layers[0].up.n_rows == 2 * hp.n_ff;
  const int64_t ffn_rows = std::min<int64_t>(nb, 128);  // forward.cpp's kFfnChunk
  ffn_a_.resize(ffn_rows * hp.n_ff * (fused_up ? 2 : 1));
  ffn_b_.resize(ffn_rows * hp.n_ff);
  const int64_t half_rot = std::max<int64_t>(hp.n_rot / 2, 1);
  rope_cos_.resize(nb * half_rot);
  rope_sin_.resize(nb * half_rot);
  rope_cos_swa_.resize(nb * half_rot);
  rope_sin_swa_.resize(nb * half_rot);

  // The widest activation row any weight is fed, quantized for the hungriest type.
  size_t xq_row = 0;
  auto consider = [&](const Weight& weight) {
    if (weight.present())
      xq_row = std::max(xq_row, kernels::ActivationBytes(weight.type, weight.n_cols));
  };
  for (const LayerWeights& l : w.layers) {
    for (const Weight* weight : {&l.wq, &l.wk, &l.wv, &l.wqkv, &l.wo, &l.gate, &l.up, &l.down}) {
      consider(*weight);
    }
  }
  consider(w.output);
  xq_.resize(xq_row * nb);

  gathered_.resize(options_.n_outputs_max * hp.n_embd);
  if (w.token_types.present() || w.position_embd.present()) embd_extra_.resize(2 * hp.n_embd);
  if (w.output.present()) logits_.resize(options_.n_outputs_max * hp.n_vocab);

  thread_scratch_.resize(options_.n_threads);
  for (ThreadScratch& s : thread_scratch_) {
    s.scores.resize(options_.n_ctx);
    s.q_conv.resize(kernels::ActivationBytes(kv_->type(), hp.head_dim_k));
    s.v_row.resize(hp.head_dim_v);
    s.embd_row.resize(w.token_embd.row_bytes);
  }
  return Status::Ok();
}

Status Context::Decode(std::span<const BatchToken> batch) {
  const HParams& hp = model_.hparams();
  if (model_.is_embedding_model()) {
    return InvalidArgumentError("this model produces embeddings only; it cannot generate text");
  }
  if (batch.empty()) return InvalidArgumentError("the batch is empty");
  // Validate everything first, so a bad batch leaves the context as it was.
  std::vector<int64_t>& added = batch_added_;  // [n_seq] tokens this batch adds per sequence
  std::fill(added.begin(), added.end(), 0);
  int64_t n_want = 0;
  for (const BatchToken& t : batch) {
    if (t.seq < 0 || t.seq >= options_.n_seq) {
      return InvalidArgumentError("sequence id " + std::to_string(t.seq) + " is outside 0.." +
                                  std::to_string(options_.n_seq - 1));
    }
    if (t.token < 0 || t.token >= hp.n_vocab) {
      return InvalidArgumentError("token id " + std::to_string(t.token) +
                                  " is outside the vocabulary (" + std::to_string(hp.n_vocab) +
                                  " tokens)");
    }
    ++added[t.seq];
    n_want += t.want_logits ? 1 : 0;
  }
  for (int64_t s = 0; s < options_.n_seq; ++s) {
    if (seq_len_[s] + added[s] > options_.n_ctx) {
      return OutOfRangeError("sequence " + std::to_string(s) + " would hold " +
                             std::to_string(seq_len_[s] + added[s]) +
                             " tokens, more than the context size " +
                             std::to_string(options_.n_ctx));
    }
  }
  if (n_want > options_.n_outputs_max) {
    return InvalidArgumentError("the batch asks for " + std::to_string(n_want) +
                                " rows of logits, more than the " +
                                std::to_string(options_.n_outputs_max) + " this context holds");
  }

  n_outputs_ = 0;
  std::vector<int64_t>& out_rows = ubatch_out_rows_;  // capacity n_ubatch, set at creation
  for (size_t start = 0; start < batch.size(); start += options_.n_ubatch) {
    const int64_t n = std::min<int64_t>(options_.n_ubatch, batch.size() - start);
    out_rows.clear();
    for (int64_t i = 0; i < n; ++i) {
      const BatchToken& t = batch[start + i];
      ub_tokens_[i] = t.token;
      ub_seq_[i] = t.seq;
      ub_pos_[i] = seq_len_[t.seq]++;
      seq_tokens_[t.seq].push_back(t.token);
      if (t.want_logits) out_rows.push_back(i);
    }
    Forward(n, out_rows, n_outputs_, /*hidden_only=*/false);
    n_outputs_ += static_cast<int64_t>(out_rows.size());
  }
  return Status::Ok();
}

std::span<const float> Context::Logits(int64_t i) const {
  CHECK(i >= 0 && i < n_outputs_) << "logits row " << i << " of " << n_outputs_;
  const int64_t n_vocab = model_.hparams().n_vocab;
  return {logits_.data() + i * n_vocab, static_cast<size_t>(n_vocab)};
}

Result<std::vector<float>> Context::Embed(std::span<const int32_t> tokens, int32_t seq) {
  const HParams& hp = model_.hparams();
  if (seq < 0 || seq >= options_.n_seq) return InvalidArgumentError("sequence id out of range");
  if (tokens.empty()) return InvalidArgumentError("nothing to embed: the input has no tokens");
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n > options_.n_ubatch || n > options_.n_ctx) {
    return OutOfRangeError("the input has " + std::to_string(n) + " tokens, more than the " +
                           std::to_string(std::min(options_.n_ubatch, options_.n_ctx)) +
                           " this context can embed at once");
  }
  for (int32_t t : tokens) {
    if (t < 0 || t >= hp.n_vocab) {
      return InvalidArgumentError("token id " + std::to_string(t) + " is outside the vocabulary");
    }
  }
  seq_len_[seq] = 0;
  seq_tokens_[seq].clear();
  std::vector<int64_t> rows(n);
  for (int64_t i = 0; i < n; ++i) {
    ub_tokens_[i] = tokens[i];
    ub_seq_[i] = seq;
    ub_pos_[i] = seq_len_[seq]++;
    rows[i] = i;
  }
  Forward(n, rows, 0, /*hidden_only=*/true);
  seq_len_[seq] = 0;  // an embedding leaves nothing behind to continue from

  std::vector<float> pooled(hp.n_embd, 0.0f);  // [n_embd]
  PoolingType pooling = hp.pooling == PoolingType::kNone ? PoolingType::kLast : hp.pooling;
  switch (pooling) {
    case PoolingType::kMean:
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t d = 0; d < hp.n_embd; ++d) pooled[d] += xn_[i * hp.n_embd + d];
      }
      for (float& v : pooled) v /= static_cast<float>(n);
      break;
    case PoolingType::kCls:
      std::copy_n(xn_.begin(), hp.n_embd, pooled.begin());
      break;
    case PoolingType::kLast:
    case PoolingType::kNone:
      std::copy_n(xn_.begin() + (n - 1) * hp.n_embd, hp.n_embd, pooled.begin());
      break;
  }
  return pooled;
}

kernels::RopeParams Context::RopeFor(bool sliding_window) const {
  const HParams& hp = model_.hparams();
  if (sliding_window) return {.n_rot = hp.n_rot, .freq_base = hp.rope_freq_base_swa};
  return {.n_rot = hp.n_rot,
          .freq_base = hp.rope_freq_base,
          .freq_scale = hp.rope_freq_scale,
          .freq_factors = model_.weights().rope_freqs.data};
}

void Context::TruncateSequence(int32_t seq, int64_t length) {
  CHECK(seq >= 0 && seq < options_.n_seq);
  CHECK(length >= 0 && length <= seq_len_[seq]);
  seq_len_[seq] = length;
  seq_tokens_[seq].resize(length);
}

int64_t Context::ReusePrefix(int32_t seq, std::span<const int32_t> prompt) {
  CHECK(seq >= 0 && seq < options_.n_seq);
  const std::vector<int32_t>& held = seq_tokens_[seq];
  const size_t limit = std::min(held.size(), prompt.empty() ? 0 : prompt.size() - 1);
  size_t kept = 0;
  while (kept < limit && held[kept] == prompt[kept]) ++kept;
  TruncateSequence(seq, static_cast<int64_t>(kept));
  return static_cast<int64_t>(kept);
}

Status Context::ShiftSequence(int32_t seq, int64_t n_keep, int64_t n_discard) {
  const HParams& hp = model_.hparams();
  if (seq < 0 || seq >= options_.n_seq) return InvalidArgumentError("sequence id out of range");
  const int64_t len = seq_len_[seq];
  if (n_keep < 0 || n_discard < 1 || n_keep + n_discard > len) {
    return InvalidArgumentError("cannot discard " + std::to_string(n_discard) + " tokens after " +
                                std::to_string(n_keep) + " of a sequence of " +
                                std::to_string(len));
  }
  if (hp.n_rot == 0 && model_.weights().position_embd.present()) {
    return UnsupportedError("absolute position embeddings cannot shift");
  }
  const int64_t moved = len - n_keep - n_discard;
  kv_->MoveCells(seq, n_keep + n_discard, n_keep, moved);
  seq_len_[seq] = n_keep + moved;
  std::vector<int32_t>& tokens = seq_tokens_[seq];
  tokens.erase(tokens.begin() + n_keep, tokens.begin() + n_keep + n_discard);
  if (hp.n_rot == 0 || moved == 0) return Status::Ok();

  // Keys were stored rotated for their old positions; rotating again by −n_discard gives the
  // rotation of their new positions (rotations compose: the angle is linear in the position).
  const KvCache& kv = *kv_;
  const int64_t half = hp.n_rot / 2;
  std::vector<float> cos(half), sin(half), cos_swa(half), sin_swa(half);
  kernels::RopeCosSin(RopeFor(false), -n_discard, cos.data(), sin.data());
  kernels::RopeCosSin(RopeFor(true), -n_discard, cos_swa.data(), sin_swa.data());
  const kernels::KernelTable& kt = kernels::Kernels();
  auto rope = hp.rope_mode == kernels::RopeMode::kNorm ? kt.rope_norm : kt.rope_neox;
  std::vector<float> row(hp.head_dim_k);  // [head_dim_k]
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    const bool is_swa = hp.layer_swa[il] != 0;
    for (int64_t p = n_keep; p < n_keep + moved; ++p) {
      uint8_t* cell = kv_->K(il, seq, p);
      for (int64_t h = 0; h < hp.n_head_kv; ++h) {
        uint8_t* head = cell + h * kv.k_head_bytes();
        tensor::DequantizeRow(kv.type(), head, row.data(), hp.head_dim_k);
        rope(row.data(), 1, hp.head_dim_k, hp.n_rot, is_swa ? cos_swa.data() : cos.data(),
             is_swa ? sin_swa.data() : sin.data());
        tensor::QuantizeRow(kv.type(), row.data(), head, hp.head_dim_k);
      }
    }
  }
  return Status::Ok();
}

}  // namespace corral::engine
