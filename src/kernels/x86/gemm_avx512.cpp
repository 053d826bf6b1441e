// AVX-512 VNNI panel kernels for the packed GEMM (gemm.h): one zmm lane per weight row of a
// 16-row panel, a register tile of 16 rows × T tokens. The scalar twins in gemm.cpp compute the
// same integer sums in the same blocks; only the float accumulation order differs.
#include <immintrin.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>
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

// Decode (T <= 4 tokens) streams each weight byte from memory once: software prefetch of the
// panel bytes kPrefetchAhead past `p` (call once per `bytes` consumed) keeps more lines in
// flight than the hardware prefetcher does for Q4_K and Q6_K, whose unpacking slows the
// stream (measured +30-60 % on one thread; Q8_0 and F16 were as fast or faster without).
// Larger tiles re-read an L2-resident group of panels, where prefetching only costs issue
// slots.
constexpr int kPrefetchAhead = 4096;
template <int T>
inline void PrefetchAhead(const void* p, int bytes) {
  if constexpr (T <= 4) {
    for (int o = 0; o < bytes; o += 64) {
      _mm_prefetch(static_cast<const char*>(p) + kPrefetchAhead + o, _MM_HINT_T0);
    }
  }
}

// Q8_0: 8 dpbusd per token and 32-column block; the int accumulator starts at the −128·Σa
// correction so the +128 of the unsigned weights cancels exactly. The 544-byte blocks (f16
// scales, to keep ggml's size) sit at any 32-byte offset: unaligned loads, as for Q4_0 (a
// separate array of scales after the panel kept the loads aligned but was measured 15-30 %
// slower at decode, a second stream, for no clear GEMM gain).
template <int T>
void KernelQ8_0(const uint8_t* panel, int64_t n_cols, const uint8_t* x, size_t x_row,
                const uint8_t* aux, size_t aux_row, float* out) {
  const auto* w = reinterpret_cast<const PanelQ8_0*>(panel);
  __m512 acc[T];  // [T] × 16 rows
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < n_cols / 32; ++b) {
    __m512i wq[8];  // [group] 16 rows × 4 columns
    for (int g = 0; g < 8; ++g) wq[g] = _mm512_loadu_si512(w[b].q[g]);
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].d)));
    for (int t = 0; t < T; ++t) {
      const auto* a = reinterpret_cast<const BlockQ8_0*>(x + t * x_row) + b;
      const auto* s = reinterpret_cast<const AuxQ8_0*>(aux + t * aux_row) + b;
      // Two dependency chains of 4 (one token alone would wait on a single chain of 8).
      __m512i sum = _mm512_set1_epi32(s->corr), sum1 = _mm512_setzero_si512();
      for (int g = 0; g < 4; ++g) {
        sum = _mm512_dpbusd_epi32(sum, wq[g], Broadcast4(a->qs + 4 * g));
        sum1 = _mm512_dpbusd_epi32(sum1, wq[g + 4], Broadcast4(a->qs + 16 + 4 * g));
      }
      sum = _mm512_add_epi32(sum, sum1);
      acc[t] =
          _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(d, _mm512_set1_ps(s->d)), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) _mm512_store_ps(out + t * P, acc[t]);
}

// Group g's high bits (bit g of each byte of a PanelQ5_0::qh vector) at bit 4 of each byte;
// the caller masks the other bits off. 16-bit shifts of at most 4 keep bit 4 within its byte.
template <int G>
inline __m512i HighBitQ5(__m512i h) {
  if constexpr (G < 4) return _mm512_slli_epi16(h, 4 - G);
  if constexpr (G == 4) return h;
  if constexpr (G > 4) return _mm512_srli_epi16(h, G - 4);
}

template <int... G>
inline void AddHighBits(__m512i h, __m512i* wq, std::integer_sequence<int, G...>) {
  const __m512i bit4 = _mm512_set1_epi8(0x10);
  // 0xF8: A | (B & C).
  ((wq[G] = _mm512_ternarylogic_epi32(wq[G], HighBitQ5<G>(h), bit4, 0xF8)), ...);
}

// Q4_0, Q5_0, Q4_1, Q5_1 (kHigh: 5-bit values; kMin: a block minimum, Q8_1 activations): like
// Q8_0 on the nibbles (4 loads, low and high halves give the 8 groups), plus for Q5_* one load
// of the reordered high bits and a shift and vpternlogd per group; Q*_0 start at the −8·Σa or
// −16·Σa correction, Q*_1 add m·(d·Σa) per block. Blocks of 288, 352, 320 or 384 bytes sit at
// any 32-byte offset: unaligned loads (a line split costs little next to 8 × T dpbusd, and the
// decode stream is bound by memory).
template <class Panel, bool kHigh, bool kMin, int T>
void KernelNibbles(const uint8_t* panel, int64_t n_cols, const uint8_t* x, size_t x_row,
                   const uint8_t* aux, size_t aux_row, float* out) {
  using ActBlock = std::conditional_t<kMin, tensor::BlockQ8_1, BlockQ8_0>;
  using Aux = std::conditional_t<kMin, AuxQ4_1, AuxQ4_0>;
  const auto* w = reinterpret_cast<const Panel*>(panel);
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  __m512 acc[T];  // [T] × 16 rows
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < n_cols / 32; ++b) {
    PrefetchAhead<T>(w + b, sizeof(Panel));
    __m512i wq[8];  // [group] 16 rows × 4 columns: 0..3 low nibbles, 4..7 high (| high bit)
    for (int i = 0; i < 4; ++i) {
      const __m512i v = _mm512_loadu_si512(w[b].q[i]);
      wq[i] = _mm512_and_si512(v, low4);
      wq[i + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
    }
    if constexpr (kHigh) {
      AddHighBits(_mm512_loadu_si512(w[b].qh), wq, std::make_integer_sequence<int, 8>());
    }
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].d)));
    [[maybe_unused]] __m512 m = _mm512_setzero_ps();
    if constexpr (kMin) {
      m = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].m)));
    }
    for (int t = 0; t < T; ++t) {
      const auto* a = reinterpret_cast<const ActBlock*>(x + t * x_row) + b;
      const auto* s = reinterpret_cast<const Aux*>(aux + t * aux_row) + b;
      __m512i sum, sum1 = _mm512_setzero_si512();
      if constexpr (kMin) {
        sum = _mm512_setzero_si512();
      } else {
        sum = _mm512_set1_epi32(s->corr);
      }
      for (int g = 0; g < 4; ++g) {
        sum = _mm512_dpbusd_epi32(sum, wq[g], Broadcast4(a->qs + 4 * g));
        sum1 = _mm512_dpbusd_epi32(sum1, wq[g + 4], Broadcast4(a->qs + 16 + 4 * g));
      }
      sum = _mm512_add_epi32(sum, sum1);
      acc[t] =
          _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(d, _mm512_set1_ps(s->d)), acc[t]);
      if constexpr (kMin) acc[t] = _mm512_fmadd_ps(m, _mm512_set1_ps(s->s), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) _mm512_store_ps(out + t * P, acc[t]);
}

// Q4_K: per 32-column sub-block, 4 loads give 8 nibble vectors (groups i and i + 4) shared by
// all tokens; each token's 8 dpbusd are scaled by the sub-block's 6-bit scale (vpmulld) into a
// block accumulator. The mins term takes 4 vpdpwssd per token and block, on the u8 min pairs
// widened to i16 once per block (the layout keeps them as bytes, and d, dmin as f16, to stay
// within 3 % of the ggml bytes; the widening is a few instructions per 16 × 256 weights).
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
      // The block's 37 lines in 8 steps of 296 bytes; 5 prefetches 64 bytes apart from each
      // step's start reach every line (a fixed count keeps the loop free of branches).
      PrefetchAhead<T>(reinterpret_cast<const uint8_t*>(w + b) + j * (sizeof(PanelQ4_K) / 8), 320);
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
    for (int i = 0; i < 4; ++i) {
      mins[i] =
          _mm512_cvtepu8_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(w[b].m[i])));
    }
    const __m512 d = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(w[b].d)));
    const __m512 dmin =
        _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(w[b].dmin)));
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

// The high 2 bits of group i of a Q6_K qh vector at bits 4..5 of each byte (other bits are
// masked off by the caller).
template <int I>
inline __m512i HighBits(__m512i h) {
  if constexpr (I == 0) return _mm512_slli_epi16(h, 4);
  if constexpr (I == 1) return _mm512_slli_epi16(h, 2);
  if constexpr (I == 2) return h;
  if constexpr (I == 3) return _mm512_srli_epi16(h, 2);
}

// Q6_K: per 32-column sub-block, 4 nibble loads and 2 high-bit loads rebuild the 8 vectors of
// 0..63 values (and, shift, one vpternlogd each: nibble | (high & 0x30)) shared by all tokens;
// per 16-column half 4 dpbusd, started at −32·Σa so the weights' −32 offset cancels, then the
// int8 scale (vpmulld).
template <int I>
inline void UnpackQ6(const PanelQ6_K& w, int j, __m512i h0, __m512i h1, __m512i* wq) {
  const __m512i low4 = _mm512_set1_epi8(0x0F), high2 = _mm512_set1_epi8(0x30);
  const __m512i v = _mm512_load_si512(w.ql[j][I]);
  // 0xF8: A | (B & C).
  wq[I] = _mm512_ternarylogic_epi32(_mm512_and_si512(v, low4), HighBits<I>(h0), high2, 0xF8);
  wq[I + 4] = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(v, 4), low4),
                                        HighBits<I>(h1), high2, 0xF8);
}

template <int T>
void KernelQ6_K(const uint8_t* panel, int64_t n_cols, const uint8_t* x, size_t x_row,
                const uint8_t* aux, size_t aux_row, float* out) {
  const auto* w = reinterpret_cast<const PanelQ6_K*>(panel);
  __m512 acc[T];  // [T] × 16 rows
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < n_cols / 256; ++b) {
    __m512i isum[T];  // [T]
    for (int t = 0; t < T; ++t) isum[t] = _mm512_setzero_si512();
    for (int j = 0; j < 8; ++j) {
      // The block's bytes in 8 steps of 424 (7 lines each, overlapping a little).
      PrefetchAhead<T>(reinterpret_cast<const uint8_t*>(w + b) + j * 424, 448);
      __m512i wq[8];  // [group] 16 rows × 4 columns, 0..63: 0..3 sub-block 2j, 4..7 2j + 1
      const __m512i h0 = _mm512_load_si512(w[b].qh[j][0]), h1 = _mm512_load_si512(w[b].qh[j][1]);
      UnpackQ6<0>(w[b], j, h0, h1, wq);
      UnpackQ6<1>(w[b], j, h0, h1, wq);
      UnpackQ6<2>(w[b], j, h0, h1, wq);
      UnpackQ6<3>(w[b], j, h0, h1, wq);
      const __m512i sc0 =
          _mm512_cvtepi8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(w[b].sc[2 * j])));
      const __m512i sc1 = _mm512_cvtepi8_epi32(
          _mm_load_si128(reinterpret_cast<const __m128i*>(w[b].sc[2 * j + 1])));
      for (int t = 0; t < T; ++t) {
        const int8_t* a = reinterpret_cast<const BlockQ8_K*>(x + t * x_row)[b].qs + 32 * j;
        const int32_t* corr = reinterpret_cast<const AuxQ6_K*>(aux + t * aux_row)[b].corr;
        __m512i dot0 = _mm512_set1_epi32(corr[2 * j]), dot1 = _mm512_set1_epi32(corr[2 * j + 1]);
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
      const float da = reinterpret_cast<const BlockQ8_K*>(x + t * x_row)[b].d;
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_mul_ps(d, _mm512_set1_ps(da)),
                               acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) _mm512_store_ps(out + t * P, acc[t]);
}

// F16: one vcvtph2ps per column feeds T FMAs with the token's (pre-converted) f32 activation
// broadcast. Up to 4 tokens (decode), 4 columns a step into 4 accumulators per token, so the
// FMA latency does not bound the weight stream; the scalar twin sums in column order, so the
// results agree within float reassociation (not bit-equal).
template <int T>
void KernelF16(const uint8_t* panel, int64_t n_cols, const uint8_t* /*x*/, size_t /*x_row*/,
               const uint8_t* aux, size_t aux_row, float* out) {
  const auto* w = reinterpret_cast<const __m256i*>(panel);  // [n_cols] × 16 halves
  const auto a = [&](int t, int64_t k) {
    return _mm512_set1_ps(reinterpret_cast<const float*>(aux + t * aux_row)[k]);
  };
  if constexpr (T <= 4) {
    constexpr int U = 4;  // columns per step, one accumulator chain each
    __m512 acc[T][U];     // [T][U] × 16 rows
    for (int t = 0; t < T; ++t) {
      for (int u = 0; u < U; ++u) acc[t][u] = _mm512_setzero_ps();
    }
    int64_t k = 0;
    for (; k + U <= n_cols; k += U) {
      __m512 wk[U];
      for (int u = 0; u < U; ++u) wk[u] = _mm512_cvtph_ps(_mm256_load_si256(w + k + u));
      for (int t = 0; t < T; ++t) {
        for (int u = 0; u < U; ++u) acc[t][u] = _mm512_fmadd_ps(wk[u], a(t, k + u), acc[t][u]);
      }
    }
    for (; k < n_cols; ++k) {
      const __m512 wk = _mm512_cvtph_ps(_mm256_load_si256(w + k));
      for (int t = 0; t < T; ++t) acc[t][0] = _mm512_fmadd_ps(wk, a(t, k), acc[t][0]);
    }
    for (int t = 0; t < T; ++t) {
      const __m512 sum =
          _mm512_add_ps(_mm512_add_ps(acc[t][0], acc[t][1]), _mm512_add_ps(acc[t][2], acc[t][3]));
      _mm512_store_ps(out + t * P, sum);
    }
  } else {
    __m512 acc[T];  // [T] × 16 rows
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    for (int64_t k = 0; k < n_cols; ++k) {
      const __m512 wk = _mm512_cvtph_ps(_mm256_load_si256(w + k));
      for (int t = 0; t < T; ++t) acc[t] = _mm512_fmadd_ps(wk, a(t, k), acc[t]);
    }
    for (int t = 0; t < T; ++t) _mm512_store_ps(out + t * P, acc[t]);
  }
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
struct Q4_0Fn {
  static constexpr TileFn fn = KernelNibbles<PanelQ4_0, false, false, T>;
};
template <int T>
struct Q5_0Fn {
  static constexpr TileFn fn = KernelNibbles<PanelQ5_0, true, false, T>;
};
template <int T>
struct Q4_1Fn {
  static constexpr TileFn fn = KernelNibbles<PanelQ4_1, false, true, T>;
};
template <int T>
struct Q5_1Fn {
  static constexpr TileFn fn = KernelNibbles<PanelQ5_1, true, true, T>;
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

// Register tiles: Q8_0 and the nibble types 8 weight + 8 accumulator vectors; Q4_K 8 weight + 8 int
// + 8 float accumulators (+ scale, mask); Q6_K likewise (+ 2 high-bit vectors); F16 one weight
// vector and 16 accumulators.
constexpr int kTileQ8_0 = 8, kTileNibbles = 8, kTileQ4_K = 8, kTileQ6_K = 8, kTileF16 = 16;

}  // namespace

void FillGemms(GemmTable* table) {
  auto set = [&](gguf::GgmlType type, PanelKernelFn fn, int tile) {
    const int id = static_cast<int>(type);
    table->kernel[id] = fn;
    table->native[id] = true;
    table->token_tile[id] = tile;
  };
  set(gguf::GgmlType::kQ8_0, Dispatch<Q8_0Fn, kTileQ8_0>::Run, kTileQ8_0);
  set(gguf::GgmlType::kQ4_0, Dispatch<Q4_0Fn, kTileNibbles>::Run, kTileNibbles);
  set(gguf::GgmlType::kQ5_0, Dispatch<Q5_0Fn, kTileNibbles>::Run, kTileNibbles);
  set(gguf::GgmlType::kQ4_1, Dispatch<Q4_1Fn, kTileNibbles>::Run, kTileNibbles);
  set(gguf::GgmlType::kQ5_1, Dispatch<Q5_1Fn, kTileNibbles>::Run, kTileNibbles);
  set(gguf::GgmlType::kQ4_K, Dispatch<Q4_KFn, kTileQ4_K>::Run, kTileQ4_K);
  set(gguf::GgmlType::kQ6_K, Dispatch<Q6_KFn, kTileQ6_K>::Run, kTileQ6_K);
  set(gguf::GgmlType::kF16, Dispatch<F16Fn, kTileF16>::Run, kTileF16);
}

}  // namespace corral::kernels::avx512_gemm
