// The forward pass shared by every architecture: embeddings, then per layer attention and FFN
// sub-layers whose optional steps (biases, fused projections, Q/K norms, post-norms, BERT's
// post-LayerNorms) run when the layer has the tensors for them, then the output head.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "base/check.h"
#include "engine/context.h"
#include "kernels/gemm.h"
#include "kernels/kernels.h"
#include "kernels/matmul.h"
#include "tensor/dequantize.h"
#include "tensor/fp16.h"
#include "tensor/vec_dot_ref.h"

namespace corral::engine {
namespace {

// Tokens per pass through the FFN (bounds its [tokens, n_ff] scratch).
constexpr int64_t kFfnChunk = 128;

// Rows per ParallelFor chunk for cheap per-row work, so small batches stay on one thread.
constexpr int64_t kRowsPerChunk = 16;

// Tanh-approximation GELU the way ggml computes it (GGML_GELU_FP16, on by default): the input
// rounded to F16 and looked up in a table of F16-rounded results, 0 at or below -10 and the
// identity at or above 10. The exact function differs by up to an F16 step (~5e-4 relative),
// which moved gemma3's log-probabilities by ~5e-3 against llama.cpp; this matches it.
void GeluLikeGgml(float* x, int64_t n) {
  static const std::vector<float> table = [] {
    // The entries are computed in float with the libm tanh, like ggml's table, not with our
    // vectorized tanh: a few ulps of difference before the F16 rounding flip some entries.
    std::vector<float> out(65536);  // [every F16 bit pattern]
    for (uint32_t h = 0; h < 65536; ++h) {
      const float x = tensor::Fp16ToFp32(static_cast<uint16_t>(h));
      const float inner = 0.7978845608f * x * (1.0f + 0.044715f * x * x);  // √(2/π)(x + 0.044715x³)
      out[h] = tensor::Fp16ToFp32(tensor::Fp32ToFp16(0.5f * x * (1.0f + std::tanh(inner))));
    }
    return out;
  }();
  for (int64_t i = 0; i < n; ++i) {
    if (x[i] <= -10.0f) {
      x[i] = 0.0f;
    } else if (x[i] < 10.0f) {
      x[i] = table[tensor::Fp32ToFp16(x[i])];
    }
  }
}

}  // namespace

void Context::Norm(const Vector& w, const Vector& b, const float* x, float* y, int64_t n,
                   int64_t width, int64_t count_per_row) {
  const kernels::KernelTable& kt = kernels::Kernels();
  const HParams& hp = model_.hparams();
  if (y == xn_.data() || y == x_.data()) xq_source_ = nullptr;  // its quantized copy is stale
  const int64_t rows = n * count_per_row;
  pool_->ParallelFor(
      rows,
      [&](int64_t begin, int64_t end, int) {
        for (int64_t r = begin; r < end; ++r) {
          if (hp.norm == NormKind::kRms) {
            kt.rms_norm(x + r * width, w.data, y + r * width, width, hp.norm_eps);
          } else {
            kt.layer_norm(x + r * width, w.data, b.data, y + r * width, width, hp.norm_eps);
          }
        }
      },
      kRowsPerChunk * count_per_row);
}

void Context::Project(const Weight& w, const Vector& bias, const float* x, float* y, int64_t n) {
  const kernels::QuantDotTable& dots = kernels::QuantDots();
  const gguf::GgmlType act_type = tensor::Traits(w.type).vec_dot_type;
  if (xq_source_ != x || xq_type_ != act_type || xq_rows_ != n) {
    kernels::QuantizeActivations(w.type, x, n, w.n_cols, xq_.data(), *pool_);
    xq_source_ = x;
    xq_type_ = act_type;
    xq_rows_ = n;
  }
  if (w.packed != nullptr) {  // the file's pages were released at load: only this copy
    kernels::MatMul(*w.packed, xq_.data(), y, n, *pool_);
  } else if (n == 1) {
    kernels::MatVec(dots, w.type, w.data, w.row_bytes, xq_.data(), y, w.n_rows, w.n_cols, *pool_);
  } else {
    kernels::MatMul(dots, w.type, w.data, w.row_bytes, xq_.data(), y, w.n_rows, w.n_cols, n,
                    *pool_);
  }
  if (bias.present()) {
    const kernels::KernelTable& kt = kernels::Kernels();
    for (int64_t i = 0; i < n; ++i) kt.add(y + i * w.n_rows, bias.data, y + i * w.n_rows, w.n_rows);
  }
}

void Context::EmbedTokens(int64_t n) {
  const HParams& hp = model_.hparams();
  const ModelWeights& w = model_.weights();
  const kernels::KernelTable& kt = kernels::Kernels();
  pool_->ParallelFor(
      n,
      [&](int64_t begin, int64_t end, int thread) {
        uint8_t* raw = thread_scratch_[thread].embd_row.data();  // [token_embd.row_bytes]
        for (int64_t i = begin; i < end; ++i) {
          float* row = x_.data() + i * hp.n_embd;  // [n_embd]
          // Read, not mapped: the table's pages were released at load (or never touched), and
          // faulting a row in maps a whole page-cache folio around it.
          model_.file().CopyOut(w.token_embd.Row(ub_tokens_[i]), w.token_embd.row_bytes, raw);
          tensor::DequantizeRow(w.token_embd.type, raw, row, hp.n_embd);
          if (hp.embed_scale != 1.0f) kt.scale(row, hp.embed_scale, row, hp.n_embd);
        }
      },
      kRowsPerChunk);
  if (w.token_types.present() || w.position_embd.present()) {
    float* type_row = embd_extra_.data();                  // [n_embd] token type 0
    float* position_row = embd_extra_.data() + hp.n_embd;  // [n_embd]
    if (w.token_types.present()) {
      tensor::DequantizeRow(w.token_types.type, w.token_types.Row(0), type_row, hp.n_embd);
    }
    for (int64_t i = 0; i < n; ++i) {
      float* row = x_.data() + i * hp.n_embd;
      if (w.token_types.present()) kt.add(row, type_row, row, hp.n_embd);
      if (w.position_embd.present()) {
        tensor::DequantizeRow(w.position_embd.type, w.position_embd.Row(ub_pos_[i]), position_row,
                              hp.n_embd);
        kt.add(row, position_row, row, hp.n_embd);
      }
    }
  }
  if (w.token_embd_norm.present()) {
    Norm(w.token_embd_norm, w.token_embd_norm_b, x_.data(), x_.data(), n, hp.n_embd, 1);
  }
}

void Context::Attention(int64_t layer, int64_t n) {
  const HParams& hp = model_.hparams();
  const KvCache& kv = *kv_;
  const kernels::KernelTable& kt = kernels::Kernels();
  const kernels::VecDotFn dot = kernels::QuantDots().For(kv.type());
  const int64_t group = hp.n_head / hp.n_head_kv;
  const int64_t dk = hp.head_dim_k, dv = hp.head_dim_v;
  const bool swa = hp.layer_swa[layer] != 0;
  const int64_t attn_width = hp.n_head * dv;

  pool_->ParallelFor(n * hp.n_head, [&](int64_t begin, int64_t end, int thread) {
    ThreadScratch& s = thread_scratch_[thread];
    for (int64_t item = begin; item < end; ++item) {
      const int64_t i = item / hp.n_head;  // token in the ubatch
      const int64_t h = item % hp.n_head;  // query head
      const int64_t kvh = h / group;
      const int64_t seq = ub_seq_[i];
      const int64_t pos = ub_pos_[i];
      // Keys this query sees: the past (and itself) when causal, the whole sequence otherwise;
      // a sliding-window layer sees only the last `sliding_window` positions.
      int64_t hi = hp.causal ? pos : seq_len_[seq] - 1;
      int64_t lo = swa ? std::max<int64_t>(0, pos - hp.sliding_window + 1) : 0;
      const float* q = q_.data() + i * hp.q_dim() + h * dk;  // [head_dim_k]
      kernels::QuantizeActivation(kv.type(), q, dk, s.q_conv.data());
      float* scores = s.scores.data();  // [hi - lo + 1]
      const uint8_t* k_base = kv_->K(layer, seq, 0) + kvh * kv.k_head_bytes();
      for (int64_t j = lo; j <= hi; ++j) {
        float score = dot(k_base + j * kv.k_pos_stride(), s.q_conv.data(), dk) * hp.attn_scale;
        if (hp.attn_softcap > 0) score = hp.attn_softcap * std::tanh(score / hp.attn_softcap);
        scores[j - lo] = score;
      }
      kt.softmax(scores, hi - lo + 1);
      float* acc = attn_out() + i * attn_width + h * dv;  // [head_dim_v]
      std::fill_n(acc, dv, 0.0f);
      const uint8_t* v_base = kv_->V(layer, seq, 0) + kvh * kv.v_head_bytes();
      for (int64_t j = lo; j <= hi; ++j) {
        const float p = scores[j - lo];
        const uint8_t* v = v_base + j * kv.v_pos_stride();
        switch (kv.type()) {
          case gguf::GgmlType::kF16:
            kt.axpy_f16(p, reinterpret_cast<const uint16_t*>(v), acc, dv);
            break;
          case gguf::GgmlType::kF32:
            kt.axpy(p, reinterpret_cast<const float*>(v), acc, dv);
            break;
          default:
            tensor::DequantizeRow(kv.type(), v, s.v_row.data(), dv);
            kt.axpy(p, s.v_row.data(), acc, dv);
            break;
        }
      }
    }
  });
}

void Context::FeedForward(const LayerWeights& l, const float* in, float* out, int64_t n) {
  const HParams& hp = model_.hparams();
  const kernels::KernelTable& kt = kernels::Kernels();
  const int64_t n_ff = hp.n_ff, n_embd = hp.n_embd;
  const bool fused = !l.gate.present() && l.up.n_rows == 2 * n_ff;
  const bool gated = l.gate.present() || fused;
  // Tokens go through in chunks so the [tokens, n_ff] intermediates stay small (they are the
  // largest scratch buffers); each chunk is still a matrix-matrix product.
  for (int64_t c0 = 0; c0 < n; c0 += kFfnChunk) {
    const int64_t m = std::min(kFfnChunk, n - c0);
    const float* x = in + c0 * n_embd;  // [m, n_embd]
    float* a = ffn_a_.data();           // [m, n_ff] gate (or [m, 2·n_ff] gate‖up when fused)
    float* b = ffn_b_.data();           // [m, n_ff] up, then the activation's output
    if (l.gate.present()) {
      Project(l.gate, l.b_gate, x, a, m);
      Project(l.up, l.b_up, x, b, m);
    } else if (fused) {
      Project(l.up, l.b_up, x, a, m);
      for (int64_t i = 0; i < m; ++i) {
        std::copy_n(a + i * 2 * n_ff + n_ff, n_ff, b + i * n_ff);
        std::memmove(a + i * n_ff, a + i * 2 * n_ff, n_ff * sizeof(float));
      }
    } else {
      Project(l.up, l.b_up, x, b, m);
    }
    pool_->ParallelFor(
        m,
        [&](int64_t begin, int64_t end, int) {
          for (int64_t i = begin; i < end; ++i) {
            float* ga = a + i * n_ff;
            float* ub = b + i * n_ff;
            switch (hp.ffn_activation) {
              case FfnActivation::kSilu:
                if (gated) {
                  kt.swiglu(ga, ub, ub, n_ff);
                } else {
                  kt.silu(ub, ub, n_ff);
                }
                break;
              case FfnActivation::kGeluTanh:
                GeluLikeGgml(gated ? ga : ub, n_ff);
                if (gated) kt.mul(ga, ub, ub, n_ff);
                break;
              case FfnActivation::kGeluErf:
                kt.gelu_erf(gated ? ga : ub, gated ? ga : ub, n_ff);
                if (gated) kt.mul(ga, ub, ub, n_ff);
                break;
            }
          }
        },
        kRowsPerChunk);
    Project(l.down, l.b_down, b, out + c0 * n_embd, m);
  }
}

void Context::Forward(int64_t n, std::span<const int64_t> out_rows, int64_t first_output,
                      bool hidden_only) {
  const HParams& hp = model_.hparams();
  const ModelWeights& w = model_.weights();
  const kernels::KernelTable& kt = kernels::Kernels();
  const int64_t n_embd = hp.n_embd;
  const int64_t q_dim = hp.q_dim(), k_dim = hp.k_dim(), v_dim = hp.v_dim();
  const int64_t half_rot = hp.n_rot / 2;
  xq_source_ = nullptr;

  EmbedTokens(n);

  // RoPE angles per token, shared by every layer (two sets when sliding-window layers rotate
  // with their own base).
  if (hp.n_rot > 0) {
    const kernels::RopeParams params = RopeFor(false);
    const kernels::RopeParams swa = RopeFor(true);
    const bool any_swa =
        std::find(hp.layer_swa.begin(), hp.layer_swa.end(), 1) != hp.layer_swa.end();
    for (int64_t i = 0; i < n; ++i) {
      kernels::RopeCosSin(params, ub_pos_[i], rope_cos_.data() + i * half_rot,
                          rope_sin_.data() + i * half_rot);
      if (any_swa) {
        kernels::RopeCosSin(swa, ub_pos_[i], rope_cos_swa_.data() + i * half_rot,
                            rope_sin_swa_.data() + i * half_rot);
      }
    }
  }
  auto rope = hp.rope_mode == kernels::RopeMode::kNorm ? kt.rope_norm : kt.rope_neox;

  for (int64_t il = 0; il < hp.n_layer; ++il) {
    const LayerWeights& l = w.layers[il];
    // --- attention ---
    const float* attn_in = x_.data();  // [n, n_embd]
    if (l.attn_norm.present()) {
      Norm(l.attn_norm, l.attn_norm_b, x_.data(), xn_.data(), n, n_embd, 1);
      attn_in = xn_.data();
    } else {
      xq_source_ = nullptr;  // x_ changed since the last layer
    }
    if (l.wqkv.present()) {
      const int64_t width = q_dim + k_dim + v_dim;
      Project(l.wqkv, l.bqkv, attn_in, qkv_.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        const float* row = qkv_.data() + i * width;
        std::copy_n(row, q_dim, q_.data() + i * q_dim);
        std::copy_n(row + q_dim, k_dim, k_.data() + i * k_dim);
        std::copy_n(row + q_dim + k_dim, v_dim, v_.data() + i * v_dim);
      }
    } else {
      Project(l.wq, l.bq, attn_in, q_.data(), n);
      Project(l.wk, l.bk, attn_in, k_.data(), n);
      Project(l.wv, l.bv, attn_in, v_.data(), n);
    }
    if (l.q_norm.present()) Norm(l.q_norm, {}, q_.data(), q_.data(), n, hp.head_dim_k, hp.n_head);
    if (l.k_norm.present())
      Norm(l.k_norm, {}, k_.data(), k_.data(), n, hp.head_dim_k, hp.n_head_kv);
    const bool swa = hp.layer_swa[il] != 0;
    for (int64_t i = 0; i < n; ++i) {
      if (hp.n_rot > 0) {
        const float* cos = (swa ? rope_cos_swa_ : rope_cos_).data() + i * half_rot;
        const float* sin = (swa ? rope_sin_swa_ : rope_sin_).data() + i * half_rot;
        rope(q_.data() + i * q_dim, hp.n_head, hp.head_dim_k, hp.n_rot, cos, sin);
        rope(k_.data() + i * k_dim, hp.n_head_kv, hp.head_dim_k, hp.n_rot, cos, sin);
      }
      kv_->Store(il, ub_seq_[i], ub_pos_[i], k_.data() + i * k_dim, v_.data() + i * v_dim);
    }
    Attention(il, n);
    // Sub-layer outputs go to xn_: its normed input has been consumed by then (the FFN writes
    // each chunk's output after projecting that chunk's input).
    float* out = xn_.data();  // [n, n_embd]
    Project(l.wo, l.bo, attn_out(), out, n);
    if (l.post_attn_norm.present()) {
      Norm(l.post_attn_norm, {}, out, out, n, n_embd, 1);
    }
    kt.add(x_.data(), out, x_.data(), n * n_embd);
    if (l.attn_out_norm.present()) {
      Norm(l.attn_out_norm, l.attn_out_norm_b, x_.data(), x_.data(), n, n_embd, 1);
    }

    // --- feed-forward ---
    const float* ffn_in = x_.data();
    if (l.ffn_norm.present()) {
      Norm(l.ffn_norm, l.ffn_norm_b, x_.data(), xn_.data(), n, n_embd, 1);
      ffn_in = xn_.data();
    } else {
      xq_source_ = nullptr;
    }
    FeedForward(l, ffn_in, out, n);
    if (l.post_ffw_norm.present()) Norm(l.post_ffw_norm, {}, out, out, n, n_embd, 1);
    kt.add(x_.data(), out, x_.data(), n * n_embd);
    if (l.layer_out_norm.present()) {
      Norm(l.layer_out_norm, l.layer_out_norm_b, x_.data(), x_.data(), n, n_embd, 1);
    }
    xq_source_ = nullptr;
  }

  // --- output head, only for the rows that need it ---
  const int64_t n_out = static_cast<int64_t>(out_rows.size());
  if (n_out == 0) return;
  // Embed wants every row: xn_ is free by now and holds them; logits rows go to gathered_.
  float* hidden = hidden_only ? xn_.data() : gathered_.data();  // [n_out, n_embd]
  for (int64_t r = 0; r < n_out; ++r) {
    std::copy_n(x_.data() + out_rows[r] * n_embd, n_embd, hidden + r * n_embd);
  }
  if (w.output_norm.present())
    Norm(w.output_norm, w.output_norm_b, hidden, hidden, n_out, n_embd, 1);
  if (hidden_only) return;
  xq_source_ = nullptr;
  float* logits = logits_.data() + first_output * hp.n_vocab;  // [n_out, n_vocab]
  Project(w.output, {}, hidden, logits, n_out);
  if (hp.final_softcap > 0) {
    const float cap = hp.final_softcap;
    for (int64_t i = 0; i < n_out * hp.n_vocab; ++i) logits[i] = cap * std::tanh(logits[i] / cap);
  }
}

}  // namespace corral::engine
