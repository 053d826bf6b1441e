// A Context runs a Model: it owns the KV cache for up to n_seq sequences of n_ctx positions,
// the scratch buffers of one ubatch and a thread pool, all allocated in Create, so decoding
// never allocates and never fails for lack of memory mid-stream.
//
//   ASSIGN_OR_RETURN(auto ctx, Context::Create(*model, {.n_ctx = 4096, .n_seq = 4}));
//   std::vector<BatchToken> batch = ...;   // prompt tokens of sequence 0, last one wants logits
//   RETURN_IF_ERROR(ctx->Decode(batch));
//   std::span<const float> logits = ctx->Logits(0);
//
// Tokens of several sequences can share one Decode call (continuous batching): every matrix
// product runs once over all of them, attention runs per sequence. Not thread-safe: one caller
// at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "engine/kv_cache.h"
#include "engine/model.h"
#include "gguf/ggml_type.h"

namespace corral::engine {

struct ContextOptions {
  int64_t n_ctx = 2048;       // positions per sequence
  int64_t n_seq = 1;          // sequences decoded side by side
  int64_t n_ubatch = 512;     // tokens per forward pass (a longer Decode is split)
  int64_t n_outputs_max = 0;  // logit rows one Decode may ask for; 0: max(n_seq, 1)
  int n_threads = 0;          // 0: ThreadPool::DefaultThreadCount()
  gguf::GgmlType kv_type = gguf::GgmlType::kF16;
};

struct BatchToken {
  int32_t token = 0;
  int32_t seq = 0;           // 0 <= seq < n_seq
  bool want_logits = false;  // compute this token's next-token logits
};

class Context {
 public:
  static Result<std::unique_ptr<Context>> Create(const Model& model, const ContextOptions& options);
  ~Context();

  // Appends each token to its sequence (at position = the sequence's current length) and runs
  // the model over them. The whole batch is checked first (token ids, sequence ids, room in the
  // context, number of logit rows), so a bad batch changes nothing.
  Status Decode(std::span<const BatchToken> batch);

  // Next-token logits of the i-th token that asked for them in the last Decode (batch order).
  std::span<const float> Logits(int64_t i) const;  // [n_vocab]
  int64_t n_outputs() const { return n_outputs_; }

  // Runs `tokens` as the whole of sequence `seq` (cleared first) and returns the pooled hidden
  // state: the model's pooling for encoders, the last token (after the output norm) for
  // decoders. Not normalized. The tokens must fit one ubatch.
  Result<std::vector<float>> Embed(std::span<const int32_t> tokens, int32_t seq = 0);

  int64_t SequenceLength(int32_t seq) const { return seq_len_[seq]; }
  // The tokens sequence `seq` holds (positions 0..length-1).
  std::span<const int32_t> SequenceTokens(int32_t seq) const { return seq_tokens_[seq]; }
  // Prompt caching: keeps the longest prefix of `seq` that equals the start of `prompt` (at
  // most prompt.size() - 1 tokens, so the last prompt token is always evaluated again and
  // yields logits), forgets the rest, and returns how many tokens were kept. The caller then
  // decodes prompt[kept..].
  int64_t ReusePrefix(int32_t seq, std::span<const int32_t> prompt);
  // Forgets positions >= length of `seq` (to reuse a cached prompt prefix). length <= current.
  void TruncateSequence(int32_t seq, int64_t length);
  // Context shift: drops positions [n_keep, n_keep + n_discard) of `seq` and moves the rest
  // down, re-rotating their keys, so generation can go on past n_ctx.
  Status ShiftSequence(int32_t seq, int64_t n_keep, int64_t n_discard);

  const Model& model() const { return model_; }
  const ContextOptions& options() const { return options_; }
  const KvCache& kv_cache() const { return *kv_; }
  ThreadPool& pool() { return *pool_; }

 private:
  Context(const Model& model, const ContextOptions& options);
  Status Allocate();
  // One forward pass over n tokens already validated and placed (positions assigned).
  // `out_rows` lists the ubatch rows whose final hidden state is wanted; logits for them go
  // to logits_ + first_output · n_vocab unless `hidden_only`, which leaves the normed hidden
  // states in xn_.
  void Forward(int64_t n, std::span<const int64_t> out_rows, int64_t first_output,
               bool hidden_only);
  void EmbedTokens(int64_t n);
  // RoPE parameters of the global layers, or of the sliding-window layers (their own base, no
  // scaling, no frequency factors).
  kernels::RopeParams RopeFor(bool sliding_window) const;
  void Attention(int64_t layer, int64_t n);
  // out = FFN(in) for n tokens (gate/up, activation, down; fused or ungated variants). `out`
  // may be `in`: each chunk is written after its input was projected.
  void FeedForward(const LayerWeights& l,
                   const float* in,  // [n, n_embd]
                   float* out,       // [n, n_embd]
                   int64_t n);
  // y = W·x + bias for n rows of x (x quantized once per activation type and reused by the
  // next call with the same input, as q/k/v and gate/up share theirs).
  void Project(const Weight& w, const Vector& bias,
               const float* x,  // [n, w.n_cols]
               float* y,        // [n, w.n_rows]
               int64_t n);
  void Norm(const Vector& w, const Vector& b, const float* x, float* y, int64_t n, int64_t width,
            int64_t count_per_row);

  const Model& model_;
  ContextOptions options_;
  std::unique_ptr<KvCache> kv_;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<int64_t> seq_len_;                  // [n_seq]
  std::vector<std::vector<int32_t>> seq_tokens_;  // [n_seq][seq_len_] what each one holds

  // The current ubatch.
  std::vector<int32_t> ub_tokens_;  // [n_ubatch]
  std::vector<int32_t> ub_seq_;     // [n_ubatch]
  std::vector<int64_t> ub_pos_;     // [n_ubatch]

  // Scratch, [n_ubatch, width] row-major.
  std::vector<float> x_;     // [n_ubatch, n_embd] residual stream
  std::vector<float> xn_;    // [n_ubatch, n_embd] normed input of a sub-layer
  std::vector<float> q_;     // [n_ubatch, q_dim]
  std::vector<float> k_;     // [n_ubatch, k_dim]
  std::vector<float> v_;     // [n_ubatch, v_dim]
  std::vector<float> qkv_;   // [n_ubatch, q_dim + k_dim + v_dim] fused projections
  std::vector<float> attn_;  // [n_ubatch, n_head · head_dim_v] when head_dim_v != head_dim_k
  float* attn_out() { return attn_.empty() ? q_.data() : attn_.data(); }  // else q_, in place
  std::vector<float> ffn_a_;     // [min(n_ubatch, 128), n_ff (2·n_ff when fused)]
  std::vector<float> ffn_b_;     // [min(n_ubatch, 128), n_ff]
  std::vector<float> rope_cos_;  // [n_ubatch, n_rot / 2] (and again for sliding-window layers)
  std::vector<float> rope_sin_;  // [n_ubatch, n_rot / 2]
  std::vector<float> rope_cos_swa_, rope_sin_swa_;
  std::vector<uint8_t> xq_;           // [n_ubatch, ActivationBytes(widest)] quantized activations
  const float* xq_source_ = nullptr;  // what xq_ holds, to reuse it for q/k/v and gate/up
  gguf::GgmlType xq_type_ = gguf::GgmlType::kF32;
  int64_t xq_rows_ = 0;
  std::vector<float> embd_extra_;  // [2, n_embd] token-type and position rows (BERT only)
  std::vector<float> gathered_;    // [n_outputs_max, n_embd] rows that need logits
  std::vector<float> logits_;      // [n_outputs_max, n_vocab]
  int64_t n_outputs_ = 0;

  // Per-thread attention scratch.
  struct ThreadScratch {
    std::vector<float> scores;      // [n_ctx]
    std::vector<uint8_t> q_conv;    // [RowBytes(kv_type, head_dim_k)] query in the cache's type
    std::vector<float> v_row;       // [head_dim_v]
    std::vector<uint8_t> embd_row;  // [token_embd.row_bytes] one row read from the file
  };
  std::vector<ThreadScratch> thread_scratch_;
  std::vector<int64_t> batch_added_;      // [n_seq] Decode's per-sequence token counts
  std::vector<int64_t> ubatch_out_rows_;  // [<= n_ubatch] rows of one ubatch that want logits
};

}  // namespace corral::engine
