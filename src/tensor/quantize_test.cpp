#include "tensor/quantize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "tensor/blocks.h"
#include "tensor/dequantize.h"
#include "tensor/tensor_test_util.h"
#include "tensor/vec_dot_ref.h"

namespace corral::tensor {
namespace {

using gguf::GgmlType;
using testing::Gaussian;
using testing::Rmse;

// --- Hand-computed blocks -------------------------------------------------------------------

TEST(QuantizeTest, Q4_0NegativeMaxAndTies) {
  float x[32] = {};
  // max |x| is x[5] = -8, so d = -8 / -8 = 1 and q = min(15, trunc(x + 8.5)).
  x[0] = 0.0f;    // 8
  x[1] = 0.5f;    // trunc(9.0) = 9: halves round up (toward +inf)
  x[2] = -0.5f;   // trunc(8.0) = 8: -0.5 rounds up to 0
  x[3] = 7.9f;    // trunc(16.4) = 16 -> clamped to 15
  x[4] = -7.6f;   // trunc(0.9) = 0
  x[5] = -8.0f;   // trunc(0.5) = 0
  x[6] = 3.49f;   // trunc(11.99) = 11
  x[7] = 1.5f;    // trunc(10.0) = 10
  x[16] = -1.5f;  // trunc(7.0) = 7
  x[31] = 2.2f;   // trunc(10.7) = 10
  BlockQ4_0 b;
  QuantizeRow(GgmlType::kQ4_0, x, &b, 32);
  EXPECT_EQ(b.d, 0x3C00);  // 1.0
  const int want[32] = {8, 9, 8, 15, 0, 0, 11, 10, 8, 8, 8, 8, 8, 8, 8, 8,
                        7, 8, 8, 8,  8, 8, 8,  8,  8, 8, 8, 8, 8, 8, 8, 10};
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(b.qs[j] & 15, want[j]) << j;
    EXPECT_EQ(b.qs[j] >> 4, want[j + 16]) << j;
  }
}

TEST(QuantizeTest, Q4_0PositiveMaxGivesNegativeScale) {
  float x[32] = {};
  x[3] = 4.0f;   // max: d = 4 / -8 = -0.5, id = -2
  x[4] = -1.0f;  // -1 * -2 + 8.5 = 10.5 -> 10
  x[5] = 1.0f;   // 1 * -2 + 8.5 = 6.5 -> 6
  BlockQ4_0 b;
  QuantizeRow(GgmlType::kQ4_0, x, &b, 32);
  EXPECT_EQ(b.d, 0xB800);      // -0.5
  EXPECT_EQ(b.qs[3] & 15, 0);  // 4 * -2 + 8.5 = 0.5 -> 0, decodes to (0 - 8) * -0.5 = 4
  EXPECT_EQ(b.qs[4] & 15, 10);
  EXPECT_EQ(b.qs[5] & 15, 6);
  EXPECT_EQ(b.qs[0] & 15, 8);
}

TEST(QuantizeTest, Q4_0AllZero) {
  float x[32] = {};
  BlockQ4_0 b;
  QuantizeRow(GgmlType::kQ4_0, x, &b, 32);
  EXPECT_EQ(b.d, 0x8000);  // max / -8 with max = +0 is -0, as in llama.cpp
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b.qs[j], 0x88);
}

TEST(QuantizeTest, Q8_0RoundsHalfAwayFromZero) {
  float x[64] = {};
  // Block 0: amax 127 -> d = 1, id = 1.
  x[0] = 127.0f;
  x[1] = -127.0f;
  x[2] = 2.5f;   // 3
  x[3] = -2.5f;  // -3
  x[4] = 3.5f;   // 4
  x[5] = 0.49f;  // 0
  x[6] = -0.5f;  // -1
  x[7] = 1.5f;   // 2
  // Block 1: amax 63.5 -> d = 0.5, id = 2.
  x[32] = -63.5f;  // -127
  x[33] = 1.25f;   // 2.5 -> 3
  x[34] = -0.75f;  // -1.5 -> -2
  x[35] = 10.0f;   // 20
  BlockQ8_0 b[2];
  QuantizeRow(GgmlType::kQ8_0, x, b, 64);
  EXPECT_EQ(b[0].d, 0x3C00);
  const int want0[8] = {127, -127, 3, -3, 4, 0, -1, 2};
  for (int j = 0; j < 8; ++j) EXPECT_EQ(b[0].qs[j], want0[j]) << j;
  EXPECT_EQ(b[0].qs[8], 0);
  EXPECT_EQ(b[1].d, 0x3800);
  EXPECT_EQ(b[1].qs[0], -127);
  EXPECT_EQ(b[1].qs[1], 3);
  EXPECT_EQ(b[1].qs[2], -2);
  EXPECT_EQ(b[1].qs[3], 20);
}

TEST(QuantizeTest, Q8_1StoresScaledSum) {
  float x[32] = {};
  x[0] = 127.0f;  // d = 1
  x[1] = -27.0f;
  x[2] = 3.0f;
  BlockQ8_1 b;
  QuantizeRow(GgmlType::kQ8_1, x, &b, 32);
  EXPECT_EQ(b.d, 0x3C00);
  EXPECT_EQ(b.s, 0x5670);  // 103 = 1.609375 * 2^6: exponent 21 -> 0x5400, mantissa 624 = 0x270
  EXPECT_EQ(b.qs[1], -27);
}

TEST(QuantizeTest, Q5_0AndQ5_1HandBlock) {
  float x[32] = {};
  x[0] = -16.0f;  // Q5_0: d = 1, q = min(31, trunc(x + 16.5))
  x[1] = 15.2f;   // 31
  x[2] = 15.9f;   // trunc(32.4) -> clamped to 31
  x[17] = 0.5f;   // 17
  x[20] = -3.0f;  // 13
  BlockQ5_0 b;
  QuantizeRow(GgmlType::kQ5_0, x, &b, 32);
  EXPECT_EQ(b.d, 0x3C00);
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  auto q5 = [&](int e) {
    const int nibble = e < 16 ? (b.qs[e] & 15) : (b.qs[e - 16] >> 4);
    return nibble | static_cast<int>(((qh >> e) & 1) << 4);
  };
  EXPECT_EQ(q5(0), 0);
  EXPECT_EQ(q5(1), 31);
  EXPECT_EQ(q5(2), 31);
  EXPECT_EQ(q5(3), 16);
  EXPECT_EQ(q5(17), 17);
  EXPECT_EQ(q5(20), 13);

  // Q5_1 on 0, 1, ..., 31 scaled by 0.5: min 0, d = 15.5 / 31 = 0.5, q = j exactly.
  float ramp[32];
  for (int j = 0; j < 32; ++j) ramp[j] = 0.5f * j;
  BlockQ5_1 c;
  QuantizeRow(GgmlType::kQ5_1, ramp, &c, 32);
  EXPECT_EQ(c.d, 0x3800);
  EXPECT_EQ(c.m, 0);
  std::memcpy(&qh, c.qh, 4);
  EXPECT_EQ(qh, 0xFFFF0000u);  // elements 16..31 have the fifth bit
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(c.qs[j] & 15, j);
    EXPECT_EQ(c.qs[j] >> 4, j);  // 16 + j with the fifth bit removed
  }
}

TEST(QuantizeTest, Q8_KRoundsHalfToEvenAndSumsGroups) {
  float x[256] = {};
  // max |x| is x[0] = -2 (the later +2 does not replace it), iscale = -127 / -2 = 63.5.
  x[0] = -2.0f;   // -127
  x[1] = 2.0f;    // 127
  x[2] = 1.0f;    // 63.5 -> 64 (even)
  x[3] = -1.0f;   // -63.5 -> -64
  x[4] = 0.5f;    // 31.75 -> 32
  x[16] = 1.5f;   // 95.25 -> 95
  x[17] = 0.01f;  // 0.635 -> 1
  BlockQ8_K b;
  QuantizeRow(GgmlType::kQ8_K, x, &b, 256);
  EXPECT_EQ(b.d, 1.0f / 63.5f);
  const int want[5] = {-127, 127, 64, -64, 32};
  for (int j = 0; j < 5; ++j) EXPECT_EQ(b.qs[j], want[j]) << j;
  EXPECT_EQ(b.qs[16], 95);
  EXPECT_EQ(b.qs[17], 1);
  EXPECT_EQ(b.bsums[0], -127 + 127 + 64 - 64 + 32);
  EXPECT_EQ(b.bsums[1], 96);
  for (int k = 2; k < 16; ++k) EXPECT_EQ(b.bsums[k], 0);
}

TEST(QuantizeTest, F16AndBf16Rows) {
  const float x[3] = {1.0f, -2.5f, 65504.0f};
  uint16_t h[3];
  QuantizeRow(GgmlType::kF16, x, h, 3);
  EXPECT_EQ(h[0], 0x3C00);
  EXPECT_EQ(h[1], 0xC100);
  EXPECT_EQ(h[2], 0x7BFF);
  QuantizeRow(GgmlType::kBF16, x, h, 3);
  EXPECT_EQ(h[0], 0x3F80);
  EXPECT_EQ(h[1], 0xC020);
  EXPECT_EQ(h[2], 0x4780);  // 65504 = 0x477FE000 rounds up to 65536
}

// Quantizing a row that is exactly representable must give it back. Q4_K: every sub-block
// holds the levels 0..15 times 63/64, so the search finds scale 63/64 and min 0, the super-block
// d = (63/64) / 63 = 2^-6 is exact in f16, and the 6-bit scale is 63.
TEST(QuantizeTest, K_QuantsRecoverExactGrids) {
  std::vector<float> x(256);
  for (int e = 0; e < 256; ++e) x[e] = static_cast<float>((e * 7) % 16) * 0.984375f;
  std::vector<uint8_t> q(testing::RowBytes(GgmlType::kQ4_K, 256));
  QuantizeRow(GgmlType::kQ4_K, x.data(), q.data(), 256);
  const auto* q4 = reinterpret_cast<const BlockQ4_K*>(q.data());
  EXPECT_EQ(q4->d, 0x2400);     // 2^-6
  EXPECT_EQ(q4->dmin, 0x0000);  // no min
  std::vector<float> y(256);
  DequantizeRow(GgmlType::kQ4_K, q.data(), y.data(), 256);
  EXPECT_EQ(Rmse(x, y), 0.0);

  // Q6_K: integers -32..31 with -32 first in every sub-block of 16, so each sub-block scale
  // is 1, the super-block d = 1 / -128 and every int8 sub-scale is -128.
  for (int e = 0; e < 256; ++e) x[e] = e % 16 == 0 ? -32.0f : static_cast<float>((e * 5) % 64 - 32);
  q.resize(testing::RowBytes(GgmlType::kQ6_K, 256));
  QuantizeRow(GgmlType::kQ6_K, x.data(), q.data(), 256);
  const auto* q6 = reinterpret_cast<const BlockQ6_K*>(q.data());
  EXPECT_EQ(q6->d, 0xA000);  // -2^-7
  for (int j = 0; j < 16; ++j) EXPECT_EQ(q6->scales[j], -128) << j;
  DequantizeRow(GgmlType::kQ6_K, q.data(), y.data(), 256);
  EXPECT_EQ(Rmse(x, y), 0.0);
}

TEST(QuantizeTest, AllZeroRowsStayZero) {
  const GgmlType types[] = {GgmlType::kQ2_K,   GgmlType::kQ3_K, GgmlType::kQ4_K,
                            GgmlType::kQ5_K,   GgmlType::kQ6_K, GgmlType::kIQ4_NL,
                            GgmlType::kIQ4_XS, GgmlType::kQ4_1, GgmlType::kQ8_K};
  const std::vector<float> x(512, 0.0f);
  for (GgmlType type : types) {
    std::vector<uint8_t> q(testing::RowBytes(type, 512), 0xAB);
    QuantizeRow(type, x.data(), q.data(), 512);
    std::vector<float> y(512, 1.0f);
    DequantizeRow(type, q.data(), y.data(), 512);
    for (float v : y) ASSERT_EQ(v, 0.0f) << gguf::TypeInfo(type).name;
  }
}

// --- Round trip on Gaussian data --------------------------------------------------------------

// Plain round-to-nearest baselines at the same bit width and group size as each type, with
// exact float scales (no scale quantization, which favours the baseline).
// Symmetric: d = max / -(2^(bits-1)), q = clamp(round(x / d), -2^(bits-1), 2^(bits-1) - 1).
double RtnSymmetric(const std::vector<float>& x, int bits, int group) {
  const int half = 1 << (bits - 1);
  double sum = 0;
  for (size_t g = 0; g < x.size(); g += static_cast<size_t>(group)) {
    float max = 0;
    for (int j = 0; j < group; ++j) {
      if (std::fabs(x[g + j]) > std::fabs(max)) max = x[g + j];
    }
    const float d = max / static_cast<float>(-half);
    for (int j = 0; j < group; ++j) {
      const float v = x[g + j];
      const float q = d == 0 ? 0 : std::clamp(std::round(v / d), float(-half), float(half - 1));
      sum += (v - q * d) * (v - q * d);
    }
  }
  return std::sqrt(sum / static_cast<double>(x.size()));
}

// Affine: levels 0..2^bits-1 spanning [min, max] of each group.
double RtnAffine(const std::vector<float>& x, int bits, int group) {
  const int levels = (1 << bits) - 1;
  double sum = 0;
  for (size_t g = 0; g < x.size(); g += static_cast<size_t>(group)) {
    const auto [lo, hi] = std::minmax_element(x.begin() + g, x.begin() + g + group);
    const float d = (*hi - *lo) / static_cast<float>(levels);
    for (int j = 0; j < group; ++j) {
      const float v = x[g + j];
      const float q = d == 0 ? 0 : std::round((v - *lo) / d);
      const float back = q * d + *lo;
      sum += (v - back) * (v - back);
    }
  }
  return std::sqrt(sum / static_cast<double>(x.size()));
}

struct RoundTripCase {
  GgmlType type;
  // Bound for unit Gaussian data: the measured RMSE plus about 15 % (see the printed table).
  double max_rmse;
  // The RTN baseline this type must beat (0 bits = no comparison).
  int rtn_bits;
  int rtn_group;
  bool rtn_affine;
};

class RoundTripTest : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(RoundTripTest, GaussianRmseWithinBoundAndBeatsRtn) {
  const RoundTripCase& c = GetParam();
  constexpr int64_t kN = 256 * 64;
  const std::vector<float> x = Gaussian(kN, 1234);
  std::vector<uint8_t> q(testing::RowBytes(c.type, kN));
  QuantizeRow(c.type, x.data(), q.data(), kN);
  std::vector<float> y(kN);
  DequantizeRow(c.type, q.data(), y.data(), kN);
  const double rmse = Rmse(x, y);
  const std::string name(gguf::TypeInfo(c.type).name);
  EXPECT_LT(rmse, c.max_rmse) << name;
  if (c.rtn_bits > 0) {
    const double rtn = c.rtn_affine ? RtnAffine(x, c.rtn_bits, c.rtn_group)
                                    : RtnSymmetric(x, c.rtn_bits, c.rtn_group);
    EXPECT_LT(rmse, rtn) << name;
    std::printf("[ rmse     ] %-7s %.6f   rtn %d-bit/%d %s %.6f\n", name.c_str(), rmse, c.rtn_bits,
                c.rtn_group, c.rtn_affine ? "affine" : "symmetric", rtn);
  } else {
    std::printf("[ rmse     ] %-7s %.6f\n", name.c_str(), rmse);
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, RoundTripTest,
                         ::testing::Values(RoundTripCase{GgmlType::kF32, 1e-12, 0, 0, false},
                                           RoundTripCase{GgmlType::kF16, 2.5e-4, 0, 0, false},
                                           RoundTripCase{GgmlType::kBF16, 2e-3, 0, 0, false},
                                           RoundTripCase{GgmlType::kQ8_0, 6.5e-3, 0, 0, false},
                                           RoundTripCase{GgmlType::kQ8_1, 6.5e-3, 0, 0, false},
                                           RoundTripCase{GgmlType::kQ8_K, 8e-3, 0, 0, false},
                                           RoundTripCase{GgmlType::kQ4_0, 0.10, 0, 0, false},
                                           RoundTripCase{GgmlType::kQ4_1, 0.09, 0, 0, false},
                                           RoundTripCase{GgmlType::kQ5_0, 0.05, 0, 0, false},
                                           RoundTripCase{GgmlType::kQ5_1, 0.045, 0, 0, false},
                                           RoundTripCase{GgmlType::kQ2_K, 0.33, 2, 16, true},
                                           RoundTripCase{GgmlType::kQ3_K, 0.17, 3, 16, false},
                                           RoundTripCase{GgmlType::kQ4_K, 0.08, 4, 32, true},
                                           RoundTripCase{GgmlType::kQ5_K, 0.04, 5, 32, true},
                                           RoundTripCase{GgmlType::kQ6_K, 0.02, 6, 16, false},
                                           RoundTripCase{GgmlType::kIQ4_NL, 0.085, 4, 32, false},
                                           RoundTripCase{GgmlType::kIQ4_XS, 0.085, 4, 32, false}),
                         [](const ::testing::TestParamInfo<RoundTripCase>& info) {
                           return std::string(gguf::TypeInfo(info.param.type).name);
                         });

// --- Byte-exact with llama.cpp -----------------------------------------------------------------

// FNV-1a hashes of the bytes llama.cpp itself writes for PortableTestRow(256 * 1024, 42) (1024
// super-blocks: some search branches win in under 1 % of them): computed with
// ggml_quantize_chunk(type, ..., imatrix = NULL) -- what llama-quantize uses without an imatrix --
// from the reference's libggml-base.so (node-llama-cpp 3.21.1), and, for the activation-only Q8_1 /
// Q8_K, with quantize_row_q8_1_ref / quantize_row_q8_K_ref. Any change in a scale search, rounding
// or packing shows up here even when the RMSE barely moves.
struct GoldenCase {
  GgmlType type;
  uint64_t llama_cpp_hash;
};

class LlamaCppBytesTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(LlamaCppBytesTest, QuantizedBytesMatchLlamaCpp) {
  constexpr int64_t kN = 256 * 1024;
  const std::vector<float> x = testing::PortableTestRow(kN, 42);
  // Guards the input itself (hash of the float bytes as generated for the golden values).
  ASSERT_EQ(testing::Fnv1a(x.data(), x.size() * sizeof(float)), 0x19788592cf3ca276ull);
  const GoldenCase& c = GetParam();
  std::vector<uint8_t> q(testing::RowBytes(c.type, kN));
  QuantizeRow(c.type, x.data(), q.data(), kN);
  EXPECT_EQ(testing::Fnv1a(q.data(), q.size()), c.llama_cpp_hash) << gguf::TypeInfo(c.type).name;
}

INSTANTIATE_TEST_SUITE_P(AllQuantizableTypes, LlamaCppBytesTest,
                         ::testing::Values(GoldenCase{GgmlType::kF16, 0x0098eae3ac00b2bcull},
                                           GoldenCase{GgmlType::kBF16, 0xfd560aead4bb3ed8ull},
                                           GoldenCase{GgmlType::kQ4_0, 0x34d2b29e9d9468f3ull},
                                           GoldenCase{GgmlType::kQ4_1, 0xbfd0ad12a6e241eaull},
                                           GoldenCase{GgmlType::kQ5_0, 0x5ad1d7ce78806116ull},
                                           GoldenCase{GgmlType::kQ5_1, 0x9d2d58c86064e41cull},
                                           GoldenCase{GgmlType::kQ8_0, 0x5e69b5841c629edaull},
                                           GoldenCase{GgmlType::kQ8_1, 0x91eaf78a1a126f73ull},
                                           GoldenCase{GgmlType::kQ2_K, 0xd91192b14319d4b0ull},
                                           GoldenCase{GgmlType::kQ3_K, 0xd17c26df03dc6391ull},
                                           GoldenCase{GgmlType::kQ4_K, 0x4f3cb49494470d66ull},
                                           GoldenCase{GgmlType::kQ5_K, 0x2c92b9e918adf4acull},
                                           GoldenCase{GgmlType::kQ6_K, 0xaed6e460eb961c1full},
                                           GoldenCase{GgmlType::kQ8_K, 0x9e5aeeed9088565cull},
                                           GoldenCase{GgmlType::kIQ4_NL, 0xc7933d29ac3072e3ull},
                                           GoldenCase{GgmlType::kIQ4_XS, 0xb5b5afd9f4902b9bull}),
                         [](const ::testing::TestParamInfo<GoldenCase>& info) {
                           return std::string(gguf::TypeInfo(info.param.type).name);
                         });

TEST(QuantizeDeathTest, RejectsPartialBlocksAndUnsupportedTypes) {
  float x[256] = {};
  BlockQ4_K b;
  EXPECT_DEATH(QuantizeRow(GgmlType::kQ4_K, x, &b, 128), "whole number of q4_K blocks");
  EXPECT_DEATH(QuantizeRow(GgmlType::kIQ2_XS, x, &b, 256), "not supported");
}

}  // namespace
}  // namespace corral::tensor
