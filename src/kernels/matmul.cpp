#include "kernels/matmul.h"

#include <algorithm>
#include <cstring>

#include "base/check.h"
#include "tensor/quantize.h"
#include "tensor/vec_dot_ref.h"

namespace corral::kernels {

size_t ActivationBytes(gguf::GgmlType weight_type, int64_t n) {
  gguf::GgmlType type = tensor::Traits(weight_type).vec_dot_type;
  return gguf::RowBytes(type, static_cast<uint64_t>(n));
}

void QuantizeActivation(gguf::GgmlType weight_type, const float* x, int64_t n, void* out) {
  CHECK(tensor::Traits(weight_type).has_vec_dot)
      << "no dot product for " << gguf::TypeInfo(weight_type).name;
  gguf::GgmlType type = tensor::Traits(weight_type).vec_dot_type;
  if (type == gguf::GgmlType::kF32) {
    std::memcpy(out, x, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  tensor::QuantizeRow(type, x, out, n);
}

void MatVec(const QuantDotTable& dots, gguf::GgmlType weight_type, const void* weights,
            size_t row_bytes, const void* x_quantized, float* y, int64_t n_rows, int64_t n_cols,
            ThreadPool& pool) {
  const VecDotFn dot = dots.For(weight_type);
  const auto* base = static_cast<const uint8_t*>(weights);
  // 16 rows at least per chunk: waking a thread costs about as much as a few rows of a
  // 4096-wide Q4_K matrix.
  pool.ParallelFor(
      n_rows,
      [&](int64_t begin, int64_t end, int) {
        for (int64_t r = begin; r < end; ++r) {
          y[r] = dot(base + static_cast<size_t>(r) * row_bytes, x_quantized, n_cols);
        }
      },
      16);
}

void QuantizeActivations(gguf::GgmlType weight_type, const float* x, int64_t n_tokens,
                         int64_t n_cols, void* out, ThreadPool& pool) {
  const size_t out_row = ActivationBytes(weight_type, n_cols);
  pool.ParallelFor(n_tokens, [&](int64_t begin, int64_t end, int) {
    for (int64_t t = begin; t < end; ++t) {
      QuantizeActivation(weight_type, x + t * n_cols, n_cols,
                         static_cast<uint8_t*>(out) + static_cast<size_t>(t) * out_row);
    }
  });
}

void MatMul(const QuantDotTable& dots, gguf::GgmlType weight_type, const void* weights,
            size_t row_bytes, const void* x_quantized, float* y, int64_t n_rows, int64_t n_cols,
            int64_t n_tokens, ThreadPool& pool) {
  if (n_tokens == 1) {
    MatVec(dots, weight_type, weights, row_bytes, x_quantized, y, n_rows, n_cols, pool);
    return;
  }
  const VecDotFn dot = dots.For(weight_type);
  const auto* w = static_cast<const uint8_t*>(weights);
  const auto* x = static_cast<const uint8_t*>(x_quantized);
  const size_t x_row = ActivationBytes(weight_type, n_cols);
  // Tiles: 16 weight rows (for 4096 Q4_K columns, 37 KB: L1/L2-resident) by 32 tokens.
  constexpr int64_t kRowTile = 16, kTokenTile = 32;
  pool.ParallelFor(
      n_rows,
      [&](int64_t begin, int64_t end, int) {
        for (int64_t r0 = begin; r0 < end; r0 += kRowTile) {
          const int64_t r1 = std::min(end, r0 + kRowTile);
          for (int64_t t0 = 0; t0 < n_tokens; t0 += kTokenTile) {
            const int64_t t1 = std::min(n_tokens, t0 + kTokenTile);
            for (int64_t r = r0; r < r1; ++r) {
              const uint8_t* w_row = w + static_cast<size_t>(r) * row_bytes;
              for (int64_t t = t0; t < t1; ++t) {
                y[t * n_rows + r] = dot(w_row, x + static_cast<size_t>(t) * x_row, n_cols);
              }
            }
          }
        }
      },
      kRowTile);
}

}  // namespace corral::kernels
