// bert (all-MiniLM, bge, e5) and nomic-bert (nomic-embed-text): encoders for embeddings.
// Non-causal attention, LayerNorm after each residual add (post-norm), pooling from metadata.
//   bert:       token + token_types[0] + absolute position embeddings, LayerNorm; q/k/v with
//               biases, no RoPE; GELU FFN with biases.
//   nomic-bert: fused attn_qkv, NEOX RoPE instead of position embeddings, SwiGLU FFN.
#include "engine/arch/registry.h"

namespace corral::engine {
namespace {

Result<PoolingType> ReadPooling(const MetadataReader& md) {
  const gguf::Value* value = md.file().Find(md.Key("pooling_type"));
  if (value == nullptr) return PoolingType::kMean;
  std::optional<uint64_t> v = value->AsUint();
  switch (v.value_or(99)) {
    case 0:
    case 1:  // "none" still means one vector per input for an embedding request: mean
      return PoolingType::kMean;
    case 2:
      return PoolingType::kCls;
    case 3:
      return PoolingType::kLast;
    default:
      return UnsupportedError("'" + md.Key("pooling_type") + "' = " + value->ToDisplayString() +
                              " is not a pooling type we support (mean, cls, last)");
  }
}

Result<HParams> ReadEncoder(const gguf::GgufFile& file, const std::string& arch) {
  MetadataReader md(file, arch);
  ASSIGN_OR_RETURN(HParams hp, ReadCommonHParams(file, arch, NormKind::kLayer));
  ASSIGN_OR_RETURN(hp.causal, md.Bool("attention.causal", false));
  ASSIGN_OR_RETURN(hp.pooling, ReadPooling(md));
  return hp;
}

Status BindEmbeddingInputs(const WeightBinder& b, const HParams& hp, ModelWeights* w) {
  ASSIGN_OR_RETURN(w->token_types, b.OptionalMatrix("token_types.weight", hp.n_embd, -1));
  if (w->token_types.present() && w->token_types.n_rows < 1) {
    return CorruptionError("tensor 'token_types.weight' has no rows");
  }
  ASSIGN_OR_RETURN(w->token_embd_norm, b.Vec("token_embd_norm.weight", hp.n_embd));
  ASSIGN_OR_RETURN(w->token_embd_norm_b, b.OptionalVec("token_embd_norm.bias", hp.n_embd));
  return Status::Ok();
}

Result<HParams> ReadBert(const gguf::GgufFile& file) {
  ASSIGN_OR_RETURN(HParams hp, ReadEncoder(file, "bert"));
  hp.n_rot = 0;  // absolute position embeddings instead
  hp.ffn_activation = FfnActivation::kGeluTanh;
  return hp;
}

Status BindBert(const WeightBinder& b, const HParams& hp, ModelWeights* w) {
  RETURN_IF_ERROR(BindDecoder(
      b, hp, DecoderLayout{.qkv_bias = true, .ungated_ffn = true, .post_layer_norms = true}, w));
  RETURN_IF_ERROR(BindEmbeddingInputs(b, hp, w));
  ASSIGN_OR_RETURN(w->position_embd, b.Matrix("position_embd.weight", hp.n_embd, -1, true));
  return Status::Ok();
}

Result<HParams> ReadNomicBert(const gguf::GgufFile& file) {
  ASSIGN_OR_RETURN(HParams hp, ReadEncoder(file, "nomic-bert"));
  hp.rope_mode = kernels::RopeMode::kNeox;
  hp.ffn_activation = FfnActivation::kSilu;
  return hp;
}

Status BindNomicBert(const WeightBinder& b, const HParams& hp, ModelWeights* w) {
  RETURN_IF_ERROR(
      BindDecoder(b, hp, DecoderLayout{.fused_qkv = true, .post_layer_norms = true}, w));
  return BindEmbeddingInputs(b, hp, w);
}

}  // namespace

const ArchDef kBertArch = {"bert", ReadBert, BindBert};
const ArchDef kNomicBertArch = {"nomic-bert", ReadNomicBert, BindNomicBert};

}  // namespace corral::engine
