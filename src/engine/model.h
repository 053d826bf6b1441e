// A loaded model: the mapped GGUF file, its hyperparameters, its tensors bound by name, and its
// tokenizer. Immutable after Load, so any number of Contexts can run on one Model at once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/hparams.h"
#include "engine/weights.h"
#include "gguf/gguf_reader.h"
#include "tokenizer/tokenizer.h"

namespace corral::engine {

// One transformer block. Which tensors are present decides which steps the forward pass runs
// (a bias is added when present, a fused QKV is split, ...); the architecture file decides
// which ones must be present.
struct LayerWeights {
  Vector attn_norm, attn_norm_b;  // [n_embd] pre-attention norm (absent: BERT's post-norm)
  Weight wq;                      // [n_embd, q_dim]
  Weight wk;                      // [n_embd, k_dim]
  Weight wv;                      // [n_embd, v_dim]
  Weight wqkv;                    // [n_embd, q_dim + k_dim + v_dim] fused (phi3, nomic-bert)
  Vector bq, bk, bv;              // [q_dim], [k_dim], [v_dim]
  Vector bqkv;                    // [q_dim + k_dim + v_dim]
  Vector q_norm, k_norm;          // [head_dim_k] per-head RMSNorm before RoPE (qwen3, gemma3)
  Weight wo;                      // [n_head · head_dim_v, n_embd]
  Vector bo;                      // [n_embd]
  Vector post_attn_norm;          // [n_embd] on the attention output before the residual add
  Vector attn_out_norm, attn_out_norm_b;  // [n_embd] after the residual add (BERT post-norm)

  Vector ffn_norm, ffn_norm_b;  // [n_embd] pre-FFN norm
  Weight gate;                  // [n_embd, n_ff]; absent: ungated FFN (BERT)
  Weight up;                    // [n_embd, n_ff], or [n_embd, 2·n_ff] gate‖up fused (phi3)
  Weight down;                  // [n_ff, n_embd]
  Vector b_gate, b_up, b_down;  // [n_ff], [n_ff], [n_embd]
  Vector post_ffw_norm;         // [n_embd] on the FFN output before the residual add
  Vector layer_out_norm, layer_out_norm_b;  // [n_embd] after the residual add (BERT post-norm)
};

struct ModelWeights {
  Weight token_embd;                          // [n_embd, n_vocab], read by row
  Weight token_types;                         // [n_embd, n_token_types] (BERT: row 0 is added)
  Weight position_embd;                       // [n_embd, n_ctx_train] absolute positions (BERT)
  Vector token_embd_norm, token_embd_norm_b;  // [n_embd] (BERT)
  Vector output_norm, output_norm_b;          // [n_embd]
  Weight output;                     // [n_embd, n_vocab]; token_embd when tied; absent for encoders
  Vector rope_freqs;                 // [n_rot / 2] frequency divisors (llama3 scaling), optional
  std::vector<LayerWeights> layers;  // [n_layer]
};

struct ArchDef;

struct LoadOptions {
  // Repack the layer matrices into panels for the batched kernels (kernels/gemm.h) where this
  // CPU has a kernel for their type. Costs the packed copy (0–11 % more than the file's bytes
  // for those matrices, see gemm.h); off, every product runs on the mapped file's rows.
  bool pack_weights = true;
  int n_threads = 0;  // for packing; 0: all cores
};

class Model {
 public:
  // Maps and validates the file. Errors name the architecture, key or tensor at fault.
  static Result<std::unique_ptr<Model>> Load(const std::string& path,
                                             const LoadOptions& options = {});

  const HParams& hparams() const { return hparams_; }
  const ModelWeights& weights() const { return weights_; }
  const gguf::GgufFile& file() const { return *file_; }
  const tokenizer::Tokenizer& tokenizer() const { return *tokenizer_; }
  const ArchDef& arch() const { return *arch_; }
  // Bytes of tensor data in the file (what one full pass over the weights reads, at most).
  uint64_t tensor_bytes() const { return tensor_bytes_; }
  // Bytes held by repacked weight copies (0 when nothing was packed).
  uint64_t packed_bytes() const { return packed_bytes_; }
  // Bytes of weights one generated token reads: every layer matrix and the output matrix
  // (token_embd counts only when it doubles as the output).
  uint64_t bytes_per_token() const { return bytes_per_token_; }
  // Whether the model is an encoder that produces embeddings rather than next tokens.
  bool is_embedding_model() const { return !weights_.output.present(); }

 private:
  Model() = default;
  void PackWeights(int n_threads);

  std::unique_ptr<gguf::GgufFile> file_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  const ArchDef* arch_ = nullptr;
  HParams hparams_;
  ModelWeights weights_;
  std::vector<std::unique_ptr<kernels::PackedWeights>> packed_;  // what Weight::packed points to
  uint64_t packed_bytes_ = 0;
  uint64_t tensor_bytes_ = 0;
  uint64_t bytes_per_token_ = 0;
};

}  // namespace corral::engine
