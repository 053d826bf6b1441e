// llama: Llama 2 / 3 / 3.1 / 3.2, Mistral v0.1–0.3, TinyLlama, SmolLM, CodeLlama. Pre-RMSNorm,
// separate q/k/v (optional biases), "normal" RoPE (the converter permutes q/k rows for it),
// rope_freqs for llama3 scaling, SwiGLU, output tied to token_embd when absent.
#include "engine/arch/registry.h"

namespace corral::engine {
namespace {

Result<HParams> ReadLlama(const gguf::GgufFile& file) {
  ASSIGN_OR_RETURN(HParams hp, ReadCommonHParams(file, "llama", NormKind::kRms));
  hp.rope_mode = kernels::RopeMode::kNorm;
  hp.ffn_activation = FfnActivation::kSilu;
  return hp;
}

Status BindLlama(const WeightBinder& binder, const HParams& hp, ModelWeights* weights) {
  return BindDecoder(binder, hp, DecoderLayout{}, weights);
}

}  // namespace

const ArchDef kLlamaArch = {"llama", ReadLlama, BindLlama};

}  // namespace corral::engine
