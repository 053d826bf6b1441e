// Quantized matrix-vector products, the token-generation bottleneck: a 2048x8192 weight
// (8192 rows of 2048) per type, level and thread count. The weights are cycled through enough
// copies (>= 512 MiB in all) that every product reads from memory, not from the L3 cache, so
// GB/s reads directly against the machine's memory bandwidth (BM_MemoryRead).
#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <vector>

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

}  // namespace
}  // namespace corral::kernels
