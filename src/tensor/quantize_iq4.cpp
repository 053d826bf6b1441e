// IQ4_NL and IQ4_XS quantizers: 4-bit indices into the non-linear table kIq4nlValues. Follows
// what llama.cpp writes for these types without an importance matrix (quantize_iq4_nl /
// quantize_iq4_xs with 7 trial steps each way; weights x^2).
#include <cmath>
#include <cstring>

#include "tensor/fp16.h"
#include "tensor/quantize_internal.h"

namespace corral::tensor::internal {
namespace {

constexpr int kTrialSteps = 7;

// Index of the table entry nearest to x (ties go to the upper entry), by bisection over the
// sorted table.
int BestIndex(float x) {
  const int8_t* values = kIq4nlValues;
  if (x <= values[0]) return 0;
  if (x >= values[15]) return 15;
  int lo = 0, hi = 15;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (x < values[mid]) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return x - values[hi - 1] < values[hi] - x ? hi - 1 : hi;
}

// Fits one group of 32 (weights x^2) and returns its scale d so that x ~ d * table[L]; 0 for an
// all-zero group. First maps the max-magnitude element onto the table's far end (-127), refits
// d by weighted least squares, then tries 2*kTrialSteps+1 neighbouring grids and keeps the
// refit with the largest sumqx^2 / sumq2 (the smallest weighted error). The levels are not
// kept: callers re-derive them from the scale they finally store.
float FitGroupScale(const float* xb /* [32] */) {
  float weight[32];
  for (int j = 0; j < 32; ++j) weight[j] = xb[j] * xb[j];
  float amax = 0, max = 0;
  for (int j = 0; j < 32; ++j) {
    const float ax = std::fabs(xb[j]);
    if (ax > amax) {
      amax = ax;
      max = xb[j];
    }
  }
  if (amax < kGroupMaxEps) return 0.0f;
  const float table_end = static_cast<float>(kIq4nlValues[0]);
  float d = -max / table_end;
  float id = 1 / d;
  float sumqx = 0, sumq2 = 0;
  for (int j = 0; j < 32; ++j) {
    const float q = static_cast<float>(kIq4nlValues[BestIndex(id * xb[j])]);
    sumqx += weight[j] * q * xb[j];
    sumq2 += weight[j] * q * q;
  }
  d = sumqx / sumq2;
  float best = d * sumqx;
  for (int itry = -kTrialSteps; itry <= kTrialSteps; ++itry) {
    // Note the sign: these grids map max onto +127-ish, i.e. they try the mirrored
    // assignment (the table is not symmetric), which the refit turns into a negative d.
    id = (static_cast<float>(itry) + table_end) / max;
    sumqx = sumq2 = 0;
    for (int j = 0; j < 32; ++j) {
      const float q = static_cast<float>(kIq4nlValues[BestIndex(id * xb[j])]);
      sumqx += weight[j] * q * xb[j];
      sumq2 += weight[j] * q * q;
    }
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      d = sumqx / sumq2;
      best = d * sumqx;
    }
  }
  return d;
}

// Packs 32 indices of one group: byte j holds index j (low nibble) and index j + 16 (high).
void PackGroup(const uint8_t* L /* [32] */, uint8_t* qs /* [16] */) {
  for (int j = 0; j < 16; ++j) qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
}

}  // namespace

void QuantizeIQ4_NL(const float* x, BlockIQ4_NL* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK32) {
    const float d = FitGroupScale(x);
    y[i].d = Fp32ToFp16(d);
    // Indices are chosen against the float scale (not the f16-rounded one), as llama.cpp does.
    const float id = d != 0.0f ? 1 / d : 0.0f;
    uint8_t L[kQK32];
    for (int j = 0; j < kQK32; ++j) L[j] = static_cast<uint8_t>(BestIndex(id * x[j]));
    PackGroup(L, y[i].qs);
  }
}

void QuantizeIQ4_XS(const float* x, BlockIQ4_XS* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQKK) {
    float scales[8];
    float max_scale = 0, amax_scale = 0;
    for (int ib = 0; ib < 8; ++ib) {
      scales[ib] = FitGroupScale(x + 32 * ib);
      const float abs_d = std::fabs(scales[ib]);
      if (abs_d > amax_scale) {
        amax_scale = abs_d;
        max_scale = scales[ib];
      }
    }
    // Sub-block scales are 6-bit signed (-32..31) against d; the largest maps to -32.
    const float d = -max_scale / 32;
    y[i].d = Fp32ToFp16(d);
    const float id = d != 0.0f ? 1 / d : 0.0f;
    y[i].scales_h = 0;
    std::memset(y[i].scales_l, 0, sizeof(y[i].scales_l));
    for (int ib = 0; ib < 8; ++ib) {
      int l = NearestInt(id * scales[ib]);
      l = l < -32 ? -32 : (l > 31 ? 31 : l);
      // Indices against the scale as stored (in float, before f16 rounding of d).
      const float dl = d * static_cast<float>(l);
      const float idl = dl != 0.0f ? 1 / dl : 0.0f;
      uint8_t L[32];
      for (int j = 0; j < 32; ++j) L[j] = static_cast<uint8_t>(BestIndex(idl * x[32 * ib + j]));
      PackGroup(L, y[i].qs + 16 * ib);
      l += 32;
      y[i].scales_l[ib / 2] |= static_cast<uint8_t>((l & 15) << (4 * (ib % 2)));
      y[i].scales_h = static_cast<uint16_t>(y[i].scales_h | ((l >> 4) << (2 * ib)));
    }
  }
}

}  // namespace corral::tensor::internal
