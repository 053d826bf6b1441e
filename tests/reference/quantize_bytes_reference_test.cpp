// Our quantizers write exactly the bytes llama.cpp's do: tensor::QuantizeRow against
// ggml_quantize_chunk (what llama-quantize writes without an importance matrix), loaded from
// the reference install's libggml-base.so, on Gaussian, uniform, sparse and outlier-heavy rows.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "tensor/dequantize.h"
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

// Our dequantizers give bit-identical floats to ggml's on the same bytes: quantized Gaussian
// rows, and random bytes (every bit pattern of scales and quants, NaN and inf scales aside).
TEST(QuantizeBytesReferenceTest, DequantizersMatchGgml) {
  std::string why;
  const LlamaCppKernels* ggml = LlamaCppKernels::Get(&why);
  ASSERT_NE(ggml, nullptr) << why;
  const GgmlType types[] = {GgmlType::kF16,    GgmlType::kBF16,  GgmlType::kQ4_0, GgmlType::kQ4_1,
                            GgmlType::kQ5_0,   GgmlType::kQ5_1,  GgmlType::kQ8_0, GgmlType::kQ2_K,
                            GgmlType::kQ3_K,   GgmlType::kQ4_K,  GgmlType::kQ5_K, GgmlType::kQ6_K,
                            GgmlType::kIQ4_NL, GgmlType::kIQ4_XS};
  const int64_t n = 4096;
  std::mt19937 rng(77);
  for (GgmlType type : types) {
    const GgmlTypeTraits* traits = ggml->BaseTraits(static_cast<int>(type));
    ASSERT_NE(traits, nullptr);
    // The struct layout is declared by hand; check it against what we know of the type.
    ASSERT_STREQ(traits->type_name, std::string(gguf::TypeInfo(type).name).c_str());
    ASSERT_EQ(traits->blck_size, gguf::TypeInfo(type).block_size);
    ASSERT_EQ(traits->type_size, gguf::TypeInfo(type).type_size);
    ASSERT_NE(traits->to_float, nullptr) << traits->type_name;

    std::vector<uint8_t> bytes(gguf::RowBytes(type, n));
    for (int trial = 0; trial < 2; ++trial) {
      if (trial == 0) {
        std::vector<float> x = Pattern(0, n, 5u + static_cast<uint32_t>(type));
        tensor::QuantizeRow(type, x.data(), bytes.data(), n);
      } else {
        for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
        // Keep f16 scales finite: clear the top exponent bit of every 2-byte word that could
        // be a scale (NaN and inf would compare unequal to themselves).
        for (size_t i = 1; i < bytes.size(); i += 2) bytes[i] &= 0xBF;
      }
      std::vector<float> ours(n), theirs(n);
      tensor::DequantizeRow(type, bytes.data(), ours.data(), n);
      traits->to_float(bytes.data(), theirs.data(), n);
      ASSERT_EQ(std::memcmp(ours.data(), theirs.data(), n * sizeof(float)), 0)
          << traits->type_name << (trial == 0 ? " (quantized data)" : " (random bytes)");
    }
  }
}

}  // namespace
}  // namespace corral::testing
