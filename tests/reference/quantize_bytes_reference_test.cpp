// Our quantizers write exactly the bytes llama.cpp's do: tensor::QuantizeRow against
// ggml_quantize_chunk (what llama-quantize writes without an importance matrix), loaded from
// the reference install's libggml-base.so, on Gaussian, uniform, sparse and outlier-heavy rows.
#include <gtest/gtest.h>

#include <random>

#include "tensor/quantize.h"
#include "tensor/vec_dot_ref.h"
#include "testing/llamacpp_ggml.h"

namespace corral::testing {
namespace {

using gguf::GgmlType;

std::vector<float> Pattern(int kind, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss(0.f, 1.f);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i) {
    switch (kind) {
      case 0:
        x[i] = gauss(rng);
        break;
      case 1:
        x[i] = uniform(rng) * 0.01f;
        break;
      case 2:
        x[i] = (rng() % 7 == 0) ? gauss(rng) : 0.f;
        break;  // sparse
      default:
        x[i] = gauss(rng) * ((rng() % 61 == 0) ? 40.f : 1.f);  // outliers
    }
  }
  return x;
}

TEST(QuantizeBytesReferenceTest, EveryTypeMatchesGgml) {
  std::string why;
  const LlamaCppKernels* ggml = LlamaCppKernels::Get(&why);
  ASSERT_NE(ggml, nullptr) << why;
  const GgmlType types[] = {GgmlType::kF16,    GgmlType::kBF16,  GgmlType::kQ4_0, GgmlType::kQ4_1,
                            GgmlType::kQ5_0,   GgmlType::kQ5_1,  GgmlType::kQ8_0, GgmlType::kQ2_K,
                            GgmlType::kQ3_K,   GgmlType::kQ4_K,  GgmlType::kQ5_K, GgmlType::kQ6_K,
                            GgmlType::kIQ4_NL, GgmlType::kIQ4_XS};
  const int64_t n_per_row = 1024, n_rows = 8;
  for (GgmlType type : types) {
    for (int kind = 0; kind < 4; ++kind) {
      std::vector<float> x =
          Pattern(kind, n_per_row * n_rows, 100u * kind + static_cast<uint32_t>(type));
      const size_t row_bytes = gguf::RowBytes(type, n_per_row);
      std::vector<uint8_t> ours(row_bytes * n_rows), theirs(row_bytes * n_rows, 0xAB);
      for (int64_t r = 0; r < n_rows; ++r) {
        tensor::QuantizeRow(type, x.data() + r * n_per_row, ours.data() + r * row_bytes, n_per_row);
      }
      size_t written =
          ggml->QuantizeChunk(static_cast<int>(type), x.data(), theirs.data(), n_rows, n_per_row);
      ASSERT_EQ(written, ours.size()) << gguf::TypeInfo(type).name;
      EXPECT_EQ(ours, theirs) << gguf::TypeInfo(type).name << " pattern " << kind;
    }
  }
}

}  // namespace
}  // namespace corral::testing
