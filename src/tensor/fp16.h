// Scalar conversions between float and the two 16-bit float formats GGUF stores: IEEE binary16
// ("F16", also every f16 scale inside quantized blocks) and bfloat16 ("BF16", the top half of a
// float). Pure bit manipulation, so results do not depend on the CPU's F16C support or on the
// current rounding mode; they match what llama.cpp's x86 build produces (F16C `vcvtps2ph` with
// round-to-nearest-even, and ggml's bf16 rounding).
#pragma once

#include <bit>
#include <cstdint>

namespace corral::tensor {

// binary16 -> float. Exact for every input (float has more range and precision); subnormal
// halves become normal floats, infinities stay infinite, NaNs stay NaN with their payload in
// the top mantissa bits and the quiet bit set (as `vcvtph2ps` does).
inline float Fp16ToFp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: the value is mantissa * 2^-24, which a float holds exactly.
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return std::bit_cast<float>(std::bit_cast<uint32_t>(magnitude) | sign);
  }
  if (exponent == 31) {
    if (mantissa == 0) return std::bit_cast<float>(sign | 0x7f800000u);
    return std::bit_cast<float>(sign | 0x7fc00000u | (mantissa << 13));
  }
  // Rebias the exponent from 15 to 127.
  return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

// float -> binary16, round to nearest, ties to even. Values at or above 65520 (the midpoint
// between 65504, the largest half, and 65536) become infinity; values below the smallest
// subnormal half's midpoint become a signed zero; NaNs become quiet NaNs keeping the top
// payload bits.
uint16_t Fp32ToFp16(float f);

// bfloat16 -> float: the bf16 bits are the top half of the float.
inline float Bf16ToFp32(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

// float -> bfloat16, round to nearest, ties to even (overflow goes to infinity). A NaN keeps its
// top bits and gets the quiet bit (0x40) forced, so truncation cannot turn it into infinity.
// Subnormals are kept (rounded like any other value), as ggml does.
inline uint16_t Fp32ToBf16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  const uint32_t rounding_bias = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding_bias) >> 16);
}

// Row conversions. `n` elements each.
void Fp16ToFp32Row(const uint16_t* src /* [n] */, float* dst /* [n] */, int64_t n);
void Fp32ToFp16Row(const float* src /* [n] */, uint16_t* dst /* [n] */, int64_t n);
void Bf16ToFp32Row(const uint16_t* src /* [n] */, float* dst /* [n] */, int64_t n);
void Fp32ToBf16Row(const float* src /* [n] */, uint16_t* dst /* [n] */, int64_t n);

}  // namespace corral::tensor
