#include "quantize/recipe.h"

#include <algorithm>
#include <cstdio>

#include "base/strings.h"

namespace corral::quantize {
namespace {

using gguf::GgmlType;

struct FileTypeName_ {
  FileType type;
  std::string_view name;
  GgmlType default_type;
};

constexpr FileTypeName_ kFileTypes[] = {
    {FileType::kAllF32, "F32", GgmlType::kF32},
    {FileType::kF16, "F16", GgmlType::kF16},
    {FileType::kBF16, "BF16", GgmlType::kBF16},
    {FileType::kQ4_0, "Q4_0", GgmlType::kQ4_0},
    {FileType::kQ4_1, "Q4_1", GgmlType::kQ4_1},
    {FileType::kQ5_0, "Q5_0", GgmlType::kQ5_0},
    {FileType::kQ5_1, "Q5_1", GgmlType::kQ5_1},
    {FileType::kQ8_0, "Q8_0", GgmlType::kQ8_0},
    {FileType::kQ2_K, "Q2_K", GgmlType::kQ2_K},
    {FileType::kQ3_K_S, "Q3_K_S", GgmlType::kQ3_K},
    {FileType::kQ3_K_M, "Q3_K_M", GgmlType::kQ3_K},
    {FileType::kQ3_K_L, "Q3_K_L", GgmlType::kQ3_K},
    {FileType::kQ4_K_S, "Q4_K_S", GgmlType::kQ4_K},
    {FileType::kQ4_K_M, "Q4_K_M", GgmlType::kQ4_K},
    {FileType::kQ5_K_S, "Q5_K_S", GgmlType::kQ5_K},
    {FileType::kQ5_K_M, "Q5_K_M", GgmlType::kQ5_K},
    {FileType::kQ6_K, "Q6_K", GgmlType::kQ6_K},
    {FileType::kIQ4_NL, "IQ4_NL", GgmlType::kIQ4_NL},
    {FileType::kIQ4_XS, "IQ4_XS", GgmlType::kIQ4_XS},
};

enum class Category {
  kTokenEmbd,
  kAttnQ,
  kAttnK,
  kAttnV,
  kAttnQkv,
  kAttnKvB,
  kAttnOutput,
  kFfnUp,
  kFfnGate,
  kFfnDown,
  kOutput,
  kOther,
};

bool Contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

Category CategoryOf(std::string_view name) {
  if (name == "output.weight") return Category::kOutput;
  if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") {
    return Category::kTokenEmbd;
  }
  if (Contains(name, "attn_qkv.weight")) return Category::kAttnQkv;
  if (Contains(name, "attn_kv_b.weight")) return Category::kAttnKvB;
  if (Contains(name, "attn_v.weight")) return Category::kAttnV;
  if (Contains(name, "attn_k.weight")) return Category::kAttnK;
  if (Contains(name, "attn_q.weight")) return Category::kAttnQ;
  if (Contains(name, "attn_output.weight")) return Category::kAttnOutput;
  if (Contains(name, "ffn_up")) return Category::kFfnUp;
  if (Contains(name, "ffn_gate")) return Category::kFfnGate;
  if (Contains(name, "ffn_down")) return Category::kFfnDown;
  return Category::kOther;
}

bool IsAttnVLike(Category c) {
  return c == Category::kAttnV || c == Category::kAttnQkv || c == Category::kAttnKvB;
}

// llama.cpp's heuristic for which layers deserve more bits: the first and last eighth, and
// every third layer in between.
bool UseMoreBits(int i_layer, int n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

bool IsQuantizedType(GgmlType t) {
  return t != GgmlType::kF32 && t != GgmlType::kF16 && t != GgmlType::kBF16;
}

int LayerOf(std::string_view name) {
  int layer = -1;
  std::sscanf(std::string(name).c_str(), "blk.%d.", &layer);
  return layer;
}

}  // namespace

std::optional<FileType> FileTypeFromName(std::string_view name) {
  std::string lower = ToLower(name);
  for (const FileTypeName_& f : kFileTypes) {
    if (ToLower(f.name) == lower) return f.type;
  }
  return std::nullopt;
}

std::string_view FileTypeName(FileType type) {
  for (const FileTypeName_& f : kFileTypes) {
    if (f.type == type) return f.name;
  }
  return "?";
}

std::string FileTypeNames() {
  std::string out;
  for (const FileTypeName_& f : kFileTypes) {
    if (!out.empty()) out += ", ";
    out += ToLower(f.name);
  }
  return out;
}

GgmlType DefaultType(FileType type) {
  for (const FileTypeName_& f : kFileTypes) {
    if (f.type == type) return f.default_type;
  }
  return GgmlType::kF32;
}

void SortLikeLlamaCpp(std::vector<TensorShape>* tensors) {
  std::stable_sort(tensors->begin(), tensors->end(),
                   [](const TensorShape& a, const TensorShape& b) {
                     int la = LayerOf(a.name), lb = LayerOf(b.name);
                     if (la != lb) return la < lb;
                     return a.name < b.name;
                   });
}

Recipe::Recipe(FileType file_type, ModelFacts facts, const std::vector<TensorShape>& tensors)
    : file_type_(file_type), facts_(std::move(facts)) {
  for (const TensorShape& t : tensors) {
    Category c = CategoryOf(t.name);
    if (IsAttnVLike(c)) ++n_attention_wv_;
    if (c == Category::kOutput) has_tied_embeddings_ = false;
  }
  if (facts_.n_head_kv == 0) facts_.n_head_kv = facts_.n_head;
}

bool Recipe::AllowsQuantization(std::string_view arch, const TensorShape& t) {
  if (t.n_dims < 2) return false;
  std::string_view name = t.name;
  if (!EndsWith(name, "weight")) return false;
  static constexpr std::string_view kNever[] = {"_norm.weight",
                                                "ffn_gate_inp.weight",
                                                "ffn_gate_tid2eid.weight",
                                                "altup",
                                                "laurel",
                                                "per_layer_model_proj",
                                                "ssm_conv1d",
                                                "shortconv.conv.weight",
                                                "indexer.k_proj.weight",
                                                "indexer.q_proj.weight",
                                                "time_mix_first.weight",
                                                "time_mix_w0.weight",
                                                "time_mix_w1.weight",
                                                "time_mix_w2.weight",
                                                "time_mix_v0.weight",
                                                "time_mix_v1.weight",
                                                "time_mix_v2.weight",
                                                "time_mix_a0.weight",
                                                "time_mix_a1.weight",
                                                "time_mix_a2.weight",
                                                "time_mix_g1.weight",
                                                "time_mix_g2.weight",
                                                "time_mix_decay_w1.weight",
                                                "time_mix_decay_w2.weight",
                                                "time_mix_lerp_fused.weight",
                                                "attn_rel_b.weight",
                                                ".position_embd",
                                                "sam.pos_embd",
                                                "sam.neck.",
                                                "sam.net_",
                                                ".rel_pos",
                                                ".patch_embd",
                                                ".patch_merger",
                                                "a.rvq.codebook",
                                                "mm.a.code_embd"};
  for (std::string_view part : kNever) {
    if (Contains(name, part)) return false;
  }
  // Positional embeddings and BERT's token types stay as they are.
  (void)arch;
  if (name == "position_embd.weight" || name == "token_types.weight") return false;
  return true;
}

GgmlType Recipe::Next(const TensorShape& t) {
  if (!AllowsQuantization(facts_.architecture, t)) return t.type;
  GgmlType type = DefaultType(file_type_);
  if (!IsQuantizedType(type)) return type;  // F32/F16/BF16 files: every weight the same
  type = PerTensorType(type, t);
  return Fallback(type, t);
}

GgmlType Recipe::PerTensorType(GgmlType type, const TensorShape& t) {
  const Category category = CategoryOf(t.name);
  const bool falcon = facts_.architecture == "falcon";
  const FileType ft = file_type_;
  const int n_gqa = facts_.n_head_kv > 0 ? static_cast<int>(facts_.n_head / facts_.n_head_kv) : 1;
  const int n_expert = std::max<int>(1, static_cast<int>(facts_.n_expert));
  const int n_layer = static_cast<int>(facts_.n_layer);

  if (category == Category::kOutput || (has_tied_embeddings_ && category == Category::kTokenEmbd)) {
    uint32_t block = gguf::TypeInfo(type).block_size;
    if (falcon || t.ne0 % block != 0) return GgmlType::kQ8_0;
    if (type != GgmlType::kQ8_0) return GgmlType::kQ6_K;
    return type;
  }
  if (category == Category::kTokenEmbd) return type;

  if (IsAttnVLike(category)) {
    if (ft == FileType::kQ2_K) {
      type = n_gqa >= 4 ? GgmlType::kQ4_K : GgmlType::kQ3_K;
    } else if (ft == FileType::kQ3_K_M) {
      type = i_attention_wv_ < 2 ? GgmlType::kQ5_K : GgmlType::kQ4_K;
    } else if (ft == FileType::kQ3_K_L) {
      type = GgmlType::kQ5_K;
    } else if ((ft == FileType::kIQ4_NL || ft == FileType::kIQ4_XS) && n_gqa >= 4) {
      type = GgmlType::kQ5_K;
    } else if ((ft == FileType::kQ4_K_M || ft == FileType::kQ5_K_M) &&
               UseMoreBits(i_attention_wv_, n_attention_wv_)) {
      type = GgmlType::kQ6_K;
    } else if (ft == FileType::kQ4_K_S && i_attention_wv_ < 4) {
      type = GgmlType::kQ5_K;
    }
    // llama.cpp also bumps Q3_K/Q4_K to Q5_K for its "70B" model class, which it decides from
    // the layer count and width of known models; we do not guess model classes.
    if (facts_.n_expert == 8) type = GgmlType::kQ8_0;
    ++i_attention_wv_;
    return type;
  }
  if (category == Category::kAttnK) {
    return facts_.n_expert == 8 ? GgmlType::kQ8_0 : type;
  }
  if (category == Category::kFfnDown) {
    int i_layer = i_ffn_down_;
    if (n_expert > 1) i_layer = LayerOf(t.name);  // experts are not stored in layer order
    if (ft == FileType::kQ2_K) {
      type = GgmlType::kQ3_K;
    } else if (ft == FileType::kQ3_K_M) {
      type = i_layer < n_layer / 16                     ? GgmlType::kQ5_K
             : !falcon || UseMoreBits(i_layer, n_layer) ? GgmlType::kQ4_K
                                                        : GgmlType::kQ3_K;
    } else if (ft == FileType::kQ3_K_L) {
      type = falcon ? GgmlType::kQ4_K : GgmlType::kQ5_K;
    } else if (ft == FileType::kQ4_K_M) {
      if (falcon) {
        type = i_layer < n_layer / 16          ? GgmlType::kQ6_K
               : UseMoreBits(i_layer, n_layer) ? GgmlType::kQ5_K
                                               : GgmlType::kQ4_K;
      } else if (UseMoreBits(i_layer, n_layer)) {
        type = GgmlType::kQ6_K;
      }
    } else if (i_layer < n_layer / 8 && (ft == FileType::kIQ4_NL || ft == FileType::kIQ4_XS)) {
      type = GgmlType::kQ5_K;
    } else if (ft == FileType::kQ5_K_M && UseMoreBits(i_layer, n_layer)) {
      type = GgmlType::kQ6_K;
    } else if (ft == FileType::kQ4_K_S && !falcon && i_layer < n_layer / 8) {
      type = GgmlType::kQ5_K;
    }
    ++i_ffn_down_;
    return type;
  }
  if (category == Category::kAttnOutput) {
    if (!falcon) {
      if (facts_.n_expert == 8) {
        if (ft == FileType::kQ2_K || ft == FileType::kQ3_K_S || ft == FileType::kQ3_K_M ||
            ft == FileType::kIQ4_NL || ft == FileType::kQ4_K_S || ft == FileType::kQ4_K_M ||
            ft == FileType::kIQ4_XS) {
          type = GgmlType::kQ5_K;
        }
      } else if (ft == FileType::kQ2_K) {
        type = GgmlType::kQ3_K;
      } else if (ft == FileType::kQ3_K_M) {
        type = GgmlType::kQ4_K;
      } else if (ft == FileType::kQ3_K_L) {
        type = GgmlType::kQ5_K;
      }
    } else if (ft == FileType::kQ3_K_L) {
      type = GgmlType::kQ4_K;
    }
    return type;
  }
  return type;
}

GgmlType Recipe::Fallback(GgmlType type, const TensorShape& t) {
  uint32_t block = gguf::TypeInfo(type).block_size;
  if (t.ne0 % block == 0) return type;
  ++n_fallback_;
  GgmlType fallback;
  switch (type) {
    case GgmlType::kIQ4_XS:
      fallback = GgmlType::kIQ4_NL;
      break;
    case GgmlType::kQ2_K:
    case GgmlType::kQ3_K:
      fallback = GgmlType::kQ4_0;
      break;
    case GgmlType::kQ4_K:
      fallback = GgmlType::kQ5_0;
      break;
    case GgmlType::kQ5_K:
      fallback = GgmlType::kQ5_1;
      break;
    case GgmlType::kQ6_K:
      fallback = GgmlType::kQ8_0;
      break;
    default:
      fallback = type;
      break;
  }
  if (t.ne0 % gguf::TypeInfo(fallback).block_size != 0) fallback = GgmlType::kF16;
  return fallback;
}

}  // namespace corral::quantize
