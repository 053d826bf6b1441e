#include "quantize/recipe.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace corral::quantize {
namespace {

using gguf::GgmlType;

// The tensors of a llama-style model with `n_layer` blocks, width `n_embd`, FFN `n_ff`.
std::vector<TensorShape> LlamaTensors(int n_layer, uint64_t n_embd, uint64_t n_ff, bool tied) {
  std::vector<TensorShape> t;
  t.push_back({"token_embd.weight", GgmlType::kF16, 2, n_embd});
  t.push_back({"output_norm.weight", GgmlType::kF32, 1, n_embd});
  if (!tied) t.push_back({"output.weight", GgmlType::kF16, 2, n_embd});
  for (int i = 0; i < n_layer; ++i) {
    std::string p = "blk." + std::to_string(i) + ".";
    for (const char* name : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up"}) {
      t.push_back({p + name + ".weight", GgmlType::kF16, 2, n_embd});
    }
    t.push_back({p + "ffn_down.weight", GgmlType::kF16, 2, n_ff});
    t.push_back({p + "attn_norm.weight", GgmlType::kF32, 1, n_embd});
    t.push_back({p + "ffn_norm.weight", GgmlType::kF32, 1, n_embd});
  }
  return t;
}

std::map<std::string, GgmlType> Plan(FileType ft, std::vector<TensorShape> tensors,
                                     ModelFacts facts) {
  SortLikeLlamaCpp(&tensors);
  Recipe recipe(ft, facts, tensors);
  std::map<std::string, GgmlType> out;
  for (const TensorShape& t : tensors) out[t.name] = recipe.Next(t);
  return out;
}

ModelFacts Llama(uint32_t n_layer) { return {"llama", n_layer, 32, 8, 0}; }

// Layers with more bits for n = 32, worked out from use_more_bits: i < 4, i >= 28, and
// (i - 4) % 3 == 2.
const std::set<int> kMoreBits32 = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31};

TEST(RecipeTest, Q4KMOnA32LayerModel) {
  auto plan = Plan(FileType::kQ4_K_M, LlamaTensors(32, 4096, 14336, false), Llama(32));
  EXPECT_EQ(plan["output.weight"], GgmlType::kQ6_K);
  EXPECT_EQ(plan["token_embd.weight"], GgmlType::kQ4_K);
  EXPECT_EQ(plan["output_norm.weight"], GgmlType::kF32);
  for (int i = 0; i < 32; ++i) {
    std::string p = "blk." + std::to_string(i) + ".";
    GgmlType more = kMoreBits32.count(i) ? GgmlType::kQ6_K : GgmlType::kQ4_K;
    EXPECT_EQ(plan[p + "attn_v.weight"], more) << i;
    EXPECT_EQ(plan[p + "ffn_down.weight"], more) << i;
    EXPECT_EQ(plan[p + "attn_q.weight"], GgmlType::kQ4_K);
    EXPECT_EQ(plan[p + "attn_k.weight"], GgmlType::kQ4_K);
    EXPECT_EQ(plan[p + "attn_output.weight"], GgmlType::kQ4_K);
    EXPECT_EQ(plan[p + "ffn_gate.weight"], GgmlType::kQ4_K);
    EXPECT_EQ(plan[p + "ffn_up.weight"], GgmlType::kQ4_K);
    EXPECT_EQ(plan[p + "attn_norm.weight"], GgmlType::kF32);
  }
}

TEST(RecipeTest, Llama32_3BLayersFromEngineNotes) {
  // engine.md §3.5: Llama 3.2 3B (28 layers, tied embeddings) gets Q6_K attn_v/ffn_down on
  // layers {0,1,2,5,8,11,14,17,20,23,24,25,26,27} and a Q6_K token_embd.
  const std::set<int> more = {0, 1, 2, 5, 8, 11, 14, 17, 20, 23, 24, 25, 26, 27};
  auto plan = Plan(FileType::kQ4_K_M, LlamaTensors(28, 3072, 8192, true), {"llama", 28, 24, 8, 0});
  EXPECT_EQ(plan["token_embd.weight"], GgmlType::kQ6_K);
  for (int i = 0; i < 28; ++i) {
    std::string p = "blk." + std::to_string(i) + ".";
    GgmlType want = more.count(i) ? GgmlType::kQ6_K : GgmlType::kQ4_K;
    EXPECT_EQ(plan[p + "attn_v.weight"], want) << i;
    EXPECT_EQ(plan[p + "ffn_down.weight"], want) << i;
  }
}

TEST(RecipeTest, LayerOrderIsNumericNotLexicographic) {
  std::vector<TensorShape> t = {{"blk.10.attn_v.weight", GgmlType::kF16, 2, 256},
                                {"blk.2.attn_v.weight", GgmlType::kF16, 2, 256},
                                {"output.weight", GgmlType::kF16, 2, 256},
                                {"blk.1.attn_v.weight", GgmlType::kF16, 2, 256}};
  SortLikeLlamaCpp(&t);
  EXPECT_EQ(t[0].name, "output.weight");
  EXPECT_EQ(t[1].name, "blk.1.attn_v.weight");
  EXPECT_EQ(t[2].name, "blk.2.attn_v.weight");
  EXPECT_EQ(t[3].name, "blk.10.attn_v.weight");
}

TEST(RecipeTest, RowsThatDoNotDivideFallBack) {
  // Qwen2.5-0.5B: n_embd 896 = 3.5 x 256, ffn 4864 = 19 x 256 (engine.md §3.5).
  auto plan = Plan(FileType::kQ4_K_M, LlamaTensors(24, 896, 4864, true), {"qwen2", 24, 14, 2, 0});
  EXPECT_EQ(plan["blk.5.attn_q.weight"], GgmlType::kQ5_0);    // Q4_K -> Q5_0
  EXPECT_EQ(plan["blk.0.attn_v.weight"], GgmlType::kQ8_0);    // Q6_K -> Q8_0
  EXPECT_EQ(plan["blk.6.ffn_down.weight"], GgmlType::kQ4_K);  // 4864 divides
  EXPECT_EQ(plan["blk.5.ffn_down.weight"], GgmlType::kQ6_K);  // (5 - 24/8) % 3 == 2
  EXPECT_EQ(plan["blk.0.ffn_down.weight"], GgmlType::kQ6_K);
  EXPECT_EQ(plan["token_embd.weight"], GgmlType::kQ8_0);  // tied output rule, 896 % 256
  // A row that does not even divide into 32 ends at F16.
  Recipe r(FileType::kQ4_K_M, Llama(1), {});
  EXPECT_EQ(r.Next({"blk.0.ffn_gate.weight", GgmlType::kF32, 2, 172}), GgmlType::kF16);
  EXPECT_EQ(r.n_fallback(), 1);
}

TEST(RecipeTest, Q3KMAndQ5KM) {
  auto q3 = Plan(FileType::kQ3_K_M, LlamaTensors(32, 4096, 14336, false), Llama(32));
  EXPECT_EQ(q3["blk.0.attn_v.weight"], GgmlType::kQ5_K);
  EXPECT_EQ(q3["blk.1.attn_v.weight"], GgmlType::kQ5_K);
  EXPECT_EQ(q3["blk.2.attn_v.weight"], GgmlType::kQ4_K);
  EXPECT_EQ(q3["blk.7.attn_output.weight"], GgmlType::kQ4_K);
  EXPECT_EQ(q3["blk.1.ffn_down.weight"], GgmlType::kQ5_K);  // 1 < 32/16
  EXPECT_EQ(q3["blk.2.ffn_down.weight"], GgmlType::kQ4_K);
  EXPECT_EQ(q3["blk.7.attn_q.weight"], GgmlType::kQ3_K);
  EXPECT_EQ(q3["output.weight"], GgmlType::kQ6_K);

  auto q5 = Plan(FileType::kQ5_K_M, LlamaTensors(32, 4096, 14336, false), Llama(32));
  EXPECT_EQ(q5["blk.6.attn_v.weight"], GgmlType::kQ6_K);
  EXPECT_EQ(q5["blk.7.attn_v.weight"], GgmlType::kQ5_K);
  EXPECT_EQ(q5["blk.7.ffn_gate.weight"], GgmlType::kQ5_K);
}

TEST(RecipeTest, PlainTypesAndFloats) {
  auto q8 = Plan(FileType::kQ8_0, LlamaTensors(4, 256, 512, false), Llama(4));
  EXPECT_EQ(q8["output.weight"], GgmlType::kQ8_0);  // Q8_0 output stays Q8_0
  EXPECT_EQ(q8["blk.0.attn_v.weight"], GgmlType::kQ8_0);
  auto q4 = Plan(FileType::kQ4_0, LlamaTensors(4, 256, 512, false), Llama(4));
  EXPECT_EQ(q4["output.weight"], GgmlType::kQ6_K);  // llama.cpp gives Q4_0 files a Q6_K output
  EXPECT_EQ(q4["blk.0.ffn_down.weight"], GgmlType::kQ4_0);
  auto f16 = Plan(FileType::kF16, LlamaTensors(4, 256, 512, false), Llama(4));
  EXPECT_EQ(f16["output.weight"], GgmlType::kF16);
  EXPECT_EQ(f16["blk.0.attn_norm.weight"], GgmlType::kF32);
}

TEST(RecipeTest, WhatIsNeverQuantized) {
  EXPECT_FALSE(
      Recipe::AllowsQuantization("llama", {"blk.0.attn_norm.weight", GgmlType::kF32, 2, 64}));
  EXPECT_FALSE(Recipe::AllowsQuantization("llama", {"blk.0.attn_q.bias", GgmlType::kF32, 2, 64}));
  EXPECT_FALSE(Recipe::AllowsQuantization("llama", {"rope_freqs.weight", GgmlType::kF32, 1, 64}));
  EXPECT_FALSE(Recipe::AllowsQuantization("bert", {"token_types.weight", GgmlType::kF32, 2, 64}));
  EXPECT_FALSE(Recipe::AllowsQuantization("bert", {"position_embd.weight", GgmlType::kF32, 2, 64}));
  EXPECT_TRUE(Recipe::AllowsQuantization("llama", {"blk.0.attn_q.weight", GgmlType::kF32, 2, 64}));
}

TEST(RecipeTest, FileTypeNames) {
  EXPECT_EQ(FileTypeFromName("q4_K_M"), FileType::kQ4_K_M);
  EXPECT_EQ(FileTypeFromName("Q4_K_M"), FileType::kQ4_K_M);
  EXPECT_EQ(FileTypeFromName("iq4_xs"), FileType::kIQ4_XS);
  EXPECT_EQ(FileTypeFromName("bf16"), FileType::kBF16);
  EXPECT_EQ(FileTypeFromName("q4_k_x"), std::nullopt);
  EXPECT_EQ(FileTypeName(FileType::kQ5_K_S), "Q5_K_S");
  EXPECT_EQ(static_cast<uint32_t>(FileType::kQ4_K_M), 15u);
}

}  // namespace
}  // namespace corral::quantize
