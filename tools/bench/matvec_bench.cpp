// Quantized matrix-vector products, the token-generation bottleneck: a 2048x8192 weight
// (8192 rows of 2048) per type, level and thread count. The weights are cycled through enough
// copies (>= 512 MiB in all) that every product reads from memory, not from the L3 cache, so
// GB/s reads directly against the machine's memory bandwidth (BM_MemoryRead).
//
// BM_Gemv* (at the end): 1-4 tokens through the packed panels (gemm.h) against MatMul/MatVec
// on the ggml rows and llama.cpp's ggml_mul_mat, per packable type, on the decode shapes
// 2048x2048, 512x2048, 8192x2048, 2048x8192 (rows x cols), 2 threads, weights cycled from
// memory the same way. GB/s counts the ggml bytes of the weight for all three (the packed copy
// is slightly larger), so the numbers compare as token rates.
#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "kernels/gemm.h"
#include "kernels/matmul.h"
#include "tensor/quantize.h"
#include "testing/llamacpp_ggml.h"

namespace corral::kernels {
namespace {

using gguf::GgmlType;

constexpr int64_t kCols = 2048, kRows = 8192;
constexpr size_t kMinTotalBytes = size_t{512} << 20;

// Every weight type, in the order the benchmarks and the summary list them.
constexpr GgmlType kMatVecTypes[] = {
    GgmlType::kQ4_K, GgmlType::kQ6_K, GgmlType::kQ8_0, GgmlType::kQ4_0,   GgmlType::kQ4_1,
    GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ2_K, GgmlType::kQ3_K,   GgmlType::kQ5_K,
    GgmlType::kF32,  GgmlType::kF16,  GgmlType::kBF16, GgmlType::kIQ4_NL, GgmlType::kIQ4_XS};

struct Fixture {
  std::vector<uint8_t> weights;  // [copies, kRows, row_bytes]
  size_t matrix_bytes = 0;
  size_t copies = 0;
  std::vector<uint8_t> x_quantized;
};

// One quantized matrix per type is kept (the quantizers are slow); the >= 512 MiB of copies
// exist for one type at a time, since all 15 would not fit in memory.
const Fixture& GetFixture(GgmlType type) {
  static std::map<GgmlType, std::vector<uint8_t>> matrices;
  static Fixture f;
  static std::optional<GgmlType> current;
  if (current == type) return f;
  const size_t row_bytes = gguf::RowBytes(type, kCols);
  std::vector<uint8_t>& matrix = matrices[type];
  std::mt19937 rng(42);
  std::normal_distribution<float> gauss(0.f, 1.f);
  std::vector<float> row(kCols);
  if (matrix.empty()) {
    matrix.resize(row_bytes * kRows);
    for (int64_t r = 0; r < kRows; ++r) {
      for (float& v : row) v = gauss(rng);
      tensor::QuantizeRow(type, row.data(), matrix.data() + r * row_bytes, kCols);
    }
  }
  current = type;
  f.matrix_bytes = matrix.size();
  f.copies = (kMinTotalBytes + f.matrix_bytes - 1) / f.matrix_bytes;
  f.weights.clear();
  f.weights.shrink_to_fit();
  f.weights.resize(f.matrix_bytes * f.copies);
  for (size_t c = 0; c < f.copies; ++c) {
    std::memcpy(f.weights.data() + c * f.matrix_bytes, matrix.data(), f.matrix_bytes);
  }
  for (float& v : row) v = gauss(rng);
  f.x_quantized.resize(ActivationBytes(type, kCols));
  QuantizeActivation(type, row.data(), kCols, f.x_quantized.data());
  return f;
}

void BM_MatVec(benchmark::State& state) {
  const auto type = static_cast<GgmlType>(state.range(0));
  const auto level = static_cast<CpuLevel>(state.range(1));
  const int threads = static_cast<int>(state.range(2));
  if (!HostSupports(level)) {
    state.SkipWithError("CPU level not supported");
    return;
  }
  const Fixture& f = GetFixture(type);
  const QuantDotTable& dots = QuantDotsFor(level);
  ThreadPool pool(threads);
  std::vector<float> y(kRows);
  const size_t row_bytes = gguf::RowBytes(type, kCols);
  size_t copy = 0;
  for (auto _ : state) {
    MatVec(dots, type, f.weights.data() + copy * f.matrix_bytes, row_bytes, f.x_quantized.data(),
           y.data(), kRows, kCols, pool);
    benchmark::DoNotOptimize(y.data());
    copy = (copy + 1) % f.copies;
  }
  const double iterations = static_cast<double>(state.iterations());
  state.counters["GB/s"] =
      benchmark::Counter(iterations * f.matrix_bytes / 1e9, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(iterations * 2.0 * kRows * kCols / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(std::string(gguf::TypeInfo(type).name) + " " + std::string(CpuLevelName(level)) +
                 " " + std::to_string(threads) + "t");
}

// The same product with llama.cpp's row kernel (ggml's vec_dot for this CPU, loaded from the
// reference install) on the same weight bytes, its own activation quantizer, and our thread
// split: the kernel-for-kernel comparison.
void BM_MatVecLlamaCpp(benchmark::State& state) {
  const auto type = static_cast<GgmlType>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  std::string why;
  const testing::LlamaCppKernels* ggml = testing::LlamaCppKernels::Get(&why);
  if (ggml == nullptr) {
    state.SkipWithError(why.c_str());
    return;
  }
  const testing::GgmlTypeTraitsCpu* traits = ggml->Traits(static_cast<int>(type));
  if (traits == nullptr || traits->vec_dot == nullptr) {
    state.SkipWithError("llama.cpp has no vec_dot for this type");
    return;
  }
  const testing::GgmlTypeTraitsCpu* act = ggml->Traits(traits->vec_dot_type);
  const Fixture& f = GetFixture(type);
  std::vector<float> x(kCols);
  std::mt19937 rng(5);
  std::normal_distribution<float> gauss(0.f, 1.f);
  for (float& v : x) v = gauss(rng);
  std::vector<uint8_t> xq(gguf::RowBytes(static_cast<GgmlType>(traits->vec_dot_type), kCols));
  if (act != nullptr && act->from_float != nullptr) {
    act->from_float(x.data(), xq.data(), kCols);
  } else if (traits->vec_dot_type == static_cast<int>(GgmlType::kF32)) {
    std::memcpy(xq.data(), x.data(), xq.size());  // F32 activations need no conversion
  } else {
    state.SkipWithError("llama.cpp has no activation quantizer for this type");
    return;
  }
  ThreadPool pool(threads);
  std::vector<float> y(kRows);
  const size_t row_bytes = gguf::RowBytes(type, kCols);
  size_t copy = 0;
  for (auto _ : state) {
    const uint8_t* w = f.weights.data() + copy * f.matrix_bytes;
    pool.ParallelFor(
        kRows,
        [&](int64_t begin, int64_t end, int) {
          for (int64_t r = begin; r < end; ++r) {
            traits->vec_dot(static_cast<int>(kCols), &y[r], 0, w + r * row_bytes, 0, xq.data(), 0,
                            1);
          }
        },
        16);
    benchmark::DoNotOptimize(y.data());
    copy = (copy + 1) % f.copies;
  }
  const double iterations = static_cast<double>(state.iterations());
  state.counters["GB/s"] =
      benchmark::Counter(iterations * f.matrix_bytes / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(std::string(gguf::TypeInfo(type).name) + " llama.cpp " + std::to_string(threads) +
                 "t");
}

// Registered type by type, ours at every level and thread count and then llama.cpp's, so
// each comparison is measured close together in time on a shared machine. For best-of-N
// figures run with --benchmark_repetitions=N (and --benchmark_enable_random_interleaving=true
// to spread slow periods over all entries); the summary keeps each entry's best run.
[[maybe_unused]] const bool registered = [] {
  for (GgmlType type : kMatVecTypes) {
    benchmark::internal::Benchmark* ours = benchmark::RegisterBenchmark("BM_MatVec", BM_MatVec);
    for (CpuLevel level : kAllCpuLevels) {
      for (int threads : {1, 2}) {
        ours->Args({static_cast<int64_t>(type), static_cast<int64_t>(level), threads});
      }
    }
    ours->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(0.5);
    benchmark::internal::Benchmark* theirs =
        benchmark::RegisterBenchmark("BM_MatVecLlamaCpp", BM_MatVecLlamaCpp);
    for (int threads : {1, 2}) theirs->Args({static_cast<int64_t>(type), threads});
    theirs->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(0.5);
  }
  return true;
}();

// ---- 1-4 tokens: packed panels vs ggml rows vs llama.cpp ----

constexpr size_t kGemvTotalBytes = size_t{256} << 20;  // well past the L3 cache
constexpr int kGemvThreads = 2;
constexpr int kMaxLlamaCopies = 64;  // each holds a ggml backend; 64 x >= 2 MiB is past L3

enum GemvVariant { kGemvPacked = 0, kGemvRows = 1, kGemvLlamaCpp = 2 };

struct GemvFixture {
  GgmlType type = GgmlType::kF32;
  int64_t rows = 0, cols = 0;
  std::vector<uint8_t> matrix;  // [rows, row_bytes]
  std::vector<float> x;         // [4, cols]
  std::vector<uint8_t> copies;  // [n_copies, rows, row_bytes]
  std::vector<PackedWeights> packed;
  std::vector<std::unique_ptr<testing::LlamaCppMatMul>> llama;
  int64_t llama_tokens = 0;
};

// One (type, shape) at a time: the copies of the previous one are dropped first.
GemvFixture& GetGemvFixture(GgmlType type, int64_t rows, int64_t cols) {
  static GemvFixture f;
  if (f.type == type && f.rows == rows && f.cols == cols) return f;
  f = GemvFixture();
  f.type = type;
  f.rows = rows;
  f.cols = cols;
  const size_t row_bytes = gguf::RowBytes(type, cols);
  std::mt19937 rng(7);
  std::normal_distribution<float> gauss(0.f, 1.f);
  std::vector<float> row(cols);  // [cols]
  f.matrix.resize(row_bytes * rows);
  for (int64_t r = 0; r < rows; ++r) {
    for (float& v : row) v = gauss(rng);
    tensor::QuantizeRow(type, row.data(), f.matrix.data() + r * row_bytes, cols);
  }
  f.x.resize(4 * cols);
  for (float& v : f.x) v = gauss(rng);
  return f;
}

void BM_Gemv(benchmark::State& state) {
  const auto type = static_cast<GgmlType>(state.range(0));
  const int64_t rows = state.range(1), cols = state.range(2), n_tokens = state.range(3);
  const auto variant = static_cast<GemvVariant>(state.range(4));
  if (variant == kGemvPacked && !PackingPays(type)) {
    state.SkipWithError("no packed kernel for this type at this CPU level");
    return;
  }
  GemvFixture& f = GetGemvFixture(type, rows, cols);
  const size_t row_bytes = gguf::RowBytes(type, cols);
  const size_t bytes = f.matrix.size();
  size_t n_copies = (kGemvTotalBytes + bytes - 1) / bytes;
  ThreadPool pool(kGemvThreads);
  if (variant == kGemvRows && f.copies.empty()) {
    f.copies.resize(bytes * n_copies);
    for (size_t c = 0; c < n_copies; ++c) {
      std::memcpy(f.copies.data() + c * bytes, f.matrix.data(), bytes);
    }
  } else if (variant == kGemvPacked && f.packed.empty()) {
    for (size_t c = 0; c < n_copies; ++c) {
      f.packed.push_back(Pack(type, f.matrix.data(), row_bytes, rows, cols, &pool));
    }
  } else if (variant == kGemvLlamaCpp && (f.llama.empty() || f.llama_tokens != n_tokens)) {
    f.llama.clear();
    f.llama_tokens = n_tokens;
    n_copies = std::min<size_t>(n_copies, kMaxLlamaCopies);
    for (size_t c = 0; c < n_copies; ++c) {
      std::string why;
      f.llama.push_back(testing::LlamaCppMatMul::Create(static_cast<int>(type), rows, cols,
                                                        n_tokens, false, kGemvThreads,
                                                        f.matrix.data(), &why));
      if (f.llama.back() == nullptr) {
        f.llama.clear();
        state.SkipWithError(why.c_str());
        return;
      }
      f.llama.back()->SetInput(f.x.data());
    }
  }
  std::vector<uint8_t> xq(ActivationBytes(type, cols) * n_tokens);  // [n_tokens, x_row]
  QuantizeActivations(type, f.x.data(), n_tokens, cols, xq.data(), pool);
  std::vector<float> y(rows * n_tokens);  // [n_tokens, rows]
  size_t copy = 0;
  for (auto _ : state) {
    switch (variant) {
      case kGemvPacked:
        MatMul(f.packed[copy], xq.data(), y.data(), n_tokens, pool);
        copy = (copy + 1) % f.packed.size();
        break;
      case kGemvRows:
        MatMul(QuantDots(), type, f.copies.data() + copy * bytes, row_bytes, xq.data(), y.data(),
               rows, cols, n_tokens, pool);
        copy = (copy + 1) % (f.copies.size() / bytes);
        break;
      case kGemvLlamaCpp:  // includes its activation quantization (ours is outside the loop)
        f.llama[copy]->Compute();
        copy = (copy + 1) % f.llama.size();
        break;
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GB/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(bytes) / 1e9,
                         benchmark::Counter::kIsRate);
  static const char* const kNames[] = {"packed", "rows", "llama.cpp"};
  state.SetLabel(std::string(gguf::TypeInfo(type).name) + " " + std::to_string(rows) + "x" +
                 std::to_string(cols) + " " + std::to_string(n_tokens) + "t " + kNames[variant]);
}

// Registered shape by shape with the three variants back to back (run with
// --benchmark_filter=BM_Gemv --benchmark_repetitions=N for medians).
[[maybe_unused]] const bool gemv_registered = [] {
  for (GgmlType type : {GgmlType::kF16, GgmlType::kQ8_0, GgmlType::kQ4_K, GgmlType::kQ6_K,
                        GgmlType::kQ4_0, GgmlType::kQ5_0, GgmlType::kQ4_1, GgmlType::kQ5_1}) {
    for (auto [rows, cols] :
         {std::pair<int64_t, int64_t>{2048, 2048}, {512, 2048}, {8192, 2048}, {2048, 8192}}) {
      benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark("BM_Gemv", BM_Gemv);
      for (int64_t n_tokens : {1, 2, 4}) {
        for (int variant : {kGemvPacked, kGemvRows, kGemvLlamaCpp}) {
          b->Args({static_cast<int64_t>(type), rows, cols, n_tokens, variant});
        }
      }
      b->UseRealTime()->Unit(benchmark::kMicrosecond)->MinTime(0.3);
    }
  }
  return true;
}();

}  // namespace
}  // namespace corral::kernels
