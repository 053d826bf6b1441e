#include "kernels/matmul.h"

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

}  // namespace corral::kernels
