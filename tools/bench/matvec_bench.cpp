// Quantized matrix-vector products, the token-generation bottleneck: a 2048x8192 weight
// (8192 rows of 2048) per type, level and thread count. The weights are cycled through enough
// copies (>= 512 MiB in all) that every product reads from memory, not from the L3 cache, so
// GB/s reads directly against the machine's memory bandwidth (BM_MemoryRead).
#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
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

struct Fixture {
  std::vector<uint8_t> weights;  // [copies, kRows, row_bytes]
  size_t matrix_bytes = 0;
  size_t copies = 0;
  std::vector<uint8_t> x_quantized;
};

const Fixture& GetFixture(GgmlType type) {
  static std::map<GgmlType, Fixture> cache;
  auto it = cache.find(type);
  if (it != cache.end()) return it->second;
  Fixture& f = cache[type];
  size_t row_bytes = gguf::RowBytes(type, kCols);
  f.matrix_bytes = row_bytes * kRows;
  f.copies = (kMinTotalBytes + f.matrix_bytes - 1) / f.matrix_bytes;
  f.weights.resize(f.matrix_bytes * f.copies);
  std::mt19937 rng(42);
  std::normal_distribution<float> gauss(0.f, 1.f);
  std::vector<float> row(kCols);
  for (int64_t r = 0; r < kRows; ++r) {
    for (float& v : row) v = gauss(rng);
    tensor::QuantizeRow(type, row.data(), f.weights.data() + r * row_bytes, kCols);
  }
  for (size_t c = 1; c < f.copies; ++c) {
    std::memcpy(f.weights.data() + c * f.matrix_bytes, f.weights.data(), f.matrix_bytes);
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

void MatVecArgs(benchmark::internal::Benchmark* b) {
  for (GgmlType type : {GgmlType::kQ4_K, GgmlType::kQ6_K, GgmlType::kQ8_0, GgmlType::kQ4_0}) {
    for (CpuLevel level : kAllCpuLevels) {
      for (int threads : {1, 2}) {
        b->Args({static_cast<int64_t>(type), static_cast<int64_t>(level), threads});
      }
    }
  }
}

BENCHMARK(BM_MatVec)->Apply(MatVecArgs)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(0.5);

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
  const testing::GgmlTypeTraitsCpu* act = ggml->Traits(traits->vec_dot_type);
  const Fixture& f = GetFixture(type);
  std::vector<float> x(kCols);
  std::mt19937 rng(5);
  std::normal_distribution<float> gauss(0.f, 1.f);
  for (float& v : x) v = gauss(rng);
  std::vector<uint8_t> xq(gguf::RowBytes(static_cast<GgmlType>(traits->vec_dot_type), kCols));
  act->from_float(x.data(), xq.data(), kCols);
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

void LlamaCppArgs(benchmark::internal::Benchmark* b) {
  for (GgmlType type : {GgmlType::kQ4_K, GgmlType::kQ6_K, GgmlType::kQ8_0, GgmlType::kQ4_0}) {
    for (int threads : {1, 2}) b->Args({static_cast<int64_t>(type), threads});
  }
}

BENCHMARK(BM_MatVecLlamaCpp)
    ->Apply(LlamaCppArgs)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(0.5);

}  // namespace
}  // namespace corral::kernels
