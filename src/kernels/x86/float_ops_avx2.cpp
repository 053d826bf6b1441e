// AVX2 + FMA float ops: the generic SIMD code in float_ops_simd.inc over 8-float ymm vectors,
// with tails done by vmaskmovps. Compiled with AVX2 flags (this file only); it runs only when
// dispatch.cpp has checked the CPU.
#include <immintrin.h>

#include <cstdint>

#include "kernels/float_ops_tables.h"

namespace corral::kernels {
namespace {

// Eight -1s then eight 0s: the 8 ints starting at kLaneMasks + 8 - count enable the first
// `count` lanes.
alignas(64) constexpr int32_t kLaneMasks[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                0,  0,  0,  0,  0,  0,  0,  0};

struct Isa {
  using V = __m256;
  static constexpr int64_t kWidth = 8;
  static constexpr CpuLevel kLevel = CpuLevel::kAvx2;

  static __m256i FirstLanes(int64_t count) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLaneMasks + 8 - count));
  }

  static V Zero() { return _mm256_setzero_ps(); }
  static V Set1(float v) { return _mm256_set1_ps(v); }
  static V Load(const float* p) { return _mm256_loadu_ps(p); }
  static void Store(float* p, V v) { _mm256_storeu_ps(p, v); }
  // Lanes >= count read `fill`; masked lanes are not touched in memory (no fault past the end).
  static V LoadPartial(const float* p, int64_t count, float fill) {
    const __m256i mask = FirstLanes(count);
    return _mm256_blendv_ps(Set1(fill), _mm256_maskload_ps(p, mask), _mm256_castsi256_ps(mask));
  }
  static void StorePartial(float* p, V v, int64_t count) {
    _mm256_maskstore_ps(p, FirstLanes(count), v);
  }
  // 8 (or `count` < 8, the rest 0) IEEE halves widened to floats; AVX2 has no 16-bit masked
  // load, so a tail goes through a small zeroed copy.
  static V LoadF16(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static V LoadF16Partial(const uint16_t* p, int64_t count) {
    alignas(16) uint16_t tmp[8] = {};
    for (int64_t i = 0; i < count; ++i) tmp[i] = p[i];
    return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(tmp)));
  }
  static V KeepFirst(V v, int64_t count) {
    return _mm256_and_ps(v, _mm256_castsi256_ps(FirstLanes(count)));
  }

  static V Add(V a, V b) { return _mm256_add_ps(a, b); }
  static V Sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V Mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V Div(V a, V b) { return _mm256_div_ps(a, b); }
  static V Max(V a, V b) { return _mm256_max_ps(a, b); }
  static V Min(V a, V b) { return _mm256_min_ps(a, b); }
  static V Fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }    // a·b + c
  static V Fms(V a, V b, V c) { return _mm256_fmsub_ps(a, b, c); }    // a·b − c
  static V Fnma(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }  // c − a·b
  // Even lanes a·b − c, odd lanes a·b + c.
  static V FmAddSub(V a, V b, V c) { return _mm256_fmaddsub_ps(a, b, c); }
  static V Abs(V v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }
  // Per lane: `negative` where x's sign bit is set, else `nonnegative`.
  static V SelectBySign(V x, V nonnegative, V negative) {
    return _mm256_blendv_ps(nonnegative, negative, x);
  }
  static V Round(V v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // p · 2^k for integral k in [-150, 129] (ExpV's clamp): two power-of-two factors, each with
  // a normal exponent, so overflow gives inf and underflow rounds gradually to 0.
  static V Ldexp(V p, V k) {
    const __m256i ki = _mm256_cvtps_epi32(k);
    const __m256i k1 = _mm256_srai_epi32(ki, 1);
    const __m256i k2 = _mm256_sub_epi32(ki, k1);
    const __m256i bias = _mm256_set1_epi32(127);
    const V scale1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, bias), 23));
    const V scale2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, scale1), scale2);
  }

  static float ReduceAdd(V v) {
    __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
    sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
    return _mm_cvtss_f32(sum);
  }
  static float ReduceMax(V v) {
    __m128 max = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    max = _mm_max_ps(max, _mm_movehl_ps(max, max));
    max = _mm_max_ss(max, _mm_movehdup_ps(max));
    return _mm_cvtss_f32(max);
  }

  // (v1, v0, v3, v2, ...): swaps the floats of each pair.
  static V SwapPairs(V v) { return _mm256_permute_ps(v, 0xB1); }
  // (p[0], p[0], p[1], p[1], ...) from `pairs` <= 4 floats.
  static V LoadDupPairs(const float* p, int64_t pairs) {
    const __m128 quarter =
        pairs == 4
            ? _mm_loadu_ps(p)
            : _mm_maskload_ps(
                  p, _mm_loadu_si128(reinterpret_cast<const __m128i*>(kLaneMasks + 8 - pairs)));
    const __m256i index = _mm256_set_epi32(3, 3, 2, 2, 1, 1, 0, 0);
    return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(quarter), index);
  }
};

#include "kernels/x86/float_ops_simd.inc"

}  // namespace

constinit const KernelTable kAvx2FloatOps = kTable;

}  // namespace corral::kernels
