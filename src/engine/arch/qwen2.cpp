// qwen2: Qwen2 / Qwen2.5. Llama-like, but q/k/v carry biases (attn_output does not), NEOX RoPE
// (q/k rows are not permuted by the converter), small sizes tie the output to token_embd.
#include "engine/arch/registry.h"

namespace corral::engine {
namespace {

Result<HParams> ReadQwen2(const gguf::GgufFile& file) {
  ASSIGN_OR_RETURN(HParams hp, ReadCommonHParams(file, "qwen2", NormKind::kRms));
  hp.rope_mode = kernels::RopeMode::kNeox;
  return hp;
}

Status BindQwen2(const WeightBinder& binder, const HParams& hp, ModelWeights* weights) {
  return BindDecoder(binder, hp, DecoderLayout{.qkv_bias = true}, weights);
}

}  // namespace

const ArchDef kQwen2Arch = {"qwen2", ReadQwen2, BindQwen2};

}  // namespace corral::engine
