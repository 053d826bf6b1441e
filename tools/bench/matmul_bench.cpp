// Batched products (prompt processing): a 4096x4096 weight times 64 tokens, per type, ours and
// llama.cpp's row kernel (ggml vec_dot) in the same tiled loop, 2 threads. This measures the
// kernels when compute, not memory, is the limit; GFLOP/s counts 2·rows·cols·tokens.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "kernels/matmul.h"
#include "tensor/quantize.h"
#include "testing/llamacpp_ggml.h"

namespace corral::kernels {
namespace {

using gguf::GgmlType;

constexpr int64_t kCols = 4096, kRows = 4096, kTokens = 64;

struct Problem {
  std::vector<uint8_t> weights;
  std::vector<float> x;
};

const Problem& GetProblem(GgmlType type) {
  static std::map<GgmlType, Problem> cache;
  if (auto it = cache.find(type); it != cache.end()) return it->second;
  Problem& p = cache[type];
  std::mt19937 rng(9);
  std::normal_distribution<float> gauss(0.f, 1.f);
  size_t row_bytes = gguf::RowBytes(type, kCols);
  p.weights.resize(row_bytes * kRows);
  std::vector<float> row(kCols);
  for (int64_t r = 0; r < kRows; ++r) {
    for (float& v : row) v = gauss(rng);
    tensor::QuantizeRow(type, row.data(), p.weights.data() + r * row_bytes, kCols);
  }
  p.x.resize(kTokens * kCols);
  for (float& v : p.x) v = gauss(rng);
  return p;
}

void Report(benchmark::State& state, const std::string& label) {
  state.counters["GFLOP/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * 2.0 * kRows * kCols * kTokens / 1e9,
      benchmark::Counter::kIsRate);
  state.SetLabel(label);
}

void BM_MatMul(benchmark::State& state) {
  const auto type = static_cast<GgmlType>(state.range(0));
  const Problem& p = GetProblem(type);
  ThreadPool pool(2);
  std::vector<uint8_t> xq(ActivationBytes(type, kCols) * kTokens);
  std::vector<float> y(kRows * kTokens);
  for (auto _ : state) {
    QuantizeActivations(type, p.x.data(), kTokens, kCols, xq.data(), pool);
    MatMul(QuantDots(), type, p.weights.data(), gguf::RowBytes(type, kCols), xq.data(), y.data(),
           kRows, kCols, kTokens, pool);
    benchmark::DoNotOptimize(y.data());
  }
  Report(state, std::string(gguf::TypeInfo(type).name) + " corral matmul");
}

void BM_MatMulLlamaCpp(benchmark::State& state) {
  const auto type = static_cast<GgmlType>(state.range(0));
  std::string why;
  const testing::LlamaCppKernels* ggml = testing::LlamaCppKernels::Get(&why);
  if (ggml == nullptr) {
    state.SkipWithError(why.c_str());
    return;
  }
  const testing::GgmlTypeTraitsCpu* traits = ggml->Traits(static_cast<int>(type));
  const testing::GgmlTypeTraitsCpu* act = ggml->Traits(traits->vec_dot_type);
  const Problem& p = GetProblem(type);
  ThreadPool pool(2);
  const size_t x_row = gguf::RowBytes(static_cast<GgmlType>(traits->vec_dot_type), kCols);
  const size_t row_bytes = gguf::RowBytes(type, kCols);
  std::vector<uint8_t> xq(x_row * kTokens);
  std::vector<float> y(kRows * kTokens);
  for (auto _ : state) {
    pool.ParallelFor(kTokens, [&](int64_t b, int64_t e, int) {
      for (int64_t t = b; t < e; ++t)
        act->from_float(p.x.data() + t * kCols, xq.data() + t * x_row, kCols);
    });
    pool.ParallelFor(
        kRows,
        [&](int64_t begin, int64_t end, int) {
          for (int64_t r0 = begin; r0 < end; r0 += 16) {
            for (int64_t t0 = 0; t0 < kTokens; t0 += 32) {
              for (int64_t r = r0; r < std::min(end, r0 + 16); ++r) {
                for (int64_t t = t0; t < std::min(kTokens, t0 + 32); ++t) {
                  traits->vec_dot(static_cast<int>(kCols), &y[t * kRows + r], 0,
                                  p.weights.data() + r * row_bytes, 0, xq.data() + t * x_row, 0, 1);
                }
              }
            }
          }
        },
        16);
    benchmark::DoNotOptimize(y.data());
  }
  Report(state, std::string(gguf::TypeInfo(type).name) + " llama.cpp matmul");
}

void Types(benchmark::internal::Benchmark* b) {
  for (GgmlType type : {GgmlType::kQ4_K, GgmlType::kQ6_K, GgmlType::kQ8_0, GgmlType::kQ4_0}) {
    b->Arg(static_cast<int64_t>(type));
  }
}

BENCHMARK(BM_MatMul)->Apply(Types)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MatMulLlamaCpp)->Apply(Types)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace corral::kernels
