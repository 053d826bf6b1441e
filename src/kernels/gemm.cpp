#include "kernels/gemm.h"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <vector>

#include "base/check.h"
#include "kernels/gemm_layout.h"
#include "kernels/matmul.h"
#include "tensor/blocks.h"
#include "tensor/fp16.h"

namespace corral::kernels {
namespace avx512_gemm {
void FillGemms(GemmTable* table);
}

using namespace gemm_internal;  // NOLINT: the layout structs are this file's vocabulary
using gguf::GgmlType;
using tensor::BlockQ4_0;
using tensor::BlockQ4_1;
using tensor::BlockQ4_K;
using tensor::BlockQ5_0;
using tensor::BlockQ5_1;
using tensor::BlockQ6_K;
using tensor::BlockQ8_0;
using tensor::BlockQ8_1;
using tensor::BlockQ8_K;

namespace {

int Id(GgmlType type) { return static_cast<int>(type); }

// Columns per packed block for each packable type.
int64_t PackBlockCols(GgmlType type) {
  switch (type) {
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_0:
    case GgmlType::kQ5_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_1:
      return 32;
    case GgmlType::kQ4_K:
    case GgmlType::kQ6_K:
      return 256;
    case GgmlType::kF16:
      return 1;
    default:
      return 0;
  }
}

size_t PackBlockBytes(GgmlType type) {
  switch (type) {
    case GgmlType::kQ8_0:
      return sizeof(PanelQ8_0);
    case GgmlType::kQ4_0:
      return sizeof(PanelQ4_0);
    case GgmlType::kQ5_0:
      return sizeof(PanelQ5_0);
    case GgmlType::kQ4_1:
      return sizeof(PanelQ4_1);
    case GgmlType::kQ5_1:
      return sizeof(PanelQ5_1);
    case GgmlType::kQ4_K:
      return sizeof(PanelQ4_K);
    case GgmlType::kQ6_K:
      return sizeof(PanelQ6_K);
    case GgmlType::kF16:
      return P * sizeof(uint16_t);
    default:
      return 0;
  }
}

// ---- packing (one ggml block of one row into its lane of a panel block) ----

void PackRowQ8_0(const BlockQ8_0& b, int r, PanelQ8_0* out) {
  out->d[r] = b.d;
  for (int k = 0; k < 32; ++k) {
    out->q[k / 4][r][k % 4] = static_cast<uint8_t>(b.qs[k] + 128);
  }
}

// ggml's nibbles stay as they are (low: column k, high: column 16 + k); only the 4-byte groups
// move to their row's lane.
void PackNibbles(const uint8_t* qs /* [16] */, int r, uint8_t (*q)[P][4] /* [4][16][4] */) {
  for (int k = 0; k < 16; ++k) q[k / 4][r][k % 4] = qs[k];
}

// ggml's high bits (bit c: column c) reordered so that byte k, bit g holds column 4g + k.
void PackHighBits(const uint8_t* qh /* [4] */, int r, uint8_t (*out)[4] /* [16][4] */) {
  uint32_t bits;
  std::memcpy(&bits, qh, 4);
  for (int c = 0; c < 32; ++c) out[r][c % 4] |= static_cast<uint8_t>(((bits >> c) & 1) << (c / 4));
}

void PackRowQ4_0(const BlockQ4_0& b, int r, PanelQ4_0* out) {
  out->d[r] = b.d;
  PackNibbles(b.qs, r, out->q);
}

void PackRowQ5_0(const BlockQ5_0& b, int r, PanelQ5_0* out) {
  out->d[r] = b.d;
  PackHighBits(b.qh, r, out->qh);
  PackNibbles(b.qs, r, out->q);
}

void PackRowQ4_1(const BlockQ4_1& b, int r, PanelQ4_1* out) {
  out->d[r] = b.d;
  out->m[r] = b.m;
  PackNibbles(b.qs, r, out->q);
}

void PackRowQ5_1(const BlockQ5_1& b, int r, PanelQ5_1* out) {
  out->d[r] = b.d;
  out->m[r] = b.m;
  PackHighBits(b.qh, r, out->qh);
  PackNibbles(b.qs, r, out->q);
}

// The 6-bit scale and min of sub-block j (engine.md §3.1).
void ScaleMinK4(const uint8_t* q /* [12] */, int j, int* sc, int* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 15) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

void PackRowQ4_K(const BlockQ4_K& b, int r, PanelQ4_K* out) {
  out->d[r] = b.d;
  out->dmin[r] = b.dmin;
  for (int j = 0; j < 8; ++j) {
    int sc, m;
    ScaleMinK4(b.scales, j, &sc, &m);
    out->sc[j][r] = static_cast<uint8_t>(sc);
    out->m[j / 2][r][j % 2] = static_cast<uint8_t>(m);
  }
  uint8_t v[256];  // [256] nibble values in column order
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      v[64 * c + l] = b.qs[32 * c + l] & 15;
      v[64 * c + 32 + l] = b.qs[32 * c + l] >> 4;
    }
  }
  for (int j = 0; j < 8; ++j) {
    for (int i = 0; i < 4; ++i) {
      for (int k = 0; k < 4; ++k) {
        out->q[j][i][r][k] =
            static_cast<uint8_t>(v[32 * j + 4 * i + k] | (v[32 * j + 16 + 4 * i + k] << 4));
      }
    }
  }
}

void PackRowQ6_K(const BlockQ6_K& b, int r, PanelQ6_K* out) {
  out->d[r] = tensor::Fp16ToFp32(b.d);
  for (int j = 0; j < 16; ++j) out->sc[j][r] = b.scales[j];
  uint8_t v[256];  // [256] 6-bit values (0..63) in column order
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = b.ql + 64 * h;
    const uint8_t* qh = b.qh + 32 * h;
    for (int l = 0; l < 32; ++l) {
      const int e = 128 * h + l;
      v[e + 0] = static_cast<uint8_t>((ql[l] & 15) | (((qh[l] >> 0) & 3) << 4));
      v[e + 32] = static_cast<uint8_t>((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4));
      v[e + 64] = static_cast<uint8_t>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
      v[e + 96] = static_cast<uint8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
    }
  }
  for (int j = 0; j < 8; ++j) {
    for (int i = 0; i < 4; ++i) {
      for (int k = 0; k < 4; ++k) {
        const int lo = v[32 * j + 4 * i + k], hi = v[32 * j + 16 + 4 * i + k];
        out->ql[j][i][r][k] = static_cast<uint8_t>((lo & 15) | ((hi & 15) << 4));
        out->qh[j][0][r][k] |= static_cast<uint8_t>((lo >> 4) << (2 * i));
        out->qh[j][1][r][k] |= static_cast<uint8_t>((hi >> 4) << (2 * i));
      }
    }
  }
}

void PackPanel(GgmlType type, const uint8_t* rows, size_t row_bytes, int n_valid, int64_t n_cols,
               uint8_t* panel /* [n_blocks, PackBlockBytes] */) {
  const int64_t nb = n_cols / PackBlockCols(type);
  std::memset(panel, 0, static_cast<size_t>(nb) * PackBlockBytes(type));  // padding rows: zero
  for (int r = 0; r < n_valid; ++r) {
    const uint8_t* row = rows + static_cast<size_t>(r) * row_bytes;
    for (int64_t b = 0; b < nb; ++b) {
      switch (type) {
        case GgmlType::kQ8_0:
          PackRowQ8_0(reinterpret_cast<const BlockQ8_0*>(row)[b], r,
                      reinterpret_cast<PanelQ8_0*>(panel) + b);
          break;
        case GgmlType::kQ4_0:
          PackRowQ4_0(reinterpret_cast<const BlockQ4_0*>(row)[b], r,
                      reinterpret_cast<PanelQ4_0*>(panel) + b);
          break;
        case GgmlType::kQ5_0:
          PackRowQ5_0(reinterpret_cast<const BlockQ5_0*>(row)[b], r,
                      reinterpret_cast<PanelQ5_0*>(panel) + b);
          break;
        case GgmlType::kQ4_1:
          PackRowQ4_1(reinterpret_cast<const BlockQ4_1*>(row)[b], r,
                      reinterpret_cast<PanelQ4_1*>(panel) + b);
          break;
        case GgmlType::kQ5_1:
          PackRowQ5_1(reinterpret_cast<const BlockQ5_1*>(row)[b], r,
                      reinterpret_cast<PanelQ5_1*>(panel) + b);
          break;
        case GgmlType::kQ4_K:
          PackRowQ4_K(reinterpret_cast<const BlockQ4_K*>(row)[b], r,
                      reinterpret_cast<PanelQ4_K*>(panel) + b);
          break;
        case GgmlType::kQ6_K:
          PackRowQ6_K(reinterpret_cast<const BlockQ6_K*>(row)[b], r,
                      reinterpret_cast<PanelQ6_K*>(panel) + b);
          break;
        case GgmlType::kF16: {
          uint16_t h;
          std::memcpy(&h, row + 2 * b, 2);
          reinterpret_cast<uint16_t*>(panel)[b * P + r] = h;
          break;
        }
        default:
          CHECK(false);
      }
    }
  }
}

// ---- per-call activation summaries ----

size_t AuxRowBytes(GgmlType type, int64_t n_cols) {
  switch (type) {
    case GgmlType::kQ8_0:
      return static_cast<size_t>(n_cols / 32) * sizeof(AuxQ8_0);
    case GgmlType::kQ4_0:
    case GgmlType::kQ5_0:
      return static_cast<size_t>(n_cols / 32) * sizeof(AuxQ4_0);
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_1:
      return static_cast<size_t>(n_cols / 32) * sizeof(AuxQ4_1);
    case GgmlType::kQ4_K:
      return static_cast<size_t>(n_cols / 256) * sizeof(AuxQ4_K);
    case GgmlType::kQ6_K:
      return static_cast<size_t>(n_cols / 256) * sizeof(AuxQ6_K);
    case GgmlType::kF16:
      return static_cast<size_t>(n_cols) * sizeof(float);
    default:
      return 0;
  }
}

void MakeAux(GgmlType type, const uint8_t* x /* [ActivationBytes] */, int64_t n_cols,
             uint8_t* aux /* [AuxRowBytes] */) {
  if (type == GgmlType::kQ8_0) {
    const auto* a = reinterpret_cast<const BlockQ8_0*>(x);
    auto* out = reinterpret_cast<AuxQ8_0*>(aux);
    for (int64_t b = 0; b < n_cols / 32; ++b) {
      int32_t sum = 0;
      for (int k = 0; k < 32; ++k) sum += a[b].qs[k];
      out[b] = {-128 * sum, tensor::Fp16ToFp32(a[b].d)};
    }
  } else if (type == GgmlType::kQ4_0 || type == GgmlType::kQ5_0) {
    const int32_t offset = type == GgmlType::kQ4_0 ? 8 : 16;
    const auto* a = reinterpret_cast<const BlockQ8_0*>(x);
    auto* out = reinterpret_cast<AuxQ4_0*>(aux);
    for (int64_t b = 0; b < n_cols / 32; ++b) {
      int32_t sum = 0;
      for (int k = 0; k < 32; ++k) sum += a[b].qs[k];
      out[b] = {-offset * sum, tensor::Fp16ToFp32(a[b].d)};
    }
  } else if (type == GgmlType::kQ4_1 || type == GgmlType::kQ5_1) {
    const auto* a = reinterpret_cast<const BlockQ8_1*>(x);
    auto* out = reinterpret_cast<AuxQ4_1*>(aux);
    for (int64_t b = 0; b < n_cols / 32; ++b) {
      out[b] = {tensor::Fp16ToFp32(a[b].d), tensor::Fp16ToFp32(a[b].s)};
    }
  } else if (type == GgmlType::kQ4_K) {
    const auto* a = reinterpret_cast<const BlockQ8_K*>(x);
    auto* out = reinterpret_cast<AuxQ4_K*>(aux);
    for (int64_t b = 0; b < n_cols / 256; ++b) {
      for (int j = 0; j < 8; ++j) {
        out[b].s[j] = static_cast<int16_t>(a[b].bsums[2 * j] + a[b].bsums[2 * j + 1]);
      }
    }
  } else if (type == GgmlType::kQ6_K) {
    const auto* a = reinterpret_cast<const BlockQ8_K*>(x);
    auto* out = reinterpret_cast<AuxQ6_K*>(aux);
    for (int64_t b = 0; b < n_cols / 256; ++b) {
      for (int j = 0; j < 16; ++j) out[b].corr[j] = -32 * a[b].bsums[j];
    }
  } else if (type == GgmlType::kF16) {
    tensor::Fp16ToFp32Row(reinterpret_cast<const uint16_t*>(x), reinterpret_cast<float*>(aux),
                          n_cols);
  }
}

// ---- scalar twins: the same integer sums and per-block f32 steps as the SIMD kernels ----

void ScalarQ8_0(const uint8_t* panel, int64_t n_cols, const uint8_t* x, size_t x_row,
                const uint8_t* aux, size_t aux_row, int n_tokens, float* out) {
  const auto* w = reinterpret_cast<const PanelQ8_0*>(panel);
  for (int t = 0; t < n_tokens; ++t) {
    const auto* a = reinterpret_cast<const BlockQ8_0*>(x + t * x_row);
    const auto* s = reinterpret_cast<const AuxQ8_0*>(aux + t * aux_row);
    for (int r = 0; r < P; ++r) {
      float acc = 0;
      for (int64_t b = 0; b < n_cols / 32; ++b) {
        int32_t sum = s[b].corr;
        for (int k = 0; k < 32; ++k) sum += w[b].q[k / 4][r][k % 4] * a[b].qs[k];
        acc = std::fma(static_cast<float>(sum), tensor::Fp16ToFp32(w[b].d[r]) * s[b].d, acc);
      }
      out[t * P + r] = acc;
    }
  }
}

// Q4_0, Q5_0, Q4_1, Q5_1: nibbles as Q4_0, plus the reordered high bits (Q5_*) and the block
// minimum times the activation sum d·Σa (Q*_1, whose activations are Q8_1).
template <class Panel, bool kHigh, bool kMin>
void ScalarNibbles(const uint8_t* panel, int64_t n_cols, const uint8_t* x, size_t x_row,
                   const uint8_t* aux, size_t aux_row, int n_tokens, float* out) {
  using ActBlock = std::conditional_t<kMin, BlockQ8_1, BlockQ8_0>;
  using Aux = std::conditional_t<kMin, AuxQ4_1, AuxQ4_0>;
  const auto* w = reinterpret_cast<const Panel*>(panel);
  for (int t = 0; t < n_tokens; ++t) {
    const auto* a = reinterpret_cast<const ActBlock*>(x + t * x_row);
    const auto* s = reinterpret_cast<const Aux*>(aux + t * aux_row);
    for (int r = 0; r < P; ++r) {
      float acc = 0;
      for (int64_t b = 0; b < n_cols / 32; ++b) {
        int32_t sum = 0;
        if constexpr (!kMin) sum = s[b].corr;
        for (int c = 0; c < 32; ++c) {
          const int byte = w[b].q[(c % 16) / 4][r][c % 4];
          int v = c < 16 ? byte & 15 : byte >> 4;
          if constexpr (kHigh) v |= ((w[b].qh[r][c % 4] >> (c / 4)) & 1) << 4;
          sum += v * a[b].qs[c];
        }
        acc = std::fma(static_cast<float>(sum), tensor::Fp16ToFp32(w[b].d[r]) * s[b].d, acc);
        if constexpr (kMin) acc = std::fma(tensor::Fp16ToFp32(w[b].m[r]), s[b].s, acc);
      }
      out[t * P + r] = acc;
    }
  }
}

void ScalarQ4_K(const uint8_t* panel, int64_t n_cols, const uint8_t* x, size_t x_row,
                const uint8_t* aux, size_t aux_row, int n_tokens, float* out) {
  const auto* w = reinterpret_cast<const PanelQ4_K*>(panel);
  for (int t = 0; t < n_tokens; ++t) {
    const auto* a = reinterpret_cast<const BlockQ8_K*>(x + t * x_row);
    const auto* s = reinterpret_cast<const AuxQ4_K*>(aux + t * aux_row);
    for (int r = 0; r < P; ++r) {
      float acc = 0;
      for (int64_t b = 0; b < n_cols / 256; ++b) {
        int32_t sum = 0, mins = 0;
        for (int j = 0; j < 8; ++j) {
          int32_t sub = 0;
          for (int i = 0; i < 4; ++i) {
            for (int k = 0; k < 4; ++k) {
              const int byte = w[b].q[j][i][r][k];
              sub += (byte & 15) * a[b].qs[32 * j + 4 * i + k];
              sub += (byte >> 4) * a[b].qs[32 * j + 16 + 4 * i + k];
            }
          }
          sum += sub * w[b].sc[j][r];
          mins += w[b].m[j / 2][r][j % 2] * s[b].s[j];
        }
        acc = std::fma(static_cast<float>(sum), tensor::Fp16ToFp32(w[b].d[r]) * a[b].d, acc);
        acc = std::fma(-static_cast<float>(mins), tensor::Fp16ToFp32(w[b].dmin[r]) * a[b].d, acc);
      }
      out[t * P + r] = acc;
    }
  }
}

void ScalarQ6_K(const uint8_t* panel, int64_t n_cols, const uint8_t* x, size_t x_row,
                const uint8_t* aux, size_t aux_row, int n_tokens, float* out) {
  const auto* w = reinterpret_cast<const PanelQ6_K*>(panel);
  for (int t = 0; t < n_tokens; ++t) {
    const auto* a = reinterpret_cast<const BlockQ8_K*>(x + t * x_row);
    const auto* s = reinterpret_cast<const AuxQ6_K*>(aux + t * aux_row);
    for (int r = 0; r < P; ++r) {
      float acc = 0;
      for (int64_t b = 0; b < n_cols / 256; ++b) {
        int32_t sum = 0;
        for (int j = 0; j < 8; ++j) {
          // Sub-block 2j holds groups 0..3 of the 32 columns (low nibbles), 2j + 1 groups 4..7.
          int32_t sub[2] = {s[b].corr[2 * j], s[b].corr[2 * j + 1]};
          for (int i = 0; i < 4; ++i) {
            for (int k = 0; k < 4; ++k) {
              const int lo = w[b].ql[j][i][r][k], h0 = w[b].qh[j][0][r][k],
                        h1 = w[b].qh[j][1][r][k];
              const int v0 = (lo & 15) | (((h0 >> (2 * i)) & 3) << 4);
              const int v1 = (lo >> 4) | (((h1 >> (2 * i)) & 3) << 4);
              sub[0] += v0 * a[b].qs[32 * j + 4 * i + k];
              sub[1] += v1 * a[b].qs[32 * j + 16 + 4 * i + k];
            }
          }
          sum += sub[0] * w[b].sc[2 * j][r] + sub[1] * w[b].sc[2 * j + 1][r];
        }
        acc = std::fma(static_cast<float>(sum), w[b].d[r] * a[b].d, acc);
      }
      out[t * P + r] = acc;
    }
  }
}

void ScalarF16(const uint8_t* panel, int64_t n_cols, const uint8_t* /*x*/, size_t /*x_row*/,
               const uint8_t* aux, size_t aux_row, int n_tokens, float* out) {
  const auto* w = reinterpret_cast<const uint16_t*>(panel);  // [n_cols, 16]
  for (int t = 0; t < n_tokens; ++t) {
    const auto* a = reinterpret_cast<const float*>(aux + t * aux_row);  // [n_cols]
    for (int r = 0; r < P; ++r) {
      float acc = 0;
      for (int64_t k = 0; k < n_cols; ++k) {
        acc = std::fma(tensor::Fp16ToFp32(w[k * P + r]), a[k], acc);
      }
      out[t * P + r] = acc;
    }
  }
}

GemmTable MakeTable(CpuLevel level) {
  GemmTable table;
  table.level = level;
  auto set = [&](GgmlType type, PanelKernelFn fn) {
    table.kernel[Id(type)] = fn;
    table.token_tile[Id(type)] = 4;
  };
  set(GgmlType::kQ8_0, ScalarQ8_0);
  set(GgmlType::kQ4_0, ScalarNibbles<PanelQ4_0, false, false>);
  set(GgmlType::kQ5_0, ScalarNibbles<PanelQ5_0, true, false>);
  set(GgmlType::kQ4_1, ScalarNibbles<PanelQ4_1, false, true>);
  set(GgmlType::kQ5_1, ScalarNibbles<PanelQ5_1, true, true>);
  set(GgmlType::kQ4_K, ScalarQ4_K);
  set(GgmlType::kQ6_K, ScalarQ6_K);
  set(GgmlType::kF16, ScalarF16);
  // The AVX-512 kernels are VNNI ones; an AVX-512 CPU without VNNI keeps the scalar twins
  // (PackingPays says false there, so the engine keeps MatMul on ggml rows).
  if (level == CpuLevel::kAvx512 && HostCpuFeatures().avx512vnni) avx512_gemm::FillGemms(&table);
  return table;
}

}  // namespace

const GemmTable& GemmsFor(CpuLevel level) {
  CHECK(HostSupports(level)) << "this CPU cannot run " << CpuLevelName(level) << " kernels";
  static const GemmTable tables[] = {MakeTable(CpuLevel::kScalar), MakeTable(CpuLevel::kAvx2),
                                     MakeTable(CpuLevel::kAvx512)};
  return tables[static_cast<int>(level)];
}

const GemmTable& Gemms() {
  static const GemmTable& table = GemmsFor(SelectedCpuLevel());
  return table;
}

bool CanPack(GgmlType type) { return PackBlockCols(type) != 0; }

bool PackingPays(GgmlType type) { return CanPack(type) && Gemms().native[Id(type)]; }

void PackedWeights::Free::operator()(uint8_t* p) const { std::free(p); }

PackedWeights Pack(GgmlType type, const void* weights, size_t row_bytes, int64_t n_rows,
                   int64_t n_cols, ThreadPool* pool,
                   const std::function<void(const uint8_t*, size_t)>& source_done) {
  CHECK(CanPack(type)) << "no packed layout for " << gguf::TypeInfo(type).name;
  CHECK(n_cols > 0 && n_cols % PackBlockCols(type) == 0 && n_rows > 0);
  PackedWeights w;
  w.type_ = type;
  w.n_rows_ = n_rows;
  w.n_cols_ = n_cols;
  w.panel_bytes_ = static_cast<size_t>(n_cols / PackBlockCols(type)) * PackBlockBytes(type);
  const size_t total = w.bytes();
  // Matrices of a megabyte or more go on 2 MiB-aligned memory marked for transparent huge
  // pages: streaming hundreds of MB through 4 KiB pages costs a TLB miss every 4 KiB, which
  // measurably slows the one-token products (Debian's default THP mode is "madvise").
  // The size is not rounded up to 2 MiB (posix_memalign does not need it), so the last
  // partial huge page is left to 4 KiB pages and costs no memory beyond the matrix.
  constexpr size_t kHugePage = size_t{2} << 20;
  const bool huge = total >= kHugePage;
  const size_t bytes = (total + 63) / 64 * 64;
  void* data = nullptr;
  CHECK(posix_memalign(&data, huge ? kHugePage : 64, bytes) == 0)
      << "out of memory packing " << total << " bytes";
  w.data_.reset(static_cast<uint8_t*>(data));
  if (huge) (void)madvise(data, bytes / kHugePage * kHugePage, MADV_HUGEPAGE);
  const auto* rows = static_cast<const uint8_t*>(weights);
  auto pack = [&](int64_t begin, int64_t end, int) {
    for (int64_t p = begin; p < end; ++p) {
      const int n_valid = static_cast<int>(std::min<int64_t>(P, n_rows - p * P));
      PackPanel(type, rows + static_cast<size_t>(p * P) * row_bytes, row_bytes, n_valid, n_cols,
                w.data_.get() + static_cast<size_t>(p) * w.panel_bytes_);
    }
  };
  constexpr size_t kChunkBytes = size_t{16} << 20;
  const int64_t n_panels = w.n_panels();
  const int64_t chunk_panels =
      source_done ? std::max<int64_t>(1, static_cast<int64_t>(kChunkBytes / w.panel_bytes_))
                  : n_panels;
  for (int64_t first = 0; first < n_panels; first += chunk_panels) {
    const int64_t count = std::min(chunk_panels, n_panels - first);
    auto pack_chunk = [&](int64_t begin, int64_t end, int thread) {
      pack(first + begin, first + end, thread);
    };
    if (pool != nullptr) {
      pool->ParallelFor(count, pack_chunk);
    } else {
      pack_chunk(0, count, 0);
    }
    if (source_done) {
      const int64_t row_end = std::min(n_rows, (first + count) * P);
      source_done(rows + static_cast<size_t>(first * P) * row_bytes,
                  static_cast<size_t>(row_end - first * P) * row_bytes);
    }
  }
  return w;
}

void MatMul(const GemmTable& table, const PackedWeights& w, const void* x_quantized, float* y,
            int64_t n_tokens, ThreadPool& pool) {
  const GgmlType type = w.type();
  const PanelKernelFn kernel = table.kernel[Id(type)];
  CHECK(kernel != nullptr && !w.empty());
  const int64_t n_rows = w.n_rows(), n_cols = w.n_cols();
  const auto* x = static_cast<const uint8_t*>(x_quantized);
  const size_t x_row = ActivationBytes(type, n_cols);

  // The calling thread's grow-only scratch: reused by every later call from this thread.
  thread_local std::vector<uint8_t> aux_scratch;
  const size_t aux_row = AuxRowBytes(type, n_cols);
  if (aux_scratch.size() < aux_row * static_cast<size_t>(n_tokens)) {
    aux_scratch.resize(aux_row * static_cast<size_t>(n_tokens));
  }
  uint8_t* aux = aux_scratch.data();  // [n_tokens, aux_row]
  if (aux_row != 0) {
    pool.ParallelFor(n_tokens, [&](int64_t begin, int64_t end, int) {
      for (int64_t t = begin; t < end; ++t) MakeAux(type, x + t * x_row, n_cols, aux + t * aux_row);
    });
  }

  const int tile = table.token_tile[Id(type)];
  // Panels per group: the group's weights (at most ~512 KB) stay in L2 while every token tile
  // passes over them, so weights come from memory once per call, activations once per group.
  const int64_t group =
      std::clamp<int64_t>(static_cast<int64_t>((512 << 10) / w.panel_bytes()), 1, 8);
  pool.ParallelFor(w.n_panels(), [&](int64_t begin, int64_t end, int) {
    alignas(64) float out[kGemmMaxTokens * P];  // [tile, 16]
    for (int64_t g0 = begin; g0 < end; g0 += group) {
      const int64_t g1 = std::min(end, g0 + group);
      for (int64_t t0 = 0; t0 < n_tokens; t0 += tile) {
        const int n_tok = static_cast<int>(std::min<int64_t>(tile, n_tokens - t0));
        for (int64_t p = g0; p < g1; ++p) {
          kernel(w.panel(p), n_cols, x + t0 * x_row, x_row, aux + t0 * aux_row, aux_row, n_tok,
                 out);
          const int64_t r0 = p * P;
          const int n_valid = static_cast<int>(std::min<int64_t>(P, n_rows - r0));
          for (int t = 0; t < n_tok; ++t) {
            std::memcpy(y + (t0 + t) * n_rows + r0, out + t * P, n_valid * sizeof(float));
          }
        }
      }
    }
  });
}

void MatMul(const PackedWeights& w, const void* x_quantized, float* y, int64_t n_tokens,
            ThreadPool& pool) {
  MatMul(Gemms(), w, x_quantized, y, n_tokens, pool);
}

}  // namespace corral::kernels
