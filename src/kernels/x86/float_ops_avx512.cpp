// AVX-512 float ops: the generic SIMD code in float_ops_simd.inc over 16-float zmm vectors,
// with tails done by AVX-512 masked loads and stores. Compiled with AVX-512 flags (this file
// only); it runs only when dispatch.cpp has checked the CPU.
#include <immintrin.h>

#include <cstdint>

#include "kernels/float_ops_tables.h"

namespace corral::kernels {
namespace {

struct Isa {
  using V = __m512;
  static constexpr int64_t kWidth = 16;
  static constexpr CpuLevel kLevel = CpuLevel::kAvx512;

  static __mmask16 FirstLanes(int64_t count) { return static_cast<__mmask16>((1u << count) - 1u); }

  static V Zero() { return _mm512_setzero_ps(); }
  static V Set1(float v) { return _mm512_set1_ps(v); }
  static V Load(const float* p) { return _mm512_loadu_ps(p); }
  static void Store(float* p, V v) { _mm512_storeu_ps(p, v); }
  // Lanes >= count read `fill`; masked lanes are not touched in memory (no fault past the end).
  static V LoadPartial(const float* p, int64_t count, float fill) {
    return _mm512_mask_loadu_ps(Set1(fill), FirstLanes(count), p);
  }
  static void StorePartial(float* p, V v, int64_t count) {
    _mm512_mask_storeu_ps(p, FirstLanes(count), v);
  }
  static V KeepFirst(V v, int64_t count) { return _mm512_maskz_mov_ps(FirstLanes(count), v); }
  // 16 (or `count` < 16, the rest 0) IEEE halves widened to floats.
  static V LoadF16(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static V LoadF16Partial(const uint16_t* p, int64_t count) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(FirstLanes(count), p));
  }

  static V Add(V a, V b) { return _mm512_add_ps(a, b); }
  static V Sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V Mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V Div(V a, V b) { return _mm512_div_ps(a, b); }
  static V Max(V a, V b) { return _mm512_max_ps(a, b); }
  static V Min(V a, V b) { return _mm512_min_ps(a, b); }
  static V Fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }    // a·b + c
  static V Fms(V a, V b, V c) { return _mm512_fmsub_ps(a, b, c); }    // a·b − c
  static V Fnma(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }  // c − a·b
  // Even lanes a·b − c, odd lanes a·b + c.
  static V FmAddSub(V a, V b, V c) { return _mm512_fmaddsub_ps(a, b, c); }
  static V Abs(V v) { return _mm512_abs_ps(v); }
  // Per lane: `negative` where x's sign bit is set, else `nonnegative`.
  static V SelectBySign(V x, V nonnegative, V negative) {
    return _mm512_mask_blend_ps(_mm512_movepi32_mask(_mm512_castps_si512(x)), nonnegative,
                                negative);
  }
  static V Round(V v) {
    return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  // p · 2^k for integral k; scalef handles overflow to inf and gradual underflow itself.
  static V Ldexp(V p, V k) { return _mm512_scalef_ps(p, k); }

  static float ReduceAdd(V v) { return _mm512_reduce_add_ps(v); }
  static float ReduceMax(V v) { return _mm512_reduce_max_ps(v); }

  // (v1, v0, v3, v2, ...): swaps the floats of each pair.
  static V SwapPairs(V v) { return _mm512_permute_ps(v, 0xB1); }
  // (p[0], p[0], p[1], p[1], ...) from `pairs` <= 8 floats.
  static V LoadDupPairs(const float* p, int64_t pairs) {
    const __m256 half = pairs == 8
                            ? _mm256_loadu_ps(p)
                            : _mm256_maskz_loadu_ps(static_cast<__mmask8>((1u << pairs) - 1u), p);
    const __m512i index = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    return _mm512_permutexvar_ps(index, _mm512_castps256_ps512(half));
  }
};

#include "kernels/x86/float_ops_simd.inc"

}  // namespace

constinit const KernelTable kAvx512FloatOps = kTable;

}  // namespace corral::kernels
