#include "tensor/vec_dot_ref.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "tensor/blocks.h"
#include "tensor/dequantize.h"
#include "tensor/quantize.h"
#include "tensor/tensor_test_util.h"

namespace corral::tensor {
namespace {

using gguf::GgmlType;
using testing::Gaussian;

TEST(TypeTraitsTest, PairsWeightsWithLlamaCppActivationTypes) {
  EXPECT_EQ(Traits(GgmlType::kF32).vec_dot_type, GgmlType::kF32);
  EXPECT_EQ(Traits(GgmlType::kF16).vec_dot_type, GgmlType::kF16);
  EXPECT_EQ(Traits(GgmlType::kBF16).vec_dot_type, GgmlType::kBF16);
  for (GgmlType t : {GgmlType::kQ4_0, GgmlType::kQ5_0, GgmlType::kQ8_0, GgmlType::kIQ4_NL}) {
    EXPECT_EQ(Traits(t).vec_dot_type, GgmlType::kQ8_0) << gguf::TypeInfo(t).name;
  }
  for (GgmlType t : {GgmlType::kQ4_1, GgmlType::kQ5_1}) {
    EXPECT_EQ(Traits(t).vec_dot_type, GgmlType::kQ8_1) << gguf::TypeInfo(t).name;
  }
  for (GgmlType t : {GgmlType::kQ2_K, GgmlType::kQ3_K, GgmlType::kQ4_K, GgmlType::kQ5_K,
                     GgmlType::kQ6_K, GgmlType::kIQ4_XS}) {
    EXPECT_EQ(Traits(t).vec_dot_type, GgmlType::kQ8_K) << gguf::TypeInfo(t).name;
  }
  EXPECT_TRUE(IsSupported(GgmlType::kQ4_K));
  EXPECT_TRUE(IsSupported(GgmlType::kBF16));
  EXPECT_FALSE(IsSupported(GgmlType::kQ8_K));  // activation-only
  EXPECT_FALSE(IsSupported(GgmlType::kQ8_1));
  EXPECT_FALSE(IsSupported(GgmlType::kIQ2_XXS));
  EXPECT_FALSE(IsSupported(GgmlType::kI32));
  EXPECT_FALSE(Traits(GgmlType::kMXFP4).can_dequantize);
  EXPECT_TRUE(Traits(GgmlType::kQ8_K).can_quantize);
  EXPECT_FALSE(Traits(GgmlType::kQ8_K).has_vec_dot);
}

// Hand-computed: weights 1..32 with d = 1, activations all 2 with d = 0.5: sum of j = 528.
TEST(VecDotRefTest, Q8_0HandBlock) {
  BlockQ8_0 w{}, a{};
  w.d = 0x3C00;
  a.d = 0x3800;
  for (int j = 0; j < 32; ++j) {
    w.qs[j] = static_cast<int8_t>(j + 1);
    a.qs[j] = 2;
  }
  EXPECT_EQ(VecDotRef(GgmlType::kQ8_0, &w, &a, 32), 528.0f);
}

// Hand-computed: Q4_1 weights nibble 3 everywhere (d = 0.5, m = -1 -> value 0.5), activations
// q = 1 everywhere with d = 2 and s = d * 32 = 64: 32 * 0.5 * 2 = 32, as 0.5 * 2 * 96 - 64.
TEST(VecDotRefTest, Q4_1HandBlockUsesActivationSum) {
  BlockQ4_1 w{};
  w.d = 0x3800;
  w.m = 0xBC00;
  std::memset(w.qs, 0x33, sizeof(w.qs));
  BlockQ8_1 a{};
  a.d = 0x4000;
  a.s = 0x5400;  // 64
  for (int j = 0; j < 32; ++j) a.qs[j] = 1;
  EXPECT_EQ(VecDotRef(GgmlType::kQ4_1, &w, &a, 32), 32.0f);
}

// Hand-computed Q4_K x Q8_K: d = 1, dmin = 0.5, sub-block 0 scale 2 / min 3, the rest
// scale 0 / min 0; every nibble 5; activations q = 1 (d = 0.25), bsums 16 each.
// Sub-block 0: values 2 * 5 - 0.5 * 3 = 8.5, 32 of them times 0.25 = 68.
TEST(VecDotRefTest, Q4_KHandBlock) {
  BlockQ4_K w{};
  w.d = 0x3C00;
  w.dmin = 0x3800;
  w.scales[0] = 2;  // scale of sub-block 0
  w.scales[4] = 3;  // min of sub-block 0
  std::memset(w.qs, 0x55, sizeof(w.qs));
  BlockQ8_K a{};
  a.d = 0.25f;
  for (int j = 0; j < 256; ++j) a.qs[j] = 1;
  for (int k = 0; k < 16; ++k) a.bsums[k] = 16;
  EXPECT_EQ(VecDotRef(GgmlType::kQ4_K, &w, &a, 256), 68.0f);
}

TEST(VecDotRefTest, FloatTypes) {
  const float x[4] = {1.0f, -2.0f, 0.5f, 4.0f};
  const float y[4] = {3.0f, 1.0f, -2.0f, 0.25f};
  EXPECT_EQ(VecDotRef(GgmlType::kF32, x, y, 4), 1.0f);  // 3 - 2 - 1 + 1
  const uint16_t hx[2] = {0x3C00, 0xC100};              // 1, -2.5
  const uint16_t hy[2] = {0x4000, 0x3800};              // 2, 0.5
  EXPECT_EQ(VecDotRef(GgmlType::kF16, hx, hy, 2), 0.75f);
  const uint16_t bx[2] = {0x3F80, 0xC020};  // 1, -2.5
  const uint16_t by[2] = {0x4000, 0x3F00};  // 2, 0.5
  EXPECT_EQ(VecDotRef(GgmlType::kBF16, bx, by, 2), 0.75f);
}

// Every weight type against the float dot of the dequantized rows (weight dequantized,
// activation quantized to the paired type then dequantized). Only float rounding separates
// the two, plus, for Q4_1 / Q5_1, the f16 rounding of the activation's stored d * sum(q):
// that term is bounded separately from the block contents.
class VecDotAgreementTest : public ::testing::TestWithParam<GgmlType> {};

TEST_P(VecDotAgreementTest, MatchesDequantizedFloatDot) {
  const GgmlType type = GetParam();
  const GgmlType act_type = Traits(type).vec_dot_type;
  const std::string name(gguf::TypeInfo(type).name);
  for (int64_t n : {256, 512, 1024, 4096}) {
    for (uint32_t seed : {1u, 2u, 3u}) {
      const std::vector<float> w = Gaussian(n, seed);
      const std::vector<float> a = Gaussian(n, seed + 100, 3.0f);
      std::vector<uint8_t> wq(testing::RowBytes(type, n));
      std::vector<uint8_t> aq(testing::RowBytes(act_type, n));
      QuantizeRow(type, w.data(), wq.data(), n);
      QuantizeRow(act_type, a.data(), aq.data(), n);
      std::vector<float> wd(n), ad(n);
      DequantizeRow(type, wq.data(), wd.data(), n);
      DequantizeRow(act_type, aq.data(), ad.data(), n);
      double want = 0, magnitude = 0;
      for (int64_t i = 0; i < n; ++i) {
        want += static_cast<double>(wd[i]) * ad[i];
        magnitude += std::fabs(static_cast<double>(wd[i]) * ad[i]);
      }
      double tolerance = 1e-5 * magnitude;
      if (act_type == GgmlType::kQ8_1) {
        // |m_w| * |s_a| * 2^-11 per block: the f16 rounding of s against d * sum(q).
        const auto* a8 = reinterpret_cast<const BlockQ8_1*>(aq.data());
        for (int64_t b = 0; b < n / 32; ++b) {
          uint16_t m_bits;
          std::memcpy(&m_bits, wq.data() + b * gguf::TypeInfo(type).type_size + 2, 2);
          float m, s;
          DequantizeRow(GgmlType::kF16, &m_bits, &m, 1);
          DequantizeRow(GgmlType::kF16, &a8[b].s, &s, 1);
          tolerance += std::fabs(static_cast<double>(m) * s) * 0x1p-11;
        }
      }
      const float got = VecDotRef(type, wq.data(), aq.data(), n);
      EXPECT_NEAR(got, want, tolerance) << name << " n=" << n << " seed=" << seed;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllWeightTypes, VecDotAgreementTest,
                         ::testing::Values(GgmlType::kF32, GgmlType::kF16, GgmlType::kBF16,
                                           GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0,
                                           GgmlType::kQ5_1, GgmlType::kQ8_0, GgmlType::kQ2_K,
                                           GgmlType::kQ3_K, GgmlType::kQ4_K, GgmlType::kQ5_K,
                                           GgmlType::kQ6_K, GgmlType::kIQ4_NL, GgmlType::kIQ4_XS),
                         [](const ::testing::TestParamInfo<GgmlType>& info) {
                           return std::string(gguf::TypeInfo(info.param).name);
                         });

// The dot product must see every block: corrupting the last weight block changes it.
TEST(VecDotRefTest, UsesEveryBlock) {
  const int64_t n = 512;
  const std::vector<float> w = Gaussian(n, 5);
  const std::vector<float> a = Gaussian(n, 6);
  std::vector<uint8_t> wq(testing::RowBytes(GgmlType::kQ6_K, n));
  std::vector<uint8_t> aq(testing::RowBytes(GgmlType::kQ8_K, n));
  QuantizeRow(GgmlType::kQ6_K, w.data(), wq.data(), n);
  QuantizeRow(GgmlType::kQ8_K, a.data(), aq.data(), n);
  const float before = VecDotRef(GgmlType::kQ6_K, wq.data(), aq.data(), n);
  wq[wq.size() - 3] ^= 0x40;  // a sub-block scale of the second block
  EXPECT_NE(VecDotRef(GgmlType::kQ6_K, wq.data(), aq.data(), n), before);
}

TEST(VecDotRefDeathTest, RejectsActivationOnlyTypesAndPartialBlocks) {
  BlockQ8_K a{}, b{};
  EXPECT_DEATH(VecDotRef(GgmlType::kQ8_K, &a, &b, 256), "no dot product for weight type q8_K");
  EXPECT_DEATH(VecDotRef(GgmlType::kQ4_0, &a, &b, 48), "whole number");
}

}  // namespace
}  // namespace corral::tensor
