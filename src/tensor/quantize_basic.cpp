// Plain-rounding quantizers: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1 (one scale per 32) and the Q8_K
// activation quantizer. Each mirrors llama.cpp's quantize_row_*_ref operation for operation
// (including its truncating casts), so the bytes match.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "tensor/fp16.h"
#include "tensor/quantize_internal.h"

namespace corral::tensor::internal {
namespace {

// The element with the largest magnitude, sign kept (the first one on ties).
float SignedAbsMax(const float* x, int n) {
  float amax = 0.0f;
  float max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void MinMax(const float* x, int n, float* min, float* max) {
  *min = FLT_MAX;
  *max = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    if (x[j] < *min) *min = x[j];
    if (x[j] > *max) *max = x[j];
  }
}

// Stores 32 five-bit values: low nibbles into qs (element j and j + 16 share byte j), fifth
// bits into the little-endian u32 qh.
void PackFiveBit(const uint8_t* q /* [32] */, uint8_t* qs /* [16] */, uint8_t* qh_bytes /* [4] */) {
  uint32_t qh = 0;
  for (int j = 0; j < 16; ++j) {
    qs[j] = static_cast<uint8_t>((q[j] & 15) | ((q[j + 16] & 15) << 4));
    qh |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
    qh |= static_cast<uint32_t>((q[j + 16] >> 4) & 1) << (j + 16);
  }
  std::memcpy(qh_bytes, &qh, sizeof(qh));
}

}  // namespace

void QuantizeQ4_0(const float* x, BlockQ4_0* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK32) {
    // Map the largest-magnitude element to -8 exactly, so its side gets all 8 levels.
    const float max = SignedAbsMax(x, kQK32);
    const float d = max / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    for (int j = 0; j < 16; ++j) {
      // Truncation of (v + 8.5) is round-half-up for the non-negative v + 8.
      const int q0 = std::min(15, static_cast<int>(x[j] * id + 8.5f));
      const int q1 = std::min(15, static_cast<int>(x[j + 16] * id + 8.5f));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void QuantizeQ4_1(const float* x, BlockQ4_1* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK32) {
    float min, max;
    MinMax(x, kQK32, &min, &max);
    const float d = (max - min) / 15;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    y[i].m = Fp32ToFp16(min);
    for (int j = 0; j < 16; ++j) {
      const int q0 = std::min(15, static_cast<int>((x[j] - min) * id + 0.5f));
      const int q1 = std::min(15, static_cast<int>((x[j + 16] - min) * id + 0.5f));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void QuantizeQ5_0(const float* x, BlockQ5_0* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK32) {
    const float max = SignedAbsMax(x, kQK32);
    const float d = max / -16;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    uint8_t q[kQK32];
    for (int j = 0; j < kQK32; ++j) {
      q[j] = static_cast<uint8_t>(std::min(31, static_cast<int>(x[j] * id + 16.5f)));
    }
    PackFiveBit(q, y[i].qs, y[i].qh);
  }
}

void QuantizeQ5_1(const float* x, BlockQ5_1* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK32) {
    float min, max;
    MinMax(x, kQK32, &min, &max);
    const float d = (max - min) / 31;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    y[i].m = Fp32ToFp16(min);
    uint8_t q[kQK32];
    for (int j = 0; j < kQK32; ++j) {
      // No clamp here, as in llama.cpp: (max - min) * id + 0.5 stays below 32.
      q[j] = static_cast<uint8_t>(static_cast<int>((x[j] - min) * id + 0.5f));
    }
    PackFiveBit(q, y[i].qs, y[i].qh);
  }
}

void QuantizeQ8_0(const float* x, BlockQ8_0* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK32) {
    float amax = 0.0f;
    for (int j = 0; j < kQK32; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    // roundf: halves away from zero (not NearestInt), as quantize_row_q8_0_ref does.
    for (int j = 0; j < kQK32; ++j) y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
  }
}

void QuantizeQ8_1(const float* x, BlockQ8_1* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK32) {
    float amax = 0.0f;
    for (int j = 0; j < kQK32; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    int sum = 0;
    for (int j = 0; j < kQK32; ++j) {
      y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
      sum += y[i].qs[j];
    }
    // s uses the unrounded float d, as llama.cpp does.
    y[i].s = Fp32ToFp16(static_cast<float>(sum) * d);
  }
}

void QuantizeQ8_K(const float* x, BlockQ8_K* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQKK) {
    float amax = 0.0f;
    float max = 0.0f;
    for (int j = 0; j < kQKK; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    if (amax == 0.0f) {
      // llama.cpp leaves bsums untouched here; zeroing them keeps the block deterministic
      // and equal to what any dot product expects (sum of zeros).
      std::memset(&y[i], 0, sizeof(y[i]));
      continue;
    }
    // -127 rather than -128 so the largest element maps to -127 and no product pair in the
    // SIMD kernels (maddubs) can saturate int16.
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQKK; ++j) {
      y[i].qs[j] = static_cast<int8_t>(std::min(127, NearestInt(iscale * x[j])));
    }
    for (int k = 0; k < 16; ++k) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += y[i].qs[16 * k + l];
      y[i].bsums[k] = static_cast<int16_t>(sum);
    }
    y[i].d = 1 / iscale;
  }
}

}  // namespace corral::tensor::internal
