// Every level's quantized dot kernels against the scalar reference (tensor::VecDotRef) over
// block counts from 0 to past two vector widths, odd counts, and unaligned buffers; and
// MatVec against per-row reference dots.
#include "kernels/quant_dot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/matmul.h"
#include "tensor/blocks.h"
#include "tensor/dequantize.h"
#include "tensor/fp16.h"
#include "tensor/quantize.h"
#include "tensor/vec_dot_ref.h"

namespace corral::kernels {
namespace {

using gguf::GgmlType;

constexpr GgmlType kTypes[] = {
    GgmlType::kF32,  GgmlType::kF16,  GgmlType::kBF16, GgmlType::kQ4_0,   GgmlType::kQ4_1,
    GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ8_0, GgmlType::kQ2_K,   GgmlType::kQ3_K,
    GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K, GgmlType::kIQ4_NL, GgmlType::kIQ4_XS};

// Rows start 4 bytes past the vector's (16-byte aligned) start: unaligned for every SIMD load,
// but aligned like the element types (f32, f16 scales), as GGUF's 32-byte tensor alignment
// guarantees for every row of a real file.
constexpr size_t kOffset = 4;

struct Rows {
  std::vector<uint8_t> weights;      // quantized weight row, stored at kOffset
  std::vector<uint8_t> activations;  // quantized activation row, at kOffset
  double magnitude = 0;              // Σ|w_i·a_i| of the dequantized values: the error scale
};

Rows MakeRows(GgmlType type, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss(0.f, 1.f);
  std::vector<float> w(n), x(n);
  for (float& v : w) v = gauss(rng);
  for (float& v : x) v = gauss(rng) * 3.0f;
  Rows rows;
  size_t wb = gguf::RowBytes(type, n);
  size_t ab = ActivationBytes(type, n);
  rows.weights.assign(wb + kOffset, 0);
  rows.activations.assign(ab + kOffset, 0);
  if (n > 0) {
    tensor::QuantizeRow(type, w.data(), rows.weights.data() + kOffset, n);
    QuantizeActivation(type, x.data(), n, rows.activations.data() + kOffset);
    std::vector<float> wd(n), xd(n);
    tensor::DequantizeRow(type, rows.weights.data() + kOffset, wd.data(), n);
    GgmlType at = tensor::Traits(type).vec_dot_type;
    tensor::DequantizeRow(at, rows.activations.data() + kOffset, xd.data(), n);
    for (int64_t i = 0; i < n; ++i) rows.magnitude += std::abs(double(wd[i]) * xd[i]);
  }
  return rows;
}

TEST(QuantDotTest, EveryLevelMatchesTheReference) {
  for (CpuLevel level : kAllCpuLevels) {
    if (!HostSupports(level)) {
      std::printf("skipping level %s: not supported by this CPU\n",
                  std::string(CpuLevelName(level)).c_str());
      continue;
    }
    const QuantDotTable& table = QuantDotsFor(level);
    for (GgmlType type : kTypes) {
      const int64_t block =
          std::max<int64_t>(gguf::TypeInfo(type).block_size,
                            gguf::TypeInfo(tensor::Traits(type).vec_dot_type).block_size);
      // 0..9 blocks covers 0 to past two 256-bit vectors' worth of 32-element blocks, and the
      // 256-element super-blocks up to 9; 37 is a large odd count.
      for (int64_t blocks : {0, 1, 2, 3, 4, 5, 7, 8, 9, 37}) {
        const int64_t n = blocks * block;
        for (uint32_t seed : {1u, 2u}) {
          Rows rows = MakeRows(type, n, seed * 7919u + static_cast<uint32_t>(n));
          float want = tensor::VecDotRef(type, rows.weights.data() + kOffset,
                                         rows.activations.data() + kOffset, n);
          float got =
              table.For(type)(rows.weights.data() + kOffset, rows.activations.data() + kOffset, n);
          double tolerance = 2e-6 * rows.magnitude + 1e-6;
          EXPECT_NEAR(got, want, tolerance)
              << CpuLevelName(level) << " " << gguf::TypeInfo(type).name << " n=" << n;
        }
      }
    }
  }
}

// Compares every level with the reference on one pair of rows; `what` names the case.
void ExpectLevelsMatch(GgmlType type, const Rows& rows, int64_t n, const std::string& what) {
  const float want =
      tensor::VecDotRef(type, rows.weights.data() + kOffset, rows.activations.data() + kOffset, n);
  for (CpuLevel level : kAllCpuLevels) {
    if (!HostSupports(level)) continue;
    const float got = QuantDotsFor(level).For(type)(rows.weights.data() + kOffset,
                                                    rows.activations.data() + kOffset, n);
    EXPECT_NEAR(got, want, 2e-6 * rows.magnitude + 1e-6)
        << CpuLevelName(level) << " " << gguf::TypeInfo(type).name << " n=" << n << " " << what;
  }
}

// The float types have block size 1, so the test above only reaches 37 elements; these sizes
// cross the kernels' 32-element steps, 512/1024-element float chunks and masked tails.
TEST(QuantDotTest, FloatTypesLongRows) {
  for (GgmlType type : {GgmlType::kF32, GgmlType::kF16, GgmlType::kBF16}) {
    for (int64_t n : {31, 32, 33, 127, 128, 129, 511, 513, 1023, 1024, 1025, 4099, 16384}) {
      ExpectLevelsMatch(type, MakeRows(type, n, static_cast<uint32_t>(n)), n, "");
    }
  }
}

// Random bytes in every weight block (with sane f16 scales), so each bit pattern the
// quantizers rarely produce is reached: every Q3_K hmask / scale combination, IQ4_XS scale
// -32, Q2_K mins 15, Q8_0 weights of -128. Activations are random too, within the quantizers'
// range (|q| <= 127) and with consistent sums.
Rows MakeRandomBitRows(GgmlType type, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255), q8(-127, 127);
  std::uniform_real_distribution<float> scale(-0.1f, 0.1f);
  auto half = [&] { return tensor::Fp32ToFp16(scale(rng)); };
  Rows rows;
  rows.weights.assign(gguf::RowBytes(type, n) + kOffset, 0);
  rows.activations.assign(ActivationBytes(type, n) + kOffset, 0);
  uint8_t* wb = rows.weights.data() + kOffset;
  for (size_t i = 0; i + kOffset < rows.weights.size(); ++i)
    wb[i] = static_cast<uint8_t>(byte(rng));
  const int64_t nb = n / gguf::TypeInfo(type).block_size;
  for (int64_t i = 0; i < nb; ++i) {
    switch (type) {
      case GgmlType::kQ4_0:
        reinterpret_cast<tensor::BlockQ4_0*>(wb)[i].d = half();
        break;
      case GgmlType::kQ5_0:
        reinterpret_cast<tensor::BlockQ5_0*>(wb)[i].d = half();
        break;
      case GgmlType::kQ8_0:
        reinterpret_cast<tensor::BlockQ8_0*>(wb)[i].d = half();
        break;
      case GgmlType::kIQ4_NL:
        reinterpret_cast<tensor::BlockIQ4_NL*>(wb)[i].d = half();
        break;
      case GgmlType::kIQ4_XS:
        reinterpret_cast<tensor::BlockIQ4_XS*>(wb)[i].d = half();
        break;
      case GgmlType::kQ3_K:
        reinterpret_cast<tensor::BlockQ3_K*>(wb)[i].d = half();
        break;
      case GgmlType::kQ6_K:
        reinterpret_cast<tensor::BlockQ6_K*>(wb)[i].d = half();
        break;
      case GgmlType::kQ4_1: {
        auto& b = reinterpret_cast<tensor::BlockQ4_1*>(wb)[i];
        b.d = half();
        b.m = half();
        break;
      }
      case GgmlType::kQ5_1: {
        auto& b = reinterpret_cast<tensor::BlockQ5_1*>(wb)[i];
        b.d = half();
        b.m = half();
        break;
      }
      case GgmlType::kQ2_K: {
        auto& b = reinterpret_cast<tensor::BlockQ2_K*>(wb)[i];
        b.d = half();
        b.dmin = half();
        break;
      }
      case GgmlType::kQ4_K: {
        auto& b = reinterpret_cast<tensor::BlockQ4_K*>(wb)[i];
        b.d = half();
        b.dmin = half();
        break;
      }
      case GgmlType::kQ5_K: {
        auto& b = reinterpret_cast<tensor::BlockQ5_K*>(wb)[i];
        b.d = half();
        b.dmin = half();
        break;
      }
      default:
        ADD_FAILURE() << "no random-bit blocks for " << gguf::TypeInfo(type).name;
        return rows;
    }
  }
  uint8_t* ab = rows.activations.data() + kOffset;
  const GgmlType at = tensor::Traits(type).vec_dot_type;
  for (int64_t i = 0; i < n / gguf::TypeInfo(at).block_size; ++i) {
    if (at == GgmlType::kQ8_K) {
      auto& b = reinterpret_cast<tensor::BlockQ8_K*>(ab)[i];
      b.d = scale(rng);
      for (int k = 0; k < 16; ++k) {
        int sum = 0;
        for (int l = 0; l < 16; ++l) sum += b.qs[16 * k + l] = static_cast<int8_t>(q8(rng));
        b.bsums[k] = static_cast<int16_t>(sum);
      }
    } else if (at == GgmlType::kQ8_1) {
      auto& b = reinterpret_cast<tensor::BlockQ8_1*>(ab)[i];
      b.d = half();
      int sum = 0;
      for (int8_t& q : b.qs) sum += q = static_cast<int8_t>(q8(rng));
      b.s = tensor::Fp32ToFp16(tensor::Fp16ToFp32(b.d) * static_cast<float>(sum));
    } else {
      auto& b = reinterpret_cast<tensor::BlockQ8_0*>(ab)[i];
      b.d = half();
      for (int8_t& q : b.qs) q = static_cast<int8_t>(q8(rng));
    }
  }
  std::vector<float> wd(n), xd(n);
  tensor::DequantizeRow(type, wb, wd.data(), n);
  tensor::DequantizeRow(at, ab, xd.data(), n);
  for (int64_t i = 0; i < n; ++i) rows.magnitude += std::abs(double(wd[i]) * xd[i]);
  return rows;
}

TEST(QuantDotTest, RandomBitsMatchTheReference) {
  for (GgmlType type : kTypes) {
    if (type == GgmlType::kF32 || type == GgmlType::kF16 || type == GgmlType::kBF16) continue;
    const int64_t block = gguf::TypeInfo(tensor::Traits(type).vec_dot_type).block_size;
    const int64_t unit = std::max<int64_t>(block, gguf::TypeInfo(type).block_size);
    for (int64_t blocks : {1, 2, 3, 8, 17}) {
      for (uint32_t seed : {1u, 2u, 3u}) {
        const int64_t n = blocks * unit;
        ExpectLevelsMatch(type, MakeRandomBitRows(type, n, seed * 131u + static_cast<uint32_t>(n)),
                          n, "random bits seed " + std::to_string(seed));
      }
    }
  }
}

TEST(QuantDotTest, SimdLevelsHaveNativeKernelsForEveryType) {
  for (CpuLevel level : {CpuLevel::kAvx2, CpuLevel::kAvx512}) {
    if (!HostSupports(level)) continue;
    const QuantDotTable& table = QuantDotsFor(level);
    for (GgmlType type : kTypes) {
      EXPECT_TRUE(table.IsNative(type)) << CpuLevelName(level) << " " << gguf::TypeInfo(type).name;
    }
  }
  EXPECT_FALSE(QuantDotsFor(CpuLevel::kScalar).IsNative(GgmlType::kQ4_K));
}

TEST(MatVecTest, MatchesPerRowReference) {
  const int64_t n_rows = 37, n_cols = 512;
  std::mt19937 rng(3);
  std::normal_distribution<float> gauss(0.f, 1.f);
  std::vector<float> x(n_cols);
  for (float& v : x) v = gauss(rng);
  for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kQ4_K, GgmlType::kQ6_K, GgmlType::kF32}) {
    size_t row_bytes = gguf::RowBytes(type, n_cols);
    std::vector<uint8_t> w(row_bytes * n_rows);
    std::vector<float> row(n_cols);
    for (int64_t r = 0; r < n_rows; ++r) {
      for (float& v : row) v = gauss(rng);
      tensor::QuantizeRow(type, row.data(), w.data() + r * row_bytes, n_cols);
    }
    std::vector<uint8_t> xq(ActivationBytes(type, n_cols));
    QuantizeActivation(type, x.data(), n_cols, xq.data());
    for (int threads : {1, 2, 3}) {
      ThreadPool pool(threads);
      std::vector<float> y(n_rows, -1.f);
      MatVec(QuantDots(), type, w.data(), row_bytes, xq.data(), y.data(), n_rows, n_cols, pool);
      for (int64_t r = 0; r < n_rows; ++r) {
        float want = tensor::VecDotRef(type, w.data() + r * row_bytes, xq.data(), n_cols);
        EXPECT_NEAR(y[r], want, 1e-4 * (std::abs(want) + 10))
            << gguf::TypeInfo(type).name << " row " << r;
      }
    }
  }
}

TEST(MatMulTest, MatchesPerElementReference) {
  std::mt19937 rng(11);
  std::normal_distribution<float> gauss(0.f, 1.f);
  for (GgmlType type : {GgmlType::kQ4_K, GgmlType::kQ8_0, GgmlType::kF16}) {
    for (auto [n_rows, n_cols, n_tokens] :
         {std::tuple<int64_t, int64_t, int64_t>{5, 256, 3}, {33, 512, 40}, {70, 256, 65}}) {
      size_t row_bytes = gguf::RowBytes(type, n_cols);
      std::vector<uint8_t> w(row_bytes * n_rows);
      std::vector<float> row(n_cols);
      for (int64_t r = 0; r < n_rows; ++r) {
        for (float& v : row) v = gauss(rng);
        tensor::QuantizeRow(type, row.data(), w.data() + r * row_bytes, n_cols);
      }
      std::vector<float> x(n_tokens * n_cols);
      for (float& v : x) v = gauss(rng);
      size_t x_row = ActivationBytes(type, n_cols);
      std::vector<uint8_t> xq(x_row * n_tokens);
      for (int threads : {1, 2}) {
        ThreadPool pool(threads);
        QuantizeActivations(type, x.data(), n_tokens, n_cols, xq.data(), pool);
        std::vector<float> y(n_tokens * n_rows, -1.f);
        MatMul(QuantDots(), type, w.data(), row_bytes, xq.data(), y.data(), n_rows, n_cols,
               n_tokens, pool);
        for (int64_t t = 0; t < n_tokens; ++t) {
          std::vector<uint8_t> single(x_row);
          QuantizeActivation(type, x.data() + t * n_cols, n_cols, single.data());
          ASSERT_EQ(std::memcmp(single.data(), xq.data() + t * x_row, x_row), 0) << "token " << t;
          for (int64_t r = 0; r < n_rows; ++r) {
            float want = tensor::VecDotRef(type, w.data() + r * row_bytes, single.data(), n_cols);
            ASSERT_NEAR(y[t * n_rows + r], want, 1e-4 * (std::abs(want) + 10))
                << gguf::TypeInfo(type).name << " token " << t << " row " << r;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace corral::kernels
