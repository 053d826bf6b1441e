// Shared pieces of the quantizers (quantize_*.cpp). Not part of the tensor layer's API.
#pragma once

#include <bit>
#include <cstdint>

#include "tensor/blocks.h"

namespace corral::tensor::internal {

// Below this, a group counts as all zeros (ggml's GROUP_MAX_EPS).
inline constexpr float kGroupMaxEps = 1e-15f;

// Round to nearest, ties to even, for |x| <= 2^22: adding 1.5 * 2^23 puts the integer part in
// the low mantissa bits under the FPU's default rounding. Used instead of lrintf/roundf because
// it is the exact operation llama.cpp's K-quant and IQ quantizers use.
inline int NearestInt(float x) {
  const float shifted = x + 12582912.0f;
  const int32_t bits = std::bit_cast<int32_t>(shifted);
  return (bits & 0x007fffff) - 0x00400000;
}

// Family entry points; `nb` blocks each.
void QuantizeQ4_0(const float* x /* [32 nb] */, BlockQ4_0* y /* [nb] */, int64_t nb);
void QuantizeQ4_1(const float* x /* [32 nb] */, BlockQ4_1* y /* [nb] */, int64_t nb);
void QuantizeQ5_0(const float* x /* [32 nb] */, BlockQ5_0* y /* [nb] */, int64_t nb);
void QuantizeQ5_1(const float* x /* [32 nb] */, BlockQ5_1* y /* [nb] */, int64_t nb);
void QuantizeQ8_0(const float* x /* [32 nb] */, BlockQ8_0* y /* [nb] */, int64_t nb);
void QuantizeQ8_1(const float* x /* [32 nb] */, BlockQ8_1* y /* [nb] */, int64_t nb);
void QuantizeQ8_K(const float* x /* [256 nb] */, BlockQ8_K* y /* [nb] */, int64_t nb);

void QuantizeQ2_K(const float* x /* [256 nb] */, BlockQ2_K* y /* [nb] */, int64_t nb);
void QuantizeQ3_K(const float* x /* [256 nb] */, BlockQ3_K* y /* [nb] */, int64_t nb);
void QuantizeQ4_K(const float* x /* [256 nb] */, BlockQ4_K* y /* [nb] */, int64_t nb);
void QuantizeQ5_K(const float* x /* [256 nb] */, BlockQ5_K* y /* [nb] */, int64_t nb);
void QuantizeQ6_K(const float* x /* [256 nb] */, BlockQ6_K* y /* [nb] */, int64_t nb);

void QuantizeIQ4_NL(const float* x /* [32 nb] */, BlockIQ4_NL* y /* [nb] */, int64_t nb);
void QuantizeIQ4_XS(const float* x /* [256 nb] */, BlockIQ4_XS* y /* [nb] */, int64_t nb);

}  // namespace corral::tensor::internal
