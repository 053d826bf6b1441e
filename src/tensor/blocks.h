// Packed block structs for the quantized GGUF types, byte-for-byte the layouts llama.cpp
// writes (engine.md §3.1). Every f16 field is a uint16_t holding IEEE binary16 bits (convert with
// fp16.h). All fields have natural alignment, so no packing pragma is needed and sizeof equals
// the on-disk block size; the static_asserts below pin that, and tensor_test checks the same
// numbers against gguf::TypeInfo().type_size.
#pragma once

#include <cstdint>

namespace corral::tensor {

// Elements per block of the "legacy" quants (Q4_0 ... Q8_1, IQ4_NL).
inline constexpr int kQK32 = 32;
// Elements per super-block of the K-quants and IQ4_XS.
inline constexpr int kQKK = 256;

// Q4_0: x[j] = (nibble - 8) * d. qs[j] low nibble is element j, high nibble element j + 16.
struct BlockQ4_0 {
  uint16_t d;      // f16 scale
  uint8_t qs[16];  // 32 x 4-bit
};

// Q4_1: x[j] = nibble * d + m, same nibble order as Q4_0.
struct BlockQ4_1 {
  uint16_t d;      // f16 scale
  uint16_t m;      // f16 offset (the block minimum)
  uint8_t qs[16];  // 32 x 4-bit
};

// Q5_0: x[j] = ((nibble | bit_j << 4) - 16) * d, where bit_j is bit j of qh read as a
// little-endian uint32 (kept as bytes so the struct has no 4-byte alignment requirement).
struct BlockQ5_0 {
  uint16_t d;      // f16 scale
  uint8_t qh[4];   // 32 high bits, little-endian u32
  uint8_t qs[16];  // 32 low nibbles, same order as Q4_0
};

// Q5_1: x[j] = (nibble | bit_j << 4) * d + m.
struct BlockQ5_1 {
  uint16_t d;      // f16 scale
  uint16_t m;      // f16 offset
  uint8_t qh[4];   // 32 high bits, little-endian u32
  uint8_t qs[16];  // 32 low nibbles
};

// Q8_0: x[j] = qs[j] * d. Also the activation type for Q4_0, Q5_0, Q8_0 and IQ4_NL weights.
struct BlockQ8_0 {
  uint16_t d;  // f16 scale
  int8_t qs[32];
};

// Q8_1: activation type for Q4_1 / Q5_1 weights. s = d * sum(qs) lets the dot product apply
// the weight's offset m with one multiply per block.
struct BlockQ8_1 {
  uint16_t d;  // f16 scale
  uint16_t s;  // f16, d * sum(qs)
  int8_t qs[32];
};

// Q2_K: 16 sub-blocks of 16. scales[j] low nibble = scale, high nibble = min, both 4-bit.
// qs: two halves of 128 outputs, each from 32 bytes; within a half, shift s = 0, 2, 4, 6 takes
// 2 bits from bytes 0..15 (16 outputs) then bytes 16..31 (16 outputs).
// y = d * (sc & 15) * q - dmin * (sc >> 4).
struct BlockQ2_K {
  uint8_t scales[16];  // 4-bit scale | 4-bit min << 4, per 16 elements
  uint8_t qs[64];      // 256 x 2-bit
  uint16_t d;          // f16 super-block scale for the scales
  uint16_t dmin;       // f16 super-block scale for the mins
};

// Q3_K: 16 sub-blocks of 16, same 2-bit traversal as Q2_K plus a high bit per element in
// hmask (bit k of hmask[l] belongs to output 32k + l); a clear high bit subtracts 4, so values
// are -4..3. 6-bit signed scales (stored + 32): low 4 bits in scales[0..7] (nibbles), high 2
// bits in scales[8..11]. y = d * (scale - 32) * q.
struct BlockQ3_K {
  uint8_t hmask[32];   // high bits
  uint8_t qs[64];      // low 2 bits
  uint8_t scales[12];  // 16 x 6-bit
  uint16_t d;          // f16 super-block scale
};

// Q4_K: 8 sub-blocks of 32 with 6-bit scale and min packed in 12 bytes (see
// UnpackScaleMinK4 in dequantize.h). qs: 4 chunks of 32 bytes; chunk c low nibbles are outputs
// 64c..64c+31, high nibbles 64c+32..64c+63. y = d * sc * q - dmin * m.
struct BlockQ4_K {
  uint16_t d;          // f16 super-block scale for the scales
  uint16_t dmin;       // f16 super-block scale for the mins
  uint8_t scales[12];  // 8 x (6-bit scale, 6-bit min)
  uint8_t qs[128];     // 256 x 4-bit
};

// Q5_K: Q4_K plus a fifth bit: chunk c takes bit 2c of qh[l] for its low-nibble output l and
// bit 2c+1 for its high-nibble output l (l = 0..31).
struct BlockQ5_K {
  uint16_t d;          // f16 super-block scale for the scales
  uint16_t dmin;       // f16 super-block scale for the mins
  uint8_t scales[12];  // 8 x (6-bit scale, 6-bit min)
  uint8_t qh[32];      // high bits
  uint8_t qs[128];     // low nibbles
};

// Q6_K: 16 sub-blocks of 16 with int8 scales. Two halves of 128 outputs, each using 64 ql
// bytes and 32 qh bytes; y = d * scale * (q - 32) with q 6-bit (see dequantize.cpp for order).
struct BlockQ6_K {
  uint8_t ql[128];    // low 4 bits
  uint8_t qh[64];     // high 2 bits
  int8_t scales[16];  // per 16 elements
  uint16_t d;         // f16 super-block scale
};

// Q8_K: activation type for the K-quants and IQ4_XS. d is a float (not f16). bsums[k] is the
// sum of qs[16k .. 16k+15], which lets the dot product apply the weights' mins cheaply.
struct BlockQ8_K {
  float d;
  int8_t qs[256];
  int16_t bsums[16];
};

// IQ4_NL: x[j] = d * kIq4nlValues[nibble]; nibble order as Q4_0.
struct BlockIQ4_NL {
  uint16_t d;      // f16 scale
  uint8_t qs[16];  // 32 x 4-bit table indices
};

// IQ4_XS: 8 sub-blocks of 32 with 6-bit scales (stored + 32): low 4 bits in scales_l (nibble
// ib % 2 of byte ib / 2), high 2 bits in bits 2ib..2ib+1 of scales_h. Each sub-block has 16
// bytes of qs: low nibbles = its first 16 values, high nibbles = its next 16.
// y = d * (ls - 32) * kIq4nlValues[nibble].
struct BlockIQ4_XS {
  uint16_t d;           // f16 super-block scale
  uint16_t scales_h;    // 8 x 2 high bits of the sub-block scales
  uint8_t scales_l[4];  // 8 x 4 low bits
  uint8_t qs[128];      // 256 x 4-bit table indices
};

// The 16 non-linear levels of IQ4_NL / IQ4_XS (engine.md §3.1).
inline constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);
static_assert(sizeof(BlockIQ4_NL) == 18);
static_assert(sizeof(BlockIQ4_XS) == 136);

// The 6-bit (scale, min) pair of sub-block j (0..7) from the 12 packed bytes of Q4_K / Q5_K:
// j < 4 uses the low 6 bits of bytes j and j+4; j >= 4 takes its low 4 bits from byte j+4 and
// its top 2 bits from the spare top bits of bytes j-4 (scale) and j (min).
inline void UnpackScaleMinK4(int j, const uint8_t* packed /* [12] */, uint8_t* scale,
                             uint8_t* min) {
  if (j < 4) {
    *scale = packed[j] & 63;
    *min = packed[j + 4] & 63;
  } else {
    *scale = static_cast<uint8_t>((packed[j + 4] & 15) | ((packed[j - 4] >> 6) << 4));
    *min = static_cast<uint8_t>((packed[j + 4] >> 4) | ((packed[j] >> 6) << 4));
  }
}

// The signed 6-bit scale of Q3_K sub-block j (0..15), already minus 32 (-32..31).
inline int Q3KScale(const uint8_t* packed /* [12] */, int j) {
  const int low = j < 8 ? (packed[j] & 15) : (packed[j - 8] >> 4);
  const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
  return (low | (high << 4)) - 32;
}

// The 6-bit scale of IQ4_XS sub-block ib (0..7), already minus 32.
inline int IQ4XSScale(const BlockIQ4_XS& block, int ib) {
  const int low = (block.scales_l[ib / 2] >> (4 * (ib % 2))) & 15;
  const int high = (block.scales_h >> (2 * ib)) & 3;
  return (low | (high << 4)) - 32;
}

}  // namespace corral::tensor
