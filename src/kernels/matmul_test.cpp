// The packed GEMM (gemm.h) against per-row reference dots (tensor::VecDotRef, what MatVec
// computes), and every level's kernels against their scalar twin, over shapes that are not
// multiples of the panel (16 rows) or of the token tiles (8 / 16), one token included.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <tuple>
#include <vector>

#include "kernels/gemm.h"
#include "kernels/matmul.h"
#include "tensor/quantize.h"
#include "tensor/vec_dot_ref.h"

namespace corral::kernels {
namespace {

using gguf::GgmlType;

constexpr GgmlType kPackTypes[] = {GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ5_0,
                                   GgmlType::kQ4_1, GgmlType::kQ5_1, GgmlType::kQ4_K,
                                   GgmlType::kQ6_K, GgmlType::kF16};

struct Case {
  std::vector<uint8_t> w;   // [n_rows, row_bytes]
  std::vector<uint8_t> xq;  // [n_tokens, x_row]
  size_t row_bytes = 0, x_row = 0;
};

Case MakeCase(GgmlType type, int64_t n_rows, int64_t n_cols, int64_t n_tokens, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss(0.f, 1.f);
  Case c;
  c.row_bytes = gguf::RowBytes(type, n_cols);
  c.w.resize(c.row_bytes * n_rows);
  std::vector<float> row(n_cols);  // [n_cols]
  for (int64_t r = 0; r < n_rows; ++r) {
    // Rows of different magnitudes, so per-row scales differ across a panel's lanes.
    const float scale = 0.1f + static_cast<float>(r % 7);
    for (float& v : row) v = scale * gauss(rng);
    tensor::QuantizeRow(type, row.data(), c.w.data() + r * c.row_bytes, n_cols);
  }
  c.x_row = ActivationBytes(type, n_cols);
  c.xq.resize(c.x_row * n_tokens);
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (float& v : row) v = gauss(rng);
    QuantizeActivation(type, row.data(), n_cols, c.xq.data() + t * c.x_row);
  }
  return c;
}

using Shape = std::tuple<int64_t, int64_t, int64_t>;  // rows, cols, tokens
// One token and 2-4 tokens (decode, several sequences) take the small-tile kernels.
constexpr Shape kShapes[] = {{1, 256, 1},   {5, 256, 3},   {16, 256, 8},  {17, 512, 9},
                             {33, 768, 17}, {70, 256, 65}, {47, 512, 1},  {31, 1024, 2},
                             {50, 768, 3},  {16, 256, 4},  {129, 512, 4}, {3, 256, 2}};

TEST(PackedMatMulTest, MatchesPerRowReferenceAtEveryLevel) {
  for (GgmlType type : kPackTypes) {
    ASSERT_TRUE(CanPack(type));
    for (auto [n_rows, n_cols, n_tokens] : kShapes) {
      const Case c = MakeCase(type, n_rows, n_cols, n_tokens, 5);
      for (int threads : {1, 2}) {
        ThreadPool pool(threads);
        const PackedWeights packed =
            Pack(type, c.w.data(), c.row_bytes, n_rows, n_cols, threads > 1 ? &pool : nullptr);
        ASSERT_EQ(packed.n_rows(), n_rows);
        std::vector<float> scalar(n_tokens * n_rows, -1.f);  // [n_tokens, n_rows]
        MatMul(GemmsFor(CpuLevel::kScalar), packed, c.xq.data(), scalar.data(), n_tokens, pool);
        for (int64_t t = 0; t < n_tokens; ++t) {
          for (int64_t r = 0; r < n_rows; ++r) {
            const float want = tensor::VecDotRef(type, c.w.data() + r * c.row_bytes,
                                                 c.xq.data() + t * c.x_row, n_cols);
            ASSERT_NEAR(scalar[t * n_rows + r], want, 1e-5 * (std::abs(want) + 100))
                << gguf::TypeInfo(type).name << " " << n_rows << "x" << n_cols << " token " << t
                << " row " << r;
          }
        }
        for (CpuLevel level : kAllCpuLevels) {
          if (!HostSupports(level)) continue;
          std::vector<float> y(n_tokens * n_rows, -1.f);  // [n_tokens, n_rows]
          MatMul(GemmsFor(level), packed, c.xq.data(), y.data(), n_tokens, pool);
          // Quantized types: same integer sums, same per-block float steps in the same order:
          // bit-equal. F16 sums columns in several chains (decode kernels): reassociation only.
          for (size_t i = 0; i < y.size(); ++i) {
            if (type == GgmlType::kF16) {
              ASSERT_NEAR(y[i], scalar[i], 1e-5 * (std::abs(scalar[i]) + 100))
                  << CpuLevelName(level) << " " << n_rows << "x" << n_cols << "x" << n_tokens
                  << " index " << i;
            } else {
              ASSERT_EQ(y[i], scalar[i])
                  << gguf::TypeInfo(type).name << " at " << CpuLevelName(level) << " " << n_rows
                  << "x" << n_cols << "x" << n_tokens << " index " << i;
            }
          }
        }
      }
    }
  }
}

// Packing in chunks that hand their source rows back (so a caller can drop them) covers every
// row exactly once, in order, and gives the same bytes as packing in one go.
TEST(PackedMatMulTest, ChunkedPackReleasesEverySourceRowOnce) {
  ThreadPool pool(2);
  // 16 MiB chunks of 64 KiB panels: 8200 rows of 2048 F16 columns are 256 + 256 + 1 panels,
  // the last one partial.
  const int64_t n_rows = 8200, n_cols = 2048;
  const Case c = MakeCase(GgmlType::kF16, n_rows, n_cols, 1, 5);
  const PackedWeights whole = Pack(GgmlType::kF16, c.w.data(), c.row_bytes, n_rows, n_cols, &pool);
  std::vector<std::pair<const uint8_t*, size_t>> released;
  const PackedWeights chunked =
      Pack(GgmlType::kF16, c.w.data(), c.row_bytes, n_rows, n_cols, &pool,
           [&](const uint8_t* rows, size_t n_bytes) { released.emplace_back(rows, n_bytes); });
  ASSERT_GE(released.size(), 3u);
  const uint8_t* next = c.w.data();
  for (auto [rows, n_bytes] : released) {
    EXPECT_EQ(rows, next);
    EXPECT_EQ(n_bytes % c.row_bytes, 0u);
    next = rows + n_bytes;
  }
  EXPECT_EQ(next, c.w.data() + n_rows * c.row_bytes);
  ASSERT_EQ(chunked.bytes(), whole.bytes());
  EXPECT_EQ(std::memcmp(chunked.panel(0), whole.panel(0), whole.bytes()), 0);
}

// F16 blocks are single columns: column counts that are not a multiple of the decode kernel's
// 4-column step take its remainder loop.
TEST(PackedMatMulTest, F16OddColumnCounts) {
  ThreadPool pool(2);
  for (auto [n_rows, n_cols, n_tokens] :
       {Shape{7, 131, 1}, Shape{19, 258, 2}, Shape{33, 67, 4}, Shape{5, 3, 1}, Shape{17, 101, 9}}) {
    const Case c = MakeCase(GgmlType::kF16, n_rows, n_cols, n_tokens, 11);
    const PackedWeights packed = Pack(GgmlType::kF16, c.w.data(), c.row_bytes, n_rows, n_cols);
    for (CpuLevel level : kAllCpuLevels) {
      if (!HostSupports(level)) continue;
      std::vector<float> y(n_tokens * n_rows, -1.f);  // [n_tokens, n_rows]
      MatMul(GemmsFor(level), packed, c.xq.data(), y.data(), n_tokens, pool);
      for (int64_t t = 0; t < n_tokens; ++t) {
        for (int64_t r = 0; r < n_rows; ++r) {
          const float want = tensor::VecDotRef(GgmlType::kF16, c.w.data() + r * c.row_bytes,
                                               c.xq.data() + t * c.x_row, n_cols);
          ASSERT_NEAR(y[t * n_rows + r], want, 1e-5 * (std::abs(want) + 100))
              << CpuLevelName(level) << " " << n_rows << "x" << n_cols << " token " << t << " row "
              << r;
        }
      }
    }
  }
}

// The 32-column types' blocks are 288-544 bytes: odd block counts put every other block (and
// the next panel) off the 64-byte lines, which the kernels load unaligned.
TEST(PackedMatMulTest, SmallBlockOddBlockCounts) {
  ThreadPool pool(2);
  for (GgmlType type :
       {GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ5_0, GgmlType::kQ4_1, GgmlType::kQ5_1}) {
    for (auto [n_rows, n_cols, n_tokens] : {Shape{7, 96, 1}, Shape{19, 160, 2}, Shape{33, 32, 4},
                                            Shape{40, 224, 9}, Shape{17, 96, 3}}) {
      const Case c = MakeCase(type, n_rows, n_cols, n_tokens, 13);
      const PackedWeights packed = Pack(type, c.w.data(), c.row_bytes, n_rows, n_cols);
      std::vector<float> scalar(n_tokens * n_rows, -1.f);  // [n_tokens, n_rows]
      MatMul(GemmsFor(CpuLevel::kScalar), packed, c.xq.data(), scalar.data(), n_tokens, pool);
      for (int64_t t = 0; t < n_tokens; ++t) {
        for (int64_t r = 0; r < n_rows; ++r) {
          const float want = tensor::VecDotRef(type, c.w.data() + r * c.row_bytes,
                                               c.xq.data() + t * c.x_row, n_cols);
          ASSERT_NEAR(scalar[t * n_rows + r], want, 1e-5 * (std::abs(want) + 100))
              << gguf::TypeInfo(type).name << " " << n_rows << "x" << n_cols << " token " << t
              << " row " << r;
        }
      }
      for (CpuLevel level : kAllCpuLevels) {
        if (!HostSupports(level)) continue;
        std::vector<float> y(n_tokens * n_rows, -1.f);  // [n_tokens, n_rows]
        MatMul(GemmsFor(level), packed, c.xq.data(), y.data(), n_tokens, pool);
        ASSERT_EQ(y, scalar) << CpuLevelName(level) << " " << gguf::TypeInfo(type).name << " "
                             << n_rows << "x" << n_cols << "x" << n_tokens;
      }
    }
  }
}

TEST(PackedMatMulTest, SelectedLevelMatchesUnpackedMatMul) {
  ThreadPool pool(2);
  for (GgmlType type : kPackTypes) {
    for (int64_t n_tokens : {1, 2, 4, 21}) {
      const int64_t n_rows = 40, n_cols = 512;
      const Case c = MakeCase(type, n_rows, n_cols, n_tokens, 9);
      const PackedWeights packed = Pack(type, c.w.data(), c.row_bytes, n_rows, n_cols, &pool);
      std::vector<float> packed_y(n_tokens * n_rows), plain_y(n_tokens * n_rows);
      MatMul(packed, c.xq.data(), packed_y.data(), n_tokens, pool);
      MatMul(QuantDots(), type, c.w.data(), c.row_bytes, c.xq.data(), plain_y.data(), n_rows,
             n_cols, n_tokens, pool);
      for (size_t i = 0; i < packed_y.size(); ++i) {
        ASSERT_NEAR(packed_y[i], plain_y[i], 1e-5 * (std::abs(plain_y[i]) + 100))
            << gguf::TypeInfo(type).name << " " << n_tokens << " tokens, index " << i;
      }
    }
  }
}

TEST(PackedMatMulTest, PackedSizeIsTheDocumentedOverhead) {
  const int64_t n_rows = 32, n_cols = 512;
  for (GgmlType type : kPackTypes) {
    const Case c = MakeCase(type, n_rows, n_cols, 1, 3);
    const PackedWeights packed = Pack(type, c.w.data(), c.row_bytes, n_rows, n_cols);
    const double ratio = static_cast<double>(packed.bytes()) / static_cast<double>(c.w.size());
    // The engine keeps only the packed copy (gemm.h's table): Q4_K's byte-wide scales and mins
    // +2.8 %, Q6_K's row-major scales +1 %, the 32-column types and F16 nothing.
    const double max_ratio = type == GgmlType::kQ4_K ? 1.03 : type == GgmlType::kQ6_K ? 1.015 : 1.0;
    EXPECT_LE(ratio, max_ratio) << gguf::TypeInfo(type).name;
    EXPECT_GE(ratio, 1.0) << gguf::TypeInfo(type).name;
  }
}

}  // namespace
}  // namespace corral::kernels
