#include "engine/arch/registry.h"

#include <array>

namespace corral::engine {
namespace {

constexpr std::array<const ArchDef*, 7> kArchitectures = {
    &kLlamaArch, &kQwen2Arch, &kQwen3Arch, &kGemma3Arch, &kPhi3Arch, &kBertArch, &kNomicBertArch,
};

}  // namespace

std::span<const ArchDef* const> Architectures() { return kArchitectures; }

const ArchDef* FindArch(std::string_view name) {
  for (const ArchDef* arch : kArchitectures) {
    if (arch->name == name) return arch;
  }
  return nullptr;
}

Status BindDecoder(const WeightBinder& b, const HParams& hp, const DecoderLayout& layout,
                   ModelWeights* w) {
  const int64_t n_embd = hp.n_embd;
  ASSIGN_OR_RETURN(w->token_embd, b.Matrix("token_embd.weight", n_embd, hp.n_vocab, true));
  ASSIGN_OR_RETURN(w->output_norm, b.OptionalVec("output_norm.weight", n_embd));
  ASSIGN_OR_RETURN(w->output_norm_b, b.OptionalVec("output_norm.bias", n_embd));
  if (hp.pooling == PoolingType::kNone) {
    if (b.Has("output.weight")) {
      ASSIGN_OR_RETURN(w->output, b.Matrix("output.weight", n_embd, hp.n_vocab));
    } else {
      // Tied embeddings: the output projection is token_embd itself, which then needs a dot
      // kernel too, not only a row reader.
      ASSIGN_OR_RETURN(w->output, b.Matrix("token_embd.weight", n_embd, hp.n_vocab));
    }
    if (!w->output_norm.present())
      return NotFoundError("model is missing tensor 'output_norm.weight'");
  }
  if (hp.n_rot > 0) {
    ASSIGN_OR_RETURN(w->rope_freqs, b.OptionalVec("rope_freqs.weight", hp.n_rot / 2));
  }

  const int64_t q_dim = hp.q_dim(), k_dim = hp.k_dim(), v_dim = hp.v_dim();
  const int64_t attn_out = hp.n_head * hp.head_dim_v;
  w->layers.resize(hp.n_layer);
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    LayerWeights& l = w->layers[il];
    auto name = [il](std::string_view n) { return LayerTensor(il, n); };
    if (layout.post_layer_norms) {
      ASSIGN_OR_RETURN(l.attn_out_norm, b.Vec(name("attn_output_norm.weight"), n_embd));
      ASSIGN_OR_RETURN(l.attn_out_norm_b, b.OptionalVec(name("attn_output_norm.bias"), n_embd));
      ASSIGN_OR_RETURN(l.layer_out_norm, b.Vec(name("layer_output_norm.weight"), n_embd));
      ASSIGN_OR_RETURN(l.layer_out_norm_b, b.OptionalVec(name("layer_output_norm.bias"), n_embd));
    } else {
      ASSIGN_OR_RETURN(l.attn_norm, b.Vec(name("attn_norm.weight"), n_embd));
      ASSIGN_OR_RETURN(l.attn_norm_b, b.OptionalVec(name("attn_norm.bias"), n_embd));
      ASSIGN_OR_RETURN(l.ffn_norm, b.Vec(name("ffn_norm.weight"), n_embd));
      ASSIGN_OR_RETURN(l.ffn_norm_b, b.OptionalVec(name("ffn_norm.bias"), n_embd));
    }
    if (layout.fused_qkv) {
      ASSIGN_OR_RETURN(l.wqkv, b.Matrix(name("attn_qkv.weight"), n_embd, q_dim + k_dim + v_dim));
      ASSIGN_OR_RETURN(l.bqkv, b.OptionalVec(name("attn_qkv.bias"), q_dim + k_dim + v_dim));
    } else {
      ASSIGN_OR_RETURN(l.wq, b.Matrix(name("attn_q.weight"), n_embd, q_dim));
      ASSIGN_OR_RETURN(l.wk, b.Matrix(name("attn_k.weight"), n_embd, k_dim));
      ASSIGN_OR_RETURN(l.wv, b.Matrix(name("attn_v.weight"), n_embd, v_dim));
      // Biases: required where the architecture always has them (qwen2), else optional.
      auto bias = [&](std::string_view n, int64_t size) {
        return layout.qkv_bias ? b.Vec(name(n), size) : b.OptionalVec(name(n), size);
      };
      ASSIGN_OR_RETURN(l.bq, bias("attn_q.bias", q_dim));
      ASSIGN_OR_RETURN(l.bk, bias("attn_k.bias", k_dim));
      ASSIGN_OR_RETURN(l.bv, bias("attn_v.bias", v_dim));
    }
    if (layout.qk_norm) {
      ASSIGN_OR_RETURN(l.q_norm, b.Vec(name("attn_q_norm.weight"), hp.head_dim_k));
      ASSIGN_OR_RETURN(l.k_norm, b.Vec(name("attn_k_norm.weight"), hp.head_dim_k));
    }
    ASSIGN_OR_RETURN(l.wo, b.Matrix(name("attn_output.weight"), attn_out, n_embd));
    ASSIGN_OR_RETURN(l.bo, b.OptionalVec(name("attn_output.bias"), n_embd));
    if (layout.post_norms) {
      ASSIGN_OR_RETURN(l.post_attn_norm, b.Vec(name("post_attention_norm.weight"), n_embd));
      ASSIGN_OR_RETURN(l.post_ffw_norm, b.Vec(name("post_ffw_norm.weight"), n_embd));
    }
    if (layout.fused_gate_up) {
      ASSIGN_OR_RETURN(l.up, b.Matrix(name("ffn_up.weight"), n_embd, 2 * hp.n_ff));
    } else {
      if (!layout.ungated_ffn) {
        ASSIGN_OR_RETURN(l.gate, b.Matrix(name("ffn_gate.weight"), n_embd, hp.n_ff));
        ASSIGN_OR_RETURN(l.b_gate, b.OptionalVec(name("ffn_gate.bias"), hp.n_ff));
      }
      ASSIGN_OR_RETURN(l.up, b.Matrix(name("ffn_up.weight"), n_embd, hp.n_ff));
      ASSIGN_OR_RETURN(l.b_up, b.OptionalVec(name("ffn_up.bias"), hp.n_ff));
    }
    ASSIGN_OR_RETURN(l.down, b.Matrix(name("ffn_down.weight"), hp.n_ff, n_embd));
    ASSIGN_OR_RETURN(l.b_down, b.OptionalVec(name("ffn_down.bias"), n_embd));
  }
  return Status::Ok();
}

}  // namespace corral::engine
