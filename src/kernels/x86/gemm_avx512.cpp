// AVX-512 VNNI panel kernels for the packed GEMM (gemm.h): one zmm lane per weight row of a
// 16-row panel, a register tile of 16 rows × T tokens. The scalar twins in gemm.cpp compute the
// same integer sums in the same blocks; only the float accumulation order differs.
#include <immintrin.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#include "kernels/gemm_layout.h"
#include "tensor/blocks.h"

namespace corral::kernels::avx512_gemm {
namespace {

using namespace gemm_internal;  // NOLINT: the layout structs are this file's vocabulary
using tensor::BlockQ8_0;
using tensor::BlockQ8_K;

// The 4 bytes at p in every 32-bit lane (the activation side of vpdpbusd / vpdpwssd).
inline __m512i Broadcast4(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// Q8_0: 8 dpbusd per token and 32-column block; the int accumulator starts at the −128·Σa
// correction so the +128 of the unsigned weights cancels exactly.
template <int T>
void KernelQ8_0(const uint8_t* panel, int64_t n_cols, const uint8_t* x, size_t x_row,
                const uint8_t* aux, size_t aux_row, float* out) {
  const auto* w = reinterpret_cast<const PanelQ8_0*>(panel);
  __m512 acc[T];  // [T] × 16 rows
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < n_cols / 32; ++b) {
    __m512i wq[8];  // [group] 16 rows × 4 columns
    for (int g = 0; g < 8; ++g) wq[g] = _mm512_load_si512(w[b].q[g]);
    const __m512 d = _mm512_load_ps(w[b].d);
    for (int t = 0; t < T; ++t) {
      const auto* a = reinterpret_cast<const BlockQ8_0*>(x + t * x_row) + b;
      const auto* s = reinterpret_cast<const AuxQ8_0*>(aux + t * aux_row) + b;
      __m512i sum = _mm512_set1_epi32(s->corr);
      for (int g = 0; g < 8; ++g) sum = _mm512_dpbusd_epi32(sum, wq[g], Broadcast4(a->qs + 4 * g));
      acc[t] =
          _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(d, _mm512_set1_ps(s->d)), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) _mm512_store_ps(out + t * P, acc[t]);
}

// Q4_K: per 32-column sub-block, 4 loads give 8 nibble vectors (groups i and i + 4) shared by
// all tokens; each token's 8 dpbusd are scaled by the sub-block's 6-bit scale (vpmulld) into a
// block accumulator. The mins term takes 4 vpdpwssd per token and block.
template <int T>
void KernelQ4_K(const uint8_t* panel, int64_t n_cols, const uint8_t* x, size_t x_row,
                const uint8_t* aux, size_t aux_row, float* out) {
  const auto* w = reinterpret_cast<const PanelQ4_K*>(panel);
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  __m512 acc[T];  // [T] × 16 rows
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < n_cols / 256; ++b) {
    __m512i isum[T];  // [T] Σ_j sc_j · dot_j
    for (int t = 0; t < T; ++t) isum[t] = _mm512_setzero_si512();
    for (int j = 0; j < 8; ++j) {
      __m512i wq[8];  // [group] 16 rows × 4 columns, 0..15
      for (int i = 0; i < 4; ++i) {
        const __m512i v = _mm512_load_si512(w[b].q[j][i]);
        wq[i] = _mm512_and_si512(v, low4);
        wq[i + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
      }
      const __m512i sc =
          _mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(w[b].sc[j])));
      for (int t = 0; t < T; ++t) {
        const int8_t* a = reinterpret_cast<const BlockQ8_K*>(x + t * x_row)[b].qs + 32 * j;
        __m512i dot = _mm512_setzero_si512();
        for (int g = 0; g < 8; ++g) dot = _mm512_dpbusd_epi32(dot, wq[g], Broadcast4(a + 4 * g));
        isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(dot, sc));
      }
    }
    __m512i mins[4];  // [pair] 16 rows × (m_2i, m_2i+1)
    for (int i = 0; i < 4; ++i) mins[i] = _mm512_load_si512(w[b].m[i]);
    const __m512 d = _mm512_load_ps(w[b].d), dmin = _mm512_load_ps(w[b].dmin);
    for (int t = 0; t < T; ++t) {
      const auto* s = reinterpret_cast<const AuxQ4_K*>(aux + t * aux_row) + b;
      __m512i msum = _mm512_setzero_si512();
      for (int i = 0; i < 4; ++i)
        msum = _mm512_dpwssd_epi32(msum, mins[i], Broadcast4(s->s + 2 * i));
      const __m512 da = _mm512_set1_ps(reinterpret_cast<const BlockQ8_K*>(x + t * x_row)[b].d);
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_mul_ps(d, da), acc[t]);
      acc[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(msum), _mm512_mul_ps(dmin, da), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) _mm512_store_ps(out + t * P, acc[t]);
}

// Q6_K: unsigned 0..63 values; per 16-column sub-block 4 dpbusd then the int8 scale; the −32
// offset comes off through the activation bsums (vpdpwssd with 32·scale pairs).
template <int T>
void KernelQ6_K(const uint8_t* panel, int64_t n_cols, const uint8_t* x, size_t x_row,
                const uint8_t* /*aux*/, size_t /*aux_row*/, float* out) {
  const auto* w = reinterpret_cast<const PanelQ6_K*>(panel);
  __m512 acc[T];  // [T] × 16 rows
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < n_cols / 256; ++b) {
    __m512i isum[T];  // [T]
    for (int t = 0; t < T; ++t) isum[t] = _mm512_setzero_si512();
    for (int j = 0; j < 16; j += 2) {
      __m512i wq[8];  // [group] of sub-blocks j, j + 1
      for (int g = 0; g < 8; ++g) wq[g] = _mm512_load_si512(w[b].q[4 * j + g]);
      const __m512i sc0 =
          _mm512_cvtepi8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(w[b].sc[j])));
      const __m512i sc1 =
          _mm512_cvtepi8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(w[b].sc[j + 1])));
      for (int t = 0; t < T; ++t) {
        const int8_t* a = reinterpret_cast<const BlockQ8_K*>(x + t * x_row)[b].qs + 16 * j;
        __m512i dot0 = _mm512_setzero_si512(), dot1 = _mm512_setzero_si512();
        for (int g = 0; g < 4; ++g) {
          dot0 = _mm512_dpbusd_epi32(dot0, wq[g], Broadcast4(a + 4 * g));
          dot1 = _mm512_dpbusd_epi32(dot1, wq[g + 4], Broadcast4(a + 16 + 4 * g));
        }
        isum[t] = _mm512_add_epi32(isum[t], _mm512_add_epi32(_mm512_mullo_epi32(dot0, sc0),
                                                             _mm512_mullo_epi32(dot1, sc1)));
      }
    }
    const __m512 d = _mm512_load_ps(w[b].d);
    for (int t = 0; t < T; ++t) {
      const auto& a = reinterpret_cast<const BlockQ8_K*>(x + t * x_row)[b];
      __m512i off = _mm512_setzero_si512();
      for (int i = 0; i < 8; ++i) {
        off = _mm512_dpwssd_epi32(off, _mm512_load_si512(w[b].m32[i]), Broadcast4(a.bsums + 2 * i));
      }
      const __m512 s = _mm512_cvtepi32_ps(_mm512_sub_epi32(isum[t], off));
      acc[t] = _mm512_fmadd_ps(s, _mm512_mul_ps(d, _mm512_set1_ps(a.d)), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) _mm512_store_ps(out + t * P, acc[t]);
}

// F16: one vcvtph2ps per column feeds T FMAs with the token's (pre-converted) f32 activation
// broadcast.
template <int T>
void KernelF16(const uint8_t* panel, int64_t n_cols, const uint8_t* /*x*/, size_t /*x_row*/,
               const uint8_t* aux, size_t aux_row, float* out) {
  const auto* w = reinterpret_cast<const __m256i*>(panel);  // [n_cols] × 16 halves
  __m512 acc[T];                                            // [T] × 16 rows
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t k = 0; k < n_cols; ++k) {
    const __m512 wk = _mm512_cvtph_ps(_mm256_load_si256(w + k));
    for (int t = 0; t < T; ++t) {
      const float a = reinterpret_cast<const float*>(aux + t * aux_row)[k];
      acc[t] = _mm512_fmadd_ps(wk, _mm512_set1_ps(a), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) _mm512_store_ps(out + t * P, acc[t]);
}

using TileFn = void (*)(const uint8_t*, int64_t, const uint8_t*, size_t, const uint8_t*, size_t,
                        float*);

// The kernel for any token count up to kMax, by a table of the template's instances.
template <template <int> class K, int kMax>
struct Dispatch {
  template <int... I>
  static constexpr auto Make(std::integer_sequence<int, I...>) {
    return std::array<TileFn, sizeof...(I)>{K<I + 1>::fn...};
  }
  static void Run(const uint8_t* panel, int64_t n_cols, const uint8_t* x, size_t x_row,
                  const uint8_t* aux, size_t aux_row, int n_tokens, float* out) {
    static constexpr auto table = Make(std::make_integer_sequence<int, kMax>());
    table[n_tokens - 1](panel, n_cols, x, x_row, aux, aux_row, out);
  }
};

template <int T>
struct Q8_0Fn {
  static constexpr TileFn fn = KernelQ8_0<T>;
};
template <int T>
struct Q4_KFn {
  static constexpr TileFn fn = KernelQ4_K<T>;
};
template <int T>
struct Q6_KFn {
  static constexpr TileFn fn = KernelQ6_K<T>;
};
template <int T>
struct F16Fn {
  static constexpr TileFn fn = KernelF16<T>;
};

// Register tiles: Q8_0 8 weight + 8 accumulator vectors; Q4_K 8 weight + 8 int + 8 float
// accumulators (+ scale, mask); Q6_K likewise; F16 one weight vector and 16 accumulators.
constexpr int kTileQ8_0 = 8, kTileQ4_K = 8, kTileQ6_K = 8, kTileF16 = 16;

}  // namespace

void FillGemms(GemmTable* table) {
  auto set = [&](gguf::GgmlType type, PanelKernelFn fn, int tile) {
    const int id = static_cast<int>(type);
    table->kernel[id] = fn;
    table->native[id] = true;
    table->token_tile[id] = tile;
  };
  set(gguf::GgmlType::kQ8_0, Dispatch<Q8_0Fn, kTileQ8_0>::Run, kTileQ8_0);
  set(gguf::GgmlType::kQ4_K, Dispatch<Q4_KFn, kTileQ4_K>::Run, kTileQ4_K);
  set(gguf::GgmlType::kQ6_K, Dispatch<Q6_KFn, kTileQ6_K>::Run, kTileQ6_K);
  set(gguf::GgmlType::kF16, Dispatch<F16Fn, kTileF16>::Run, kTileF16);
}

}  // namespace corral::kernels::avx512_gemm
