// Batched matrix products (prompt processing) on weights repacked at load time into 16-row
// panels, so that one SIMD lane holds one weight row: a 64-byte load covers 16 rows × 4
// consecutive columns, `vpdpbusd` with a 4-byte activation broadcast does 64 multiply-adds,
// the per-row block scales are applied to all 16 rows with one vector multiply, and a panel of
// 16 rows × 8 tokens stays in registers across a whole block (no horizontal sums at all).
// Results equal MatVec's per-row dot products up to float reassociation: the integer sums are
// the same exact sums, and every block's scales are applied in f32 as vec_dot does.
//
// Packed layouts (per panel of 16 rows, per block of columns; rows past n_rows are zero):
//   Q8_0 (32 cols):  d[16] f16, q[8 groups][16 rows][4] u8 = q + 128          544 B (+0 %)
//   Q4_0 (32 cols):  d[16] f16, q[4][16 rows][4] nibbles as ggml's (low: column 4i + k, high:
//                    16 + 4i + k)                                              288 B (+0 %)
//   Q5_0 (32 cols):  d[16] f16, qh[16 rows][4] u8 (bit g of byte k: high bit of column
//                    4g + k, ggml's u32 reordered), q[4][16][4] as Q4_0         352 B (+0 %)
//   Q4_1 (32 cols):  d[16], m[16] f16, q[4][16][4] as Q4_0                      320 B (+0 %)
//   Q5_1 (32 cols):  d[16], m[16] f16, qh and q as Q5_0                         384 B (+0 %)
//                    (the 32-column blocks sit at any 32-byte offset: unaligned loads)
//   Q4_K (256 cols): d[16], dmin[16] f16, sc[8][16] u8, m[4][16][2] u8 (min pairs),
//                    q[8 sub-blocks][4][16 rows][4] nibbles (low: group i, high: group i+4)
//                                                                              2368 B (+2.8 %)
//   Q6_K (256 cols): d[16] f32, sc[16][16] i8, ql[8 sub-blocks][4][16 rows][4] low-4-bit
//                    nibbles (like Q4_K), qh[8][2][16 rows][4] high 2 bits, 4 groups a byte
//                                                                              3392 B (+1 %)
//   F16 (1 col):     [16 rows] f16                                            32 B (+0 %)
// (percentages against the ggml blocks of the same 16 rows.)
//
// Decode (1-4 tokens, e.g. several sequences decoded together) runs the same panels through
// small-tile instances of the kernels (independent accumulator chains; software prefetch for the
// K-quants), which stream the weights at memory bandwidth, so an engine can keep only the
// packed copy of each weight.
//
// Activations are the same as for MatMul/MatVec: QuantizeActivations(type, ...) output (Q8_0,
// Q8_K or F16 rows). Each call derives a small per-token-block summary (activation block sums
// for the quantized types, the F16 rows converted to F32 for F16) into a thread-local buffer of
// the calling thread, grown on first use and reused afterwards (no allocation per call once
// warm).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "base/thread_pool.h"
#include "gguf/ggml_type.h"
#include "kernels/cpu_features.h"
#include "kernels/quant_dot.h"

namespace corral::kernels {

inline constexpr int kPanelRows = 16;      // weight rows per panel (one per 32-bit lane of a zmm)
inline constexpr int kGemmMaxTokens = 16;  // most tokens a panel kernel takes at once

// Computes out[t, i] = W[panel row i] · x[t] for n_tokens <= kGemmMaxTokens tokens.
using PanelKernelFn = void (*)(const uint8_t* panel,  // [n_blocks, panel block bytes]
                               int64_t n_cols,
                               const uint8_t* x,  // [n_tokens, x_row] quantized activations
                               size_t x_row,
                               const uint8_t* aux,  // [n_tokens, aux_row] per-call summary
                               size_t aux_row, int n_tokens,
                               float* out);  // [n_tokens, kPanelRows]

struct GemmTable {
  CpuLevel level = CpuLevel::kScalar;
  PanelKernelFn kernel[kMaxTypeId] = {};  // by weight type id; nullptr: not packable
  bool native[kMaxTypeId] = {};           // a SIMD kernel (not the scalar twin) for the type

  // Tokens per call of this level's kernel for `type` (the register tile).
  int token_tile[kMaxTypeId] = {};
};

const GemmTable& Gemms();                   // the selected level (chosen once, like QuantDots)
const GemmTable& GemmsFor(CpuLevel level);  // CHECK-fails if the CPU lacks it

// Whether Pack takes `type` (Q8_0, Q4_0, Q5_0, Q4_1, Q5_1, Q4_K, Q6_K, F16 for now).
bool CanPack(gguf::GgmlType type);
// Whether the selected level has a SIMD kernel for packed `type`, i.e. packing is worth its
// memory (on a CPU without AVX-512 VNNI the packed product runs the scalar twin: use MatMul on
// the ggml rows there).
bool PackingPays(gguf::GgmlType type);

// A weight matrix in the panel layout above. Owns its bytes (64-byte aligned).
class PackedWeights {
 public:
  PackedWeights() = default;
  gguf::GgmlType type() const { return type_; }
  int64_t n_rows() const { return n_rows_; }
  int64_t n_cols() const { return n_cols_; }
  int64_t n_panels() const { return (n_rows_ + kPanelRows - 1) / kPanelRows; }
  size_t panel_bytes() const { return panel_bytes_; }
  size_t bytes() const { return panel_bytes_ * static_cast<size_t>(n_panels()); }
  const uint8_t* panel(int64_t p) const {
    return data_.get() + static_cast<size_t>(p) * panel_bytes_;
  }
  bool empty() const { return data_ == nullptr; }

 private:
  friend PackedWeights Pack(gguf::GgmlType, const void*, size_t, int64_t, int64_t, ThreadPool*,
                            const std::function<void(const uint8_t*, size_t)>&);
  struct Free {
    void operator()(uint8_t* p) const;
  };
  gguf::GgmlType type_ = gguf::GgmlType::kF32;
  int64_t n_rows_ = 0, n_cols_ = 0;
  size_t panel_bytes_ = 0;
  std::unique_ptr<uint8_t, Free> data_;
};

// Repacks n_rows ggml rows of `type` (CanPack), `row_bytes` apart. n_cols must be a multiple of
// the type's block size. Splits the panels across `pool` when given. When `source_done` is
// given, rows are packed in chunks of about 16 MiB and it is called with each chunk's source
// bytes once they are no longer read, so a caller that drops them (e.g. the file's pages of a
// 500 MB output matrix) never holds the source and the packed copy of the whole matrix at once.
PackedWeights Pack(
    gguf::GgmlType type,
    const void* weights,  // [n_rows, row_bytes]
    size_t row_bytes, int64_t n_rows, int64_t n_cols, ThreadPool* pool = nullptr,
    const std::function<void(const uint8_t* rows, size_t n_bytes)>& source_done = {});

// Y = X · Wᵀ with packed weights: y[t, r] = W[r] · x[t]. Panels are split across `pool`; each
// thread sweeps tiles of tokens over a group of panels that stays in L2. Works for any
// n_tokens >= 1 (one token is a matrix-vector product over the same layout).
void MatMul(const PackedWeights& w,
            const void* x_quantized,  // [n_tokens, ActivationBytes(w.type(), w.n_cols())]
            float* y,                 // [n_tokens, w.n_rows()]
            int64_t n_tokens, ThreadPool& pool);
// The same with the kernels of a given level (tests compare the levels).
void MatMul(const GemmTable& table, const PackedWeights& w, const void* x_quantized, float* y,
            int64_t n_tokens, ThreadPool& pool);

}  // namespace corral::kernels
