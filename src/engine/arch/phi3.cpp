// phi3: Phi-3 / Phi-3.5 mini, Phi-4-mini. Fused attn_qkv (Q rows, then K, then V), fused ffn_up
// (gate half, then up half; SwiGLU), NEOX RoPE, Q scaled by 1/√head_dim.
#include "engine/arch/registry.h"

namespace corral::engine {
namespace {

Result<HParams> ReadPhi3(const gguf::GgufFile& file) {
  ASSIGN_OR_RETURN(HParams hp, ReadCommonHParams(file, "phi3", NormKind::kRms));
  hp.rope_mode = kernels::RopeMode::kNeox;
  return hp;
}

Status BindPhi3(const WeightBinder& binder, const HParams& hp, ModelWeights* weights) {
  // LongRoPE (the 128k variants) rescales frequencies per pair and the attention magnitude;
  // running such a file with plain RoPE would silently degrade it, so refuse it for now.
  if (binder.Has("rope_factors_long.weight") || binder.Has("rope_factors_short.weight")) {
    return UnsupportedError(
        "phi3 with LongRoPE factors (128k context variants) is not supported yet");
  }
  return BindDecoder(binder, hp, DecoderLayout{.fused_qkv = true, .fused_gate_up = true}, weights);
}

}  // namespace

const ArchDef kPhi3Arch = {"phi3", ReadPhi3, BindPhi3};

}  // namespace corral::engine
