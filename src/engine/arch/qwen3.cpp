// qwen3: no q/k/v biases, a per-head RMSNorm on Q and K after the projection and before RoPE,
// NEOX RoPE, head size from attention.key_length (128, not n_embd / n_head).
#include "engine/arch/registry.h"

namespace corral::engine {
namespace {

Result<HParams> ReadQwen3(const gguf::GgufFile& file) {
  ASSIGN_OR_RETURN(HParams hp, ReadCommonHParams(file, "qwen3", NormKind::kRms));
  hp.rope_mode = kernels::RopeMode::kNeox;
  return hp;
}

Status BindQwen3(const WeightBinder& binder, const HParams& hp, ModelWeights* weights) {
  return BindDecoder(binder, hp, DecoderLayout{.qk_norm = true}, weights);
}

}  // namespace

const ArchDef kQwen3Arch = {"qwen3", ReadQwen3, BindQwen3};

}  // namespace corral::engine
