// Random-weight GGUF models for every architecture the engine runs (llama, qwen2, qwen3,
// gemma3, phi3, bert, nomic-bert), written by our own GGUF writer with a tokenizer synthesized
// here (model_vocab.h), so tests can compare the engine with llama.cpp on any architecture and
// file type without downloading a model, and `make bench` can run models of real shapes.
//
// The weights are scaled so the outputs are neither flat nor one-hot: projections have standard
// deviation 1/sqrt(fan_in) (activations keep their scale through every layer), norm weights are
// near 1, biases small, and the output matrix gives logits of standard deviation `logit_scale`.
// Everything is deterministic for a spec (same seed, same bytes).
//
// Usage:
//   ModelSpec spec = *TinySpec("qwen3");
//   Result<std::string> path = MakeModel(spec, quantize::FileType::kQ4_K_M, "/tmp/models");
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "gguf/ggml_type.h"
#include "quantize/recipe.h"

namespace corral::modelgen {

struct ModelSpec {
  std::string arch = "llama";  // general.architecture
  std::string name;            // general.name (default "corral-random-<arch>")
  int n_vocab = 1024;
  int n_embd = 256;
  int n_layer = 2;
  int n_head = 4;
  int n_head_kv = 2;
  int n_ff = 512;
  int head_dim = 0;  // 0: n_embd / n_head
  int n_ctx_train = 2048;
  bool tied_output = false;  // no output.weight: token_embd is the output matrix too
  // Tokenizer: "llama" (SPM), "gpt2" (byte-level BPE with `bpe_pre`), "bert" (WordPiece) or
  // "chars" (SPM of single ASCII characters, n_vocab = kCharVocabSize); empty picks the
  // architecture's usual one.
  std::string tokenizer;
  std::string bpe_pre;  // empty: "qwen2" for qwen archs, else "llama-bpe"
  float rope_freq_base = 10000.0f;
  // llama: add rope_freqs.weight with Llama 3.x's "llama3" scaling (factor 32, low 1, high 4,
  // original context 8192, as in Llama-3.2-1B).
  bool llama3_rope_freqs = false;
  float norm_eps = 1e-5f;    // RMS or LayerNorm epsilon
  int sliding_window = 512;  // gemma3
  int pooling_type = 1;      // bert / nomic-bert: 1 mean, 2 CLS
  uint32_t seed = 1;

  // Weight scales.
  float embd_std = 1.0f;     // token_embd when untied (tied: logit_scale / sqrt(n_embd))
  float logit_scale = 3.0f;  // standard deviation of the logits the output matrix gives
  float proj_gain = 1.0f;    // projections: proj_gain / sqrt(fan_in)
  float norm_jitter = 0.1f;  // norm weights uniform in 1 ± norm_jitter
  float bias_std = 0.02f;    // biases (and LayerNorm biases)
  // gemma3 post_attention_norm / post_ffw_norm weights (0: sqrt(n_embd) / 2); see the .cpp.
  float post_norm_gain = 0;
  // Type of the matrices in the file WriteRandomModel writes: kF32, or kF16 for models too big
  // to write twice in F32. Norms, biases and rope_freqs are always F32.
  gguf::GgmlType base_type = gguf::GgmlType::kF32;

  int HeadDim() const { return head_dim > 0 ? head_dim : n_embd / n_head; }
};

// The architectures the factory knows, and presets for them.
const std::vector<std::string>& SupportedArchitectures();

// A small model of `arch` that llama.cpp runs in milliseconds: n_embd 256, 2 layers, 4 heads,
// vocabulary 1024. Every row length (256, 512) is a multiple of 256, so K-quant file types
// quantize every matrix with the K type itself (no fallback). qwen3 uses head_dim 128 (so its
// q/k/v widths differ from n_embd, as in real Qwen3); gemma3 and qwen3 have Q/K norms.
Result<ModelSpec> TinySpec(std::string_view arch);
// Shapes of real models (F16 base): Llama-3.2-1B (llama-bpe vocabulary of 128256, tied output,
// rope_freqs) and Qwen2.5-0.5B (qwen2 vocabulary of 151936, tied output, q/k/v biases;
// n_embd 896 is not a multiple of 256, so K-quant types take llama.cpp's fallbacks there).
ModelSpec Llama32_1BSpec();
ModelSpec Qwen25_05BSpec();
// "llama32-1b", "qwen25-05b" or "tiny-<arch>"; the error lists the names.
Result<ModelSpec> PresetSpec(std::string_view preset);
std::string PresetNames();

// Checks a spec's dimensions before anything is written.
Status ValidateSpec(const ModelSpec& spec);

// Writes the model with matrices of spec.base_type (general.file_type 0 or 1).
Status WriteRandomModel(const ModelSpec& spec, const std::string& path);

// Writes the model as `file_type`: the base file directly where it already is that type,
// otherwise a temporary base file beside `path` converted with quantize::QuantizeModel (which
// applies llama.cpp's per-tensor recipe) and removed. `n_threads` 0 uses every core.
Status MakeModelFile(const ModelSpec& spec, quantize::FileType file_type, const std::string& path,
                     int n_threads = 0);

// MakeModelFile into `dir` (created if needed) as "<name>-<TYPE>.gguf"; returns the path.
Result<std::string> MakeModel(const ModelSpec& spec, quantize::FileType file_type,
                              const std::string& dir, int n_threads = 0);

}  // namespace corral::modelgen
