#include "tensor/fp16.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace corral::tensor {
namespace {

float FromBits(uint32_t bits) { return std::bit_cast<float>(bits); }

TEST(Fp16Test, ExactValuesEncode) {
  EXPECT_EQ(Fp32ToFp16(1.0f), 0x3C00);
  EXPECT_EQ(Fp32ToFp16(-2.5f), 0xC100);  // -1.25 * 2^1
  EXPECT_EQ(Fp32ToFp16(0.5f), 0x3800);
  EXPECT_EQ(Fp32ToFp16(65504.0f), 0x7BFF);  // largest finite half
  EXPECT_EQ(Fp32ToFp16(0.0f), 0x0000);
  EXPECT_EQ(Fp32ToFp16(-0.0f), 0x8000);
  EXPECT_EQ(Fp32ToFp16(0x1p-14f), 0x0400);         // smallest normal
  EXPECT_EQ(Fp32ToFp16(0x1p-24f), 0x0001);         // smallest subnormal
  EXPECT_EQ(Fp32ToFp16(1023 * 0x1p-24f), 0x03FF);  // largest subnormal
  EXPECT_EQ(Fp32ToFp16(-3 * 0x1p-24f), 0x8003);
}

TEST(Fp16Test, RoundsToNearestEven) {
  // 1 + 2^-11 is halfway between 1 (mantissa 0, even) and 1 + 2^-10 (mantissa 1).
  EXPECT_EQ(Fp32ToFp16(1.0f + 0x1p-11f), 0x3C00);
  // 1 + 3 * 2^-11 is halfway between mantissa 1 (odd) and 2 (even).
  EXPECT_EQ(Fp32ToFp16(1.0f + 3 * 0x1p-11f), 0x3C02);
  // Just above a tie rounds up.
  EXPECT_EQ(Fp32ToFp16(1.0f + 0x1p-11f + 0x1p-20f), 0x3C01);
  // 0.1 is 0x2E66 (0.0999755859375) in half precision.
  EXPECT_EQ(Fp32ToFp16(0.1f), 0x2E66);
  // Mantissa carry into the exponent: 2 - 2^-12 rounds up to 2.0.
  EXPECT_EQ(Fp32ToFp16(2.0f - 0x1p-12f), 0x4000);
  // Subnormal ties: 2^-25 (half a unit) -> 0; 3 * 2^-25 (1.5 units) -> 2 units.
  EXPECT_EQ(Fp32ToFp16(0x1p-25f), 0x0000);
  EXPECT_EQ(Fp32ToFp16(3 * 0x1p-25f), 0x0002);
  EXPECT_EQ(Fp32ToFp16(0x1p-25f * 1.0001f), 0x0001);
  // Tiny values and float subnormals flush to signed zero.
  EXPECT_EQ(Fp32ToFp16(-1e-10f), 0x8000);
  EXPECT_EQ(Fp32ToFp16(FromBits(0x00000001)), 0x0000);
  // Largest subnormal + half a unit rounds to the smallest normal.
  EXPECT_EQ(Fp32ToFp16(1023.5f * 0x1p-24f), 0x0400);
}

TEST(Fp16Test, OverflowInfinityAndNan) {
  EXPECT_EQ(Fp32ToFp16(65519.0f), 0x7BFF);  // below the midpoint 65520
  EXPECT_EQ(Fp32ToFp16(65520.0f), 0x7C00);  // tie: rounds to even = infinity
  EXPECT_EQ(Fp32ToFp16(1e6f), 0x7C00);
  EXPECT_EQ(Fp32ToFp16(-1e6f), 0xFC00);
  EXPECT_EQ(Fp32ToFp16(std::numeric_limits<float>::infinity()), 0x7C00);
  EXPECT_EQ(Fp32ToFp16(-std::numeric_limits<float>::infinity()), 0xFC00);
  const uint16_t nan = Fp32ToFp16(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan & 0x7C00, 0x7C00);
  EXPECT_NE(nan & 0x03FF, 0);
  // A signalling NaN whose payload lives only in low bits must not become infinity.
  const uint16_t snan = Fp32ToFp16(FromBits(0x7F800001));
  EXPECT_EQ(snan & 0x7C00, 0x7C00);
  EXPECT_NE(snan & 0x03FF, 0);
  EXPECT_EQ(Fp32ToFp16(FromBits(0xFFC00000)) & 0x8000, 0x8000);  // sign kept
}

TEST(Fp16Test, DecodesSpecialValues) {
  EXPECT_EQ(Fp16ToFp32(0x3C00), 1.0f);
  EXPECT_EQ(Fp16ToFp32(0xC100), -2.5f);
  EXPECT_EQ(Fp16ToFp32(0x7BFF), 65504.0f);
  EXPECT_EQ(Fp16ToFp32(0x0001), 0x1p-24f);
  EXPECT_EQ(Fp16ToFp32(0x03FF), 1023 * 0x1p-24f);
  EXPECT_EQ(Fp16ToFp32(0x0400), 0x1p-14f);
  EXPECT_EQ(Fp16ToFp32(0x2E66), 0.0999755859375f);
  EXPECT_TRUE(std::signbit(Fp16ToFp32(0x8000)));
  EXPECT_EQ(Fp16ToFp32(0x8000), 0.0f);
  EXPECT_EQ(Fp16ToFp32(0x7C00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(Fp16ToFp32(0xFC00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(Fp16ToFp32(0x7E00)));
  EXPECT_TRUE(std::isnan(Fp16ToFp32(0x7C01)));
}

TEST(Fp16Test, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    const float f = Fp16ToFp32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(Fp32ToFp16(f), h) << "half 0x" << std::hex << h;
  }
}

// Independent check: the result is the nearest half (ties to even mantissa) among the two
// neighbours bracketing the input, found by decoding halves around it.
TEST(Fp16Test, MatchesNearestHalfOnRandomFloats) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> bits_dist;
  for (int iter = 0; iter < 200000; ++iter) {
    // Concentrate on the half range: exponents 100..143 (about 2^-27 .. 2^16).
    uint32_t bits = bits_dist(rng);
    bits = (bits & 0x807FFFFFu) | ((100u + (bits >> 23) % 44u) << 23);
    const float f = FromBits(bits);
    const uint16_t got = Fp32ToFp16(f);
    const float af = std::fabs(f);
    if (af >= 65520.0f) {
      ASSERT_EQ(got & 0x7FFF, 0x7C00);
      continue;
    }
    const uint16_t mag = got & 0x7FFF;
    const double value = Fp16ToFp32(mag);
    const double err = std::fabs(value - af);
    // Neighbours must not be closer; on an exact tie the chosen mantissa is even.
    if (mag > 0) {
      const double below = std::fabs(Fp16ToFp32(static_cast<uint16_t>(mag - 1)) - af);
      ASSERT_TRUE(err < below || (err == below && (mag & 1) == 0)) << f;
    }
    if (mag < 0x7BFF) {
      const double above = std::fabs(Fp16ToFp32(static_cast<uint16_t>(mag + 1)) - af);
      ASSERT_TRUE(err < above || (err == above && (mag & 1) == 0)) << f;
    }
    ASSERT_EQ(got & 0x8000, (bits >> 16) & 0x8000);
  }
}

#if defined(__x86_64__)
__attribute__((target("f16c"))) uint16_t HardwareFp32ToFp16(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, 0));  // 0 = round to nearest even
}
__attribute__((target("f16c"))) float HardwareFp16ToFp32(uint16_t h) { return _cvtsh_ss(h); }

// What llama.cpp's x86 build uses (F16C); compared where the CPU has it.
TEST(Fp16Test, MatchesF16cHardware) {
  if (!__builtin_cpu_supports("f16c")) GTEST_SKIP() << "no F16C on this CPU";
  std::mt19937 rng(11);
  std::uniform_int_distribution<uint32_t> bits_dist;
  for (int iter = 0; iter < 1000000; ++iter) {
    const uint32_t bits = bits_dist(rng);
    const float f = FromBits(iter % 2 ? bits : (bits & 0x87FFFFFFu) | 0x30000000u);
    ASSERT_EQ(Fp32ToFp16(f), HardwareFp32ToFp16(f)) << std::hex << bits;
  }
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    const uint32_t got = std::bit_cast<uint32_t>(Fp16ToFp32(static_cast<uint16_t>(h)));
    const uint32_t want = std::bit_cast<uint32_t>(HardwareFp16ToFp32(static_cast<uint16_t>(h)));
    ASSERT_EQ(got, want) << std::hex << h;
  }
}
#endif

TEST(Bf16Test, EncodesAndRounds) {
  EXPECT_EQ(Fp32ToBf16(1.0f), 0x3F80);
  EXPECT_EQ(Fp32ToBf16(-2.5f), 0xC020);
  EXPECT_EQ(Fp32ToBf16(FromBits(0x3F808000)), 0x3F80);  // tie, even stays
  EXPECT_EQ(Fp32ToBf16(FromBits(0x3F818000)), 0x3F82);  // tie, odd rounds up
  EXPECT_EQ(Fp32ToBf16(FromBits(0x3F808001)), 0x3F81);  // above the tie
  EXPECT_EQ(Fp32ToBf16(FromBits(0x3F807FFF)), 0x3F80);  // below the tie
  EXPECT_EQ(Fp32ToBf16(FromBits(0x00010000)), 0x0001);  // subnormals are kept
  EXPECT_EQ(Fp32ToBf16(std::numeric_limits<float>::infinity()), 0x7F80);
  EXPECT_EQ(Fp32ToBf16(-std::numeric_limits<float>::infinity()), 0xFF80);
  EXPECT_EQ(Fp32ToBf16(std::numeric_limits<float>::max()), 0x7F80);  // rounds to infinity
  EXPECT_EQ(Fp32ToBf16(FromBits(0x7FC00000)), 0x7FC0);
  EXPECT_EQ(Fp32ToBf16(FromBits(0x7F800001)), 0x7FC0);  // signalling NaN stays NaN, quiet
  EXPECT_EQ(Fp32ToBf16(FromBits(0xFF810000)), 0xFFC1);
}

TEST(Bf16Test, Decodes) {
  EXPECT_EQ(Bf16ToFp32(0x3F80), 1.0f);
  EXPECT_EQ(Bf16ToFp32(0xC020), -2.5f);
  EXPECT_EQ(Bf16ToFp32(0x7F80), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(Bf16ToFp32(0x7FC0)));
  for (uint32_t b = 0; b <= 0xFFFF; ++b) {
    const float f = Bf16ToFp32(static_cast<uint16_t>(b));
    if (std::isnan(f)) continue;
    ASSERT_EQ(Fp32ToBf16(f), b);
  }
}

}  // namespace
}  // namespace corral::tensor
