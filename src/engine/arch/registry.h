// The table of supported architectures. Each architecture lives in its own file
// (arch/<name>.cpp) and contributes one ArchDef: how to read its hyperparameters and which
// tensors it binds. The forward pass is shared (forward.cpp) and driven by HParams and by which
// tensors are present, so adding an architecture means one new file and one line here.
#pragma once

#include <span>
#include <string_view>

#include "base/status.h"
#include "engine/hparams.h"
#include "engine/model.h"
#include "engine/weights.h"
#include "gguf/gguf_reader.h"

namespace corral::engine {

struct ArchDef {
  std::string_view name;  // general.architecture
  // Reads and adjusts the hyperparameters (ReadCommonHParams plus the architecture's own keys).
  Result<HParams> (*read_hparams)(const gguf::GgufFile& file);
  // Binds every tensor; n_vocab is already known (token_embd's rows).
  Status (*bind)(const WeightBinder& binder, const HParams& hp, ModelWeights* weights);
};

std::span<const ArchDef* const> Architectures();
const ArchDef* FindArch(std::string_view name);  // nullptr when unsupported

// Architecture definitions, one per file under arch/.
extern const ArchDef kLlamaArch;
extern const ArchDef kQwen2Arch;
extern const ArchDef kQwen3Arch;
extern const ArchDef kGemma3Arch;
extern const ArchDef kPhi3Arch;
extern const ArchDef kBertArch;
extern const ArchDef kNomicBertArch;

// Building blocks the architecture files share.
struct DecoderLayout {
  bool fused_qkv = false;         // attn_qkv instead of attn_q/k/v
  bool qkv_bias = false;          // biases required on q/k/v (qwen2); otherwise optional
  bool qk_norm = false;           // attn_q_norm / attn_k_norm required
  bool post_norms = false;        // post_attention_norm and post_ffw_norm required (gemma2/3)
  bool fused_gate_up = false;     // ffn_up holds gate‖up (phi3)
  bool ungated_ffn = false;       // ffn_up → activation → ffn_down, no ffn_gate (BERT)
  bool post_layer_norms = false;  // BERT: attn_output_norm, layer_output_norm (with biases)
};
// Binds token_embd, output_norm, output (tied when absent and the model has no encoder
// pooling), rope_freqs, and every layer's tensors per `layout`.
Status BindDecoder(const WeightBinder& binder, const HParams& hp, const DecoderLayout& layout,
                   ModelWeights* weights);

}  // namespace corral::engine
