// gemma3: embeddings × √n_embd, RMSNorm weights already stored as (1 + w), Q/K RMSNorm per head
// before RoPE, post-attention and post-FFN norms, GeGLU (tanh GELU), NEOX RoPE, head size from
// key_length, tied output. Five of every six layers attend through a sliding window and rotate
// with base 10000 and no scaling; the others use rope.freq_base and the file's scaling.
// Files written by Ollama's own converter differ (engine.md §8) and are translated here.
#include <cmath>

#include "engine/arch/registry.h"

namespace corral::engine {
namespace {

constexpr int64_t kSwaPattern = 6;

// Ollama-converted files carry keys llama.cpp's converter never writes.
bool IsOllamaGemma3(const gguf::GgufFile& file) {
  return file.Find("gemma3.mm.tokens_per_image") != nullptr ||
         file.Find("gemma3.rope.global.freq_base") != nullptr ||
         file.Find("gemma3.rope.local.freq_base") != nullptr ||
         file.Find("tokenizer.ggml.add_padding_token") != nullptr ||
         file.Find("tokenizer.ggml.add_unknown_token") != nullptr ||
         file.Find("gemma3.attention.layer_norm_rms_epsilon") == nullptr;
}

Result<HParams> ReadGemma3(const gguf::GgufFile& file) {
  MetadataReader md(file, "gemma3");
  ASSIGN_OR_RETURN(HParams hp, ReadCommonHParams(file, "gemma3", NormKind::kRms));
  hp.rope_mode = kernels::RopeMode::kNeox;
  hp.ffn_activation = FfnActivation::kGeluTanh;
  hp.embed_scale = std::sqrt(static_cast<float>(hp.n_embd));
  ASSIGN_OR_RETURN(hp.norm_eps, md.Float("attention.layer_norm_rms_epsilon", 1e-6f));
  ASSIGN_OR_RETURN(hp.rope_freq_base, md.Float("rope.freq_base", 1e6f));
  hp.rope_freq_base_swa = 10000.0f;
  if (IsOllamaGemma3(file)) {
    ASSIGN_OR_RETURN(hp.rope_freq_base, md.Float("rope.global.freq_base", hp.rope_freq_base));
    ASSIGN_OR_RETURN(hp.rope_freq_base_swa, md.Float("rope.local.freq_base", 10000.0f));
    bool has_scaling = md.Has("rope.scaling.type") || md.Has("rope.scaling.factor");
    // The 4B/12B/27B files miss their linear scaling factor 8 (the 1B has a 32k context).
    if (!has_scaling && hp.n_ctx_train >= 131072) hp.rope_freq_scale = 1.0f / 8.0f;
  }
  ASSIGN_OR_RETURN(hp.final_softcap, md.Float("final_logit_softcapping", 0.0f));
  // Old Ollama gemma3 1B files (26 layers) wrongly carry a final soft-cap of 30.
  if (IsOllamaGemma3(file) && hp.n_layer == 26) hp.final_softcap = 0.0f;
  ASSIGN_OR_RETURN(hp.sliding_window, md.Count("attention.sliding_window", 1 << 24, 0));
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    hp.layer_swa[il] = hp.sliding_window > 0 && il % kSwaPattern < kSwaPattern - 1;
  }
  // The 27B scales queries by 1/√(n_embd / n_head), the others by 1/√head_dim.
  if (hp.n_layer == 62) hp.attn_scale = 1.0f / std::sqrt(static_cast<float>(hp.n_embd / hp.n_head));
  return hp;
}

Status BindGemma3(const WeightBinder& binder, const HParams& hp, ModelWeights* weights) {
  return BindDecoder(binder, hp, DecoderLayout{.qk_norm = true, .post_norms = true}, weights);
}

}  // namespace

const ArchDef kGemma3Arch = {"gemma3", ReadGemma3, BindGemma3};

}  // namespace corral::engine
