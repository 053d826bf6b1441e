// Each dequantizer on hand-built blocks. Expected values come from the format description
// (engine.md §3.1) written per element, independently of the traversal the implementation
// uses, plus a few values worked out by hand in the comments.
#include "tensor/dequantize.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "gguf/ggml_type.h"
#include "tensor/blocks.h"

namespace corral::tensor {
namespace {

using gguf::GgmlType;

// f16 bit patterns used below.
constexpr uint16_t kHalfOne = 0x3C00;       // 1.0
constexpr uint16_t kHalfTwo = 0x4000;       // 2.0
constexpr uint16_t kHalfHalf = 0x3800;      // 0.5
constexpr uint16_t kHalfQuarter = 0x3400;   // 0.25
constexpr uint16_t kHalfMinusOne = 0xBC00;  // -1.0

constexpr int8_t kTable[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                               1,    13,   25,  38,  53,  69,  89,  113};

template <typename Block>
std::vector<float> Dequantize(GgmlType type, const Block& block, int n) {
  std::vector<float> out(static_cast<size_t>(n));
  DequantizeRow(type, &block, out.data(), n);
  return out;
}

TEST(BlocksTest, SizesMatchGgufTypeInfo) {
  EXPECT_EQ(sizeof(BlockQ4_0), gguf::TypeInfo(GgmlType::kQ4_0).type_size);
  EXPECT_EQ(sizeof(BlockQ4_1), gguf::TypeInfo(GgmlType::kQ4_1).type_size);
  EXPECT_EQ(sizeof(BlockQ5_0), gguf::TypeInfo(GgmlType::kQ5_0).type_size);
  EXPECT_EQ(sizeof(BlockQ5_1), gguf::TypeInfo(GgmlType::kQ5_1).type_size);
  EXPECT_EQ(sizeof(BlockQ8_0), gguf::TypeInfo(GgmlType::kQ8_0).type_size);
  EXPECT_EQ(sizeof(BlockQ8_1), gguf::TypeInfo(GgmlType::kQ8_1).type_size);
  EXPECT_EQ(sizeof(BlockQ2_K), gguf::TypeInfo(GgmlType::kQ2_K).type_size);
  EXPECT_EQ(sizeof(BlockQ3_K), gguf::TypeInfo(GgmlType::kQ3_K).type_size);
  EXPECT_EQ(sizeof(BlockQ4_K), gguf::TypeInfo(GgmlType::kQ4_K).type_size);
  EXPECT_EQ(sizeof(BlockQ5_K), gguf::TypeInfo(GgmlType::kQ5_K).type_size);
  EXPECT_EQ(sizeof(BlockQ6_K), gguf::TypeInfo(GgmlType::kQ6_K).type_size);
  EXPECT_EQ(sizeof(BlockQ8_K), gguf::TypeInfo(GgmlType::kQ8_K).type_size);
  EXPECT_EQ(sizeof(BlockIQ4_NL), gguf::TypeInfo(GgmlType::kIQ4_NL).type_size);
  EXPECT_EQ(sizeof(BlockIQ4_XS), gguf::TypeInfo(GgmlType::kIQ4_XS).type_size);
  EXPECT_EQ(gguf::TypeInfo(GgmlType::kQ4_K).block_size, 256u);
  EXPECT_EQ(gguf::TypeInfo(GgmlType::kIQ4_NL).block_size, 32u);
}

TEST(DequantizeTest, F32F16Bf16) {
  const float f32[2] = {1.5f, -3.25f};
  float out[2];
  DequantizeRow(GgmlType::kF32, f32, out, 2);
  EXPECT_EQ(out[0], 1.5f);
  EXPECT_EQ(out[1], -3.25f);
  const uint16_t f16[3] = {0x3E00, 0xC100, 0x0001};  // 1.5, -2.5, 2^-24
  float out3[3];
  DequantizeRow(GgmlType::kF16, f16, out3, 3);
  EXPECT_EQ(out3[0], 1.5f);
  EXPECT_EQ(out3[1], -2.5f);
  EXPECT_EQ(out3[2], 0x1p-24f);
  const uint16_t bf16[2] = {0x3FC0, 0xC020};  // 1.5, -2.5
  DequantizeRow(GgmlType::kBF16, bf16, out, 2);
  EXPECT_EQ(out[0], 1.5f);
  EXPECT_EQ(out[1], -2.5f);
}

TEST(DequantizeTest, Q4_0) {
  BlockQ4_0 b{};
  b.d = kHalfHalf;
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  const std::vector<float> y = Dequantize(GgmlType::kQ4_0, b, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], (j - 8) * 0.5f) << j;
    EXPECT_EQ(y[j + 16], (7 - j) * 0.5f) << j;
  }
  EXPECT_EQ(y[0], -4.0f);
  EXPECT_EQ(y[15], 3.5f);
  EXPECT_EQ(y[16], 3.5f);
  EXPECT_EQ(y[31], -4.0f);
}

TEST(DequantizeTest, Q4_0TwoBlocks) {
  BlockQ4_0 b[2]{};
  b[0].d = kHalfOne;
  b[1].d = kHalfTwo;
  for (int j = 0; j < 16; ++j) b[0].qs[j] = b[1].qs[j] = 0x9A;  // low 10, high 9
  float y[64];
  DequantizeRow(GgmlType::kQ4_0, b, y, 64);
  EXPECT_EQ(y[0], 2.0f);   // (10 - 8) * 1
  EXPECT_EQ(y[16], 1.0f);  // (9 - 8) * 1
  EXPECT_EQ(y[32], 4.0f);  // (10 - 8) * 2
  EXPECT_EQ(y[63], 2.0f);  // (9 - 8) * 2
}

TEST(DequantizeTest, Q4_1) {
  BlockQ4_1 b{};
  b.d = kHalfQuarter;
  b.m = kHalfMinusOne;
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((j ^ 9) << 4));
  const std::vector<float> y = Dequantize(GgmlType::kQ4_1, b, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], j * 0.25f - 1.0f) << j;
    EXPECT_EQ(y[j + 16], (j ^ 9) * 0.25f - 1.0f) << j;
  }
  EXPECT_EQ(y[15], 2.75f);  // 15 * 0.25 - 1
  EXPECT_EQ(y[16], 1.25f);  // (0 ^ 9) * 0.25 - 1
}

uint32_t Bit(uint32_t word, int i) { return (word >> i) & 1u; }

TEST(DequantizeTest, Q5_0) {
  BlockQ5_0 b{};
  b.d = kHalfOne;
  const uint32_t qh = 0xA5A5F00Fu;
  std::memcpy(b.qh, &qh, 4);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((j ^ 5) << 4));
  const std::vector<float> y = Dequantize(GgmlType::kQ5_0, b, 32);
  for (int e = 0; e < 32; ++e) {
    const int nibble = e < 16 ? (b.qs[e] & 15) : (b.qs[e - 16] >> 4);
    EXPECT_EQ(y[e], static_cast<float>(nibble + 16 * static_cast<int>(Bit(qh, e)) - 16)) << e;
  }
  EXPECT_EQ(y[0], 0.0f);    // nibble 0, qh bit 0 set: 16 - 16
  EXPECT_EQ(y[4], -12.0f);  // nibble 4, qh bit 4 clear
  EXPECT_EQ(y[16], 5.0f);   // nibble 0 ^ 5 = 5, qh bit 16 (bit 0 of 0xA5A5) set: 21 - 16
}

TEST(DequantizeTest, Q5_1) {
  BlockQ5_1 b{};
  b.d = kHalfHalf;
  b.m = kHalfMinusOne;
  const uint32_t qh = 0x0F0F3C3Cu;
  std::memcpy(b.qh, &qh, 4);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>((15 - j) | (j << 4));
  const std::vector<float> y = Dequantize(GgmlType::kQ5_1, b, 32);
  for (int e = 0; e < 32; ++e) {
    const int nibble = e < 16 ? (b.qs[e] & 15) : (b.qs[e - 16] >> 4);
    const int q = nibble + 16 * static_cast<int>(Bit(qh, e));
    EXPECT_EQ(y[e], q * 0.5f - 1.0f) << e;
  }
  EXPECT_EQ(y[2], 13.5f);  // nibble 13, bit 2 of 0x3C set -> 29 * 0.5 - 1
  EXPECT_EQ(y[0], 6.5f);   // nibble 15, bit 0 clear -> 15 * 0.5 - 1
}

TEST(DequantizeTest, Q8_0AndQ8_1) {
  BlockQ8_0 b{};
  b.d = kHalfTwo;
  for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(j - 16);
  b.qs[0] = -128;
  const std::vector<float> y = Dequantize(GgmlType::kQ8_0, b, 32);
  EXPECT_EQ(y[0], -256.0f);
  for (int j = 1; j < 32; ++j) EXPECT_EQ(y[j], 2.0f * (j - 16)) << j;

  BlockQ8_1 a{};
  a.d = kHalfQuarter;
  a.s = kHalfOne;  // not used by dequantization
  for (int j = 0; j < 32; ++j) a.qs[j] = static_cast<int8_t>(3 * j - 50);
  const std::vector<float> z = Dequantize(GgmlType::kQ8_1, a, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(z[j], 0.25f * (3 * j - 50)) << j;
}

TEST(DequantizeTest, Q8_K) {
  BlockQ8_K b{};
  b.d = 0.125f;
  for (int j = 0; j < 256; ++j) b.qs[j] = static_cast<int8_t>(j - 128);
  const std::vector<float> y = Dequantize(GgmlType::kQ8_K, b, 256);
  for (int j = 0; j < 256; ++j) EXPECT_EQ(y[j], 0.125f * (j - 128)) << j;
}

// The 2-bit level of output e (0..255) in the Q2_K / Q3_K layout: half h = e / 128 uses bytes
// 32h..32h+31; within the half, output r takes bits 2(r / 32) of byte r % 32.
int TwoBitLevel(const uint8_t* qs, int e) {
  const int half = e / 128, r = e % 128;
  return (qs[32 * half + r % 32] >> (2 * (r / 32))) & 3;
}

TEST(DequantizeTest, Q2_K) {
  BlockQ2_K b{};
  b.d = kHalfOne;
  b.dmin = kHalfHalf;
  for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<uint8_t>((j & 15) | (((3 * j) & 15) << 4));
  for (int i = 0; i < 64; ++i) b.qs[i] = static_cast<uint8_t>(i * 37);
  const std::vector<float> y = Dequantize(GgmlType::kQ2_K, b, 256);
  for (int e = 0; e < 256; ++e) {
    const int sc = b.scales[e / 16] & 15, m = b.scales[e / 16] >> 4;
    EXPECT_EQ(y[e], 1.0f * sc * TwoBitLevel(b.qs, e) - 0.5f * m) << e;
  }
  // Output 37: byte 5 = 185 = 0b10111001, bits 2..3 = 2; sub-block 2: scale 2, min 6.
  EXPECT_EQ(y[37], 2 * 2 - 0.5f * 6);
  // Output 200: half 1, r = 72 -> byte 32 + 8 = 40: 40 * 37 = 1480 = 0xC8 -> bits 4..5 = 0;
  // sub-block 12: scale 12, min 36 & 15 = 4.
  EXPECT_EQ(y[200], -2.0f);
}

TEST(DequantizeTest, Q3_K) {
  BlockQ3_K b{};
  b.d = kHalfHalf;
  // Sub-block scales (6-bit, stored + 32): low nibbles of scales 0..7 in the low halves of
  // bytes 0..7, of scales 8..15 in their high halves; the top 2 bits of scale j in bits
  // 2(j / 4) of byte 8 + j % 4.
  const uint8_t packed[12] = {0x10, 0x32, 0x54, 0x76, 0x98, 0xBA,
                              0xDC, 0xFE, 0xE4, 0x1B, 0x00, 0xFF};
  std::memcpy(b.scales, packed, 12);
  for (int i = 0; i < 32; ++i) b.hmask[i] = static_cast<uint8_t>(i * 29 + 3);
  for (int i = 0; i < 64; ++i) b.qs[i] = static_cast<uint8_t>(i * 53 + 7);
  const std::vector<float> y = Dequantize(GgmlType::kQ3_K, b, 256);
  for (int e = 0; e < 256; ++e) {
    const int j = e / 16;
    const int low = j < 8 ? (packed[j] & 15) : (packed[j - 8] >> 4);
    const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
    const int scale = (low | (high << 4)) - 32;
    const int hbit = (b.hmask[e % 32] >> (e / 32)) & 1;
    const int value = TwoBitLevel(b.qs, e) - (hbit ? 0 : 4);
    EXPECT_EQ(y[e], 0.5f * static_cast<float>(scale) * static_cast<float>(value)) << e;
  }
  // Output 0: scale 0: low 0, high (0xE4 >> 0) & 3 = 0 -> -32. qs[0] = 7 -> level 3;
  // hmask[0] = 3, bit 0 set -> value 3. y = 0.5 * -32 * 3 = -48.
  EXPECT_EQ(y[0], -48.0f);
  // Output 255: scale 15: low 0xFE >> 4 = 15, high (0xFF >> 6) & 3 = 3 -> 63 - 32 = 31.
  // byte 32 + 31 = 63: 63 * 53 + 7 = 3346 = 0x0D12 -> 0x12, bits 6..7 = 0 -> level 0;
  // hmask[31] = 31 * 29 + 3 = 902 = 0x386 -> 0x86, bit 7 set -> value 0. y = 0.
  EXPECT_EQ(y[255], 0.0f);
  // Output 40: scale 2: low 0x54 & 15 = 4, high scales[10] & 3 = 0 -> 4 - 32 = -28. byte 8: 8 * 53
  // + 7 = 431 = 0x1AF -> 0xAF, bits 2..3 = 3; hmask[8] = 235 = 0xEB, bit 1 set -> value 3. y = 0.5
  // * -28 * 3 = -42.
  EXPECT_EQ(y[40], -42.0f);
}

// Q4_K / Q5_K scales used below, and their 12-byte packing worked out by hand:
// sc = {1, 2, 3, 63, 10, 33, 17, 48}, m = {0, 5, 7, 2, 63, 1, 40, 9}.
// bytes 0..3: sc_j | top2(sc_{j+4}) << 6 = {1, 2|2<<6, 3|1<<6, 63|3<<6} = {1, 130, 67, 255}
// bytes 4..7: m_j | top2(m_{j+4}) << 6 = {0|3<<6, 5, 7|2<<6, 2} = {192, 5, 135, 2}
// bytes 8..11: low4(sc_{j+4}) | low4(m_{j+4}) << 4 = {10|15<<4, 1|1<<4, 1|8<<4, 0|9<<4}
constexpr uint8_t kPackedScaleMin[12] = {1, 130, 67, 255, 192, 5, 135, 2, 250, 17, 129, 144};
constexpr int kSc[8] = {1, 2, 3, 63, 10, 33, 17, 48};
constexpr int kMin[8] = {0, 5, 7, 2, 63, 1, 40, 9};

TEST(DequantizeTest, Q4_KScaleMinPacking) {
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    UnpackScaleMinK4(j, kPackedScaleMin, &sc, &m);
    EXPECT_EQ(sc, kSc[j]) << j;
    EXPECT_EQ(m, kMin[j]) << j;
  }
}

// The 4-bit level of output e in the Q4_K / Q5_K layout: chunk c = e / 64 uses bytes
// 32c..32c+31, low nibbles for its first 32 outputs, high nibbles for the next 32.
int NibbleK(const uint8_t* qs, int e) {
  const int c = e / 64, r = e % 64;
  return r < 32 ? (qs[32 * c + r] & 15) : (qs[32 * c + r - 32] >> 4);
}

TEST(DequantizeTest, Q4_K) {
  BlockQ4_K b{};
  b.d = kHalfOne;
  b.dmin = kHalfHalf;
  std::memcpy(b.scales, kPackedScaleMin, 12);
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>(i * 89 + 11);
  const std::vector<float> y = Dequantize(GgmlType::kQ4_K, b, 256);
  for (int e = 0; e < 256; ++e) {
    const int s = e / 32;
    EXPECT_EQ(y[e], 1.0f * kSc[s] * NibbleK(b.qs, e) - 0.5f * kMin[s]) << e;
  }
  // Output 0: qs[0] = 11 -> nibble 11; sub-block 0: 1 * 11 - 0 = 11.
  EXPECT_EQ(y[0], 11.0f);
  // Output 100: chunk 1, r = 36 -> high nibble of qs[36] = 36 * 89 + 11 = 3215 = 0xC8F -> 0x8F
  // -> 8; sub-block 3: 63 * 8 - 0.5 * 2 = 503.
  EXPECT_EQ(y[100], 503.0f);
  // Output 130: chunk 2, r = 2 -> low nibble of qs[66] = 66 * 89 + 11 = 5885 = 0x16FD -> 0xFD
  // -> 13; sub-block 4: 10 * 13 - 0.5 * 63 = 98.5.
  EXPECT_EQ(y[130], 98.5f);
}

TEST(DequantizeTest, Q5_K) {
  BlockQ5_K b{};
  b.d = kHalfHalf;
  b.dmin = kHalfOne;
  std::memcpy(b.scales, kPackedScaleMin, 12);
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>(i * 89 + 11);
  for (int i = 0; i < 32; ++i) b.qh[i] = static_cast<uint8_t>(i * 113 + 5);
  const std::vector<float> y = Dequantize(GgmlType::kQ5_K, b, 256);
  for (int e = 0; e < 256; ++e) {
    const int c = e / 64, r = e % 64;
    const int high_bit = (b.qh[r % 32] >> (2 * c + (r >= 32 ? 1 : 0))) & 1;
    const int q = NibbleK(b.qs, e) + 16 * high_bit;
    const int s = e / 32;
    EXPECT_EQ(y[e], 0.5f * kSc[s] * q - 1.0f * kMin[s]) << e;
  }
  // Output 0: nibble 11, qh[0] = 5 bit 0 set -> 27; 0.5 * 1 * 27 - 0 = 13.5.
  EXPECT_EQ(y[0], 13.5f);
  // Output 33: chunk 0 high half, l = 1: qs[1] = 100 = 0x64 -> high nibble 6; qh[1] = 118 =
  // 0b1110110, bit 1 set -> 22; sub-block 1: 0.5 * 2 * 22 - 5 = 17.
  EXPECT_EQ(y[33], 17.0f);
}

TEST(DequantizeTest, Q6_K) {
  BlockQ6_K b{};
  b.d = kHalfQuarter;
  for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<int8_t>(j * 9 - 70);
  for (int i = 0; i < 128; ++i) b.ql[i] = static_cast<uint8_t>(i * 71 + 13);
  for (int i = 0; i < 64; ++i) b.qh[i] = static_cast<uint8_t>(i * 149 + 2);
  const std::vector<float> y = Dequantize(GgmlType::kQ6_K, b, 256);
  for (int e = 0; e < 256; ++e) {
    // Half h = e / 128 uses ql[64h..], qh[32h..]. Group g = (e % 128) / 32, l = e % 32:
    // g 0/1: low nibble of ql[l] / ql[l + 32]; g 2/3: high nibble of ql[l] / ql[l + 32];
    // top 2 bits: bits 2g..2g+1 of qh[l].
    const int h = e / 128, g = (e % 128) / 32, l = e % 32;
    const uint8_t lbyte = b.ql[64 * h + l + (g % 2 ? 32 : 0)];
    const int low = g < 2 ? (lbyte & 15) : (lbyte >> 4);
    const int high = (b.qh[32 * h + l] >> (2 * g)) & 3;
    const int q = (low | (high << 4)) - 32;
    EXPECT_EQ(y[e], 0.25f * static_cast<float>(b.scales[e / 16]) * static_cast<float>(q)) << e;
  }
  // Output 0: ql[0] = 13 -> low 13; qh[0] = 2 -> bits 0..1 = 2 -> 45 - 32 = 13;
  // scale -70: 0.25 * -70 * 13 = -227.5.
  EXPECT_EQ(y[0], -227.5f);
}

TEST(DequantizeTest, IQ4_NL) {
  BlockIQ4_NL b{};
  b.d = kHalfHalf;
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  const std::vector<float> y = Dequantize(GgmlType::kIQ4_NL, b, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 0.5f * kTable[j]) << j;
    EXPECT_EQ(y[j + 16], 0.5f * kTable[15 - j]) << j;
  }
  EXPECT_EQ(y[0], -63.5f);
  EXPECT_EQ(y[16], 56.5f);
  EXPECT_EQ(y[8], 0.5f);
}

TEST(DequantizeTest, IQ4_XS) {
  BlockIQ4_XS b{};
  b.d = kHalfQuarter;
  // Sub-block scales ls = {0, 31, 32, 33, 63, 10, 47, 20} (stored; minus 32 when used).
  // Low nibbles {0, 15, 0, 1, 15, 10, 15, 4} pair up into scales_l; top 2 bits
  // {0, 1, 2, 2, 3, 0, 2, 1} at bits 2ib of scales_h = 0x63A4.
  const int ls[8] = {0, 31, 32, 33, 63, 10, 47, 20};
  b.scales_l[0] = 0xF0;
  b.scales_l[1] = 0x10;
  b.scales_l[2] = 0xAF;
  b.scales_l[3] = 0x4F;
  b.scales_h = 0x63A4;
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>(i * 37 + 1);
  const std::vector<float> y = Dequantize(GgmlType::kIQ4_XS, b, 256);
  for (int e = 0; e < 256; ++e) {
    const int ib = e / 32, r = e % 32;
    const int nibble = r < 16 ? (b.qs[16 * ib + r] & 15) : (b.qs[16 * ib + r - 16] >> 4);
    EXPECT_EQ(y[e], 0.25f * static_cast<float>(ls[ib] - 32) * kTable[nibble]) << e;
  }
  // Output 0: qs[0] = 1 -> -104; scale 0 - 32: 0.25 * -32 * -104 = 832.
  EXPECT_EQ(y[0], 832.0f);
  // Output 64 (sub-block 2, scale 0) is zero whatever the nibble.
  EXPECT_EQ(y[64], 0.0f);
}

TEST(DequantizeDeathTest, RejectsPartialBlocks) {
  BlockQ4_0 b{};
  float y[32];
  EXPECT_DEATH(DequantizeRow(GgmlType::kQ4_0, &b, y, 31), "whole number of q4_0 blocks");
  EXPECT_DEATH(DequantizeRow(GgmlType::kIQ2_XXS, &b, y, 256), "not supported");
}

}  // namespace
}  // namespace corral::tensor
