// Batched products (prompt processing, ubatch of 512 tokens) on Llama-3.2-1B shapes: weights of
// 2048x2048 and 8192x2048 (rows x cols), per type, 2 threads, each timed with its activation
// quantization:
//   corral matmul  - MatMul on the ggml rows (per-row vec_dot kernels in tiles)
//   corral packed  - MatMul on PackedWeights (16-row panels, gemm.h)
//   llama.cpp      - ggml_mul_mat through llama.cpp's CPU backend graph (tinyBLAS included)
//   llama.cpp repack - the same with the weight in the CPU_REPACK buffer (Q4_0/Q4_K only)
// GFLOP/s counts 2·rows·cols·tokens. Compare within one run (the machine is shared: use
// --benchmark_repetitions=N and medians). BM_OneToken* check that one token through the packed
// layout reads weights as fast as MatVec (GB/s), so an engine may keep only the packed copy.
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
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

constexpr int64_t kCols = 2048, kTokens = 512;
constexpr int kThreads = 2;

struct Problem {
  std::vector<uint8_t> weights;  // [rows, row_bytes]
  std::vector<float> x;          // [kTokens, kCols]
};

const Problem& GetProblem(GgmlType type, int64_t rows) {
  static std::map<std::pair<GgmlType, int64_t>, Problem> cache;
  if (auto it = cache.find({type, rows}); it != cache.end()) return it->second;
  Problem& p = cache[{type, rows}];
  std::mt19937 rng(9);
  std::normal_distribution<float> gauss(0.f, 1.f);
  const size_t row_bytes = gguf::RowBytes(type, kCols);
  p.weights.resize(row_bytes * rows);
  std::vector<float> row(kCols);  // [kCols]
  for (int64_t r = 0; r < rows; ++r) {
    for (float& v : row) v = gauss(rng);
    tensor::QuantizeRow(type, row.data(), p.weights.data() + r * row_bytes, kCols);
  }
  p.x.resize(kTokens * kCols);
  for (float& v : p.x) v = gauss(rng);
  return p;
}

void Report(benchmark::State& state, int64_t rows, const std::string& what) {
  const auto type = static_cast<GgmlType>(state.range(0));
  state.counters["GFLOP/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * 2.0 * rows * kCols * kTokens / 1e9,
      benchmark::Counter::kIsRate);
  state.SetLabel(std::string(gguf::TypeInfo(type).name) + " " + std::to_string(rows) + "x" +
                 std::to_string(kCols) + " " + what);
}

void BM_MatMul(benchmark::State& state) {
  const auto type = static_cast<GgmlType>(state.range(0));
  const int64_t rows = state.range(1);
  const Problem& p = GetProblem(type, rows);
  ThreadPool pool(kThreads);
  std::vector<uint8_t> xq(ActivationBytes(type, kCols) * kTokens);  // [kTokens, x_row]
  std::vector<float> y(rows * kTokens);                             // [kTokens, rows]
  for (auto _ : state) {
    QuantizeActivations(type, p.x.data(), kTokens, kCols, xq.data(), pool);
    MatMul(QuantDots(), type, p.weights.data(), gguf::RowBytes(type, kCols), xq.data(), y.data(),
           rows, kCols, kTokens, pool);
    benchmark::DoNotOptimize(y.data());
  }
  Report(state, rows, "corral matmul");
}

void BM_MatMulPacked(benchmark::State& state) {
  const auto type = static_cast<GgmlType>(state.range(0));
  const int64_t rows = state.range(1);
  if (!PackingPays(type)) {
    state.SkipWithError("no packed kernel for this type at this CPU level");
    return;
  }
  const Problem& p = GetProblem(type, rows);
  ThreadPool pool(kThreads);
  const PackedWeights packed =
      Pack(type, p.weights.data(), gguf::RowBytes(type, kCols), rows, kCols, &pool);
  std::vector<uint8_t> xq(ActivationBytes(type, kCols) * kTokens);  // [kTokens, x_row]
  std::vector<float> y(rows * kTokens);                             // [kTokens, rows]
  for (auto _ : state) {
    QuantizeActivations(type, p.x.data(), kTokens, kCols, xq.data(), pool);
    MatMul(packed, xq.data(), y.data(), kTokens, pool);
    benchmark::DoNotOptimize(y.data());
  }
  Report(state, rows, "corral packed");
}

// One token (decode) through the packed layout against MatVec on the ggml rows: whether an
// engine that keeps only the packed copy loses token-generation speed. GB/s of weights read.
void RunOneToken(benchmark::State& state, bool packed_layout) {
  const auto type = static_cast<GgmlType>(state.range(0));
  const int64_t rows = state.range(1);
  if (packed_layout && !PackingPays(type)) {
    state.SkipWithError("no packed kernel for this type at this CPU level");
    return;
  }
  const Problem& p = GetProblem(type, rows);
  ThreadPool pool(kThreads);
  const size_t row_bytes = gguf::RowBytes(type, kCols);
  PackedWeights packed;
  if (packed_layout) packed = Pack(type, p.weights.data(), row_bytes, rows, kCols, &pool);
  std::vector<uint8_t> xq(ActivationBytes(type, kCols));  // [x_row]
  QuantizeActivation(type, p.x.data(), kCols, xq.data());
  std::vector<float> y(rows);  // [rows]
  for (auto _ : state) {
    if (packed_layout) {
      MatMul(packed, xq.data(), y.data(), 1, pool);
    } else {
      MatVec(QuantDots(), type, p.weights.data(), row_bytes, xq.data(), y.data(), rows, kCols,
             pool);
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GB/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(p.weights.size()) / 1e9,
      benchmark::Counter::kIsRate);
  state.SetLabel(std::string(gguf::TypeInfo(type).name) + " " + std::to_string(rows) + "x" +
                 std::to_string(kCols) + (packed_layout ? " packed 1 token" : " matvec 1 token"));
}

void BM_OneTokenPacked(benchmark::State& state) { RunOneToken(state, true); }
void BM_OneTokenMatVec(benchmark::State& state) { RunOneToken(state, false); }

void RunLlamaCpp(benchmark::State& state, bool repack) {
  const auto type = static_cast<GgmlType>(state.range(0));
  const int64_t rows = state.range(1);
  const Problem& p = GetProblem(type, rows);
  std::string why;
  std::unique_ptr<testing::LlamaCppMatMul> ggml = testing::LlamaCppMatMul::Create(
      static_cast<int>(type), rows, kCols, kTokens, repack, kThreads, p.weights.data(), &why);
  if (ggml == nullptr) {
    state.SkipWithError(why.c_str());
    return;
  }
  ggml->SetInput(p.x.data());
  for (auto _ : state) ggml->Compute();
  Report(state, rows, repack ? "llama.cpp repack" : "llama.cpp");
}

void BM_MatMulLlamaCpp(benchmark::State& state) { RunLlamaCpp(state, false); }
void BM_MatMulLlamaCppRepack(benchmark::State& state) { RunLlamaCpp(state, true); }

// Registered shape by shape, so ours and llama.cpp's run back to back on the same weights
// (the machine's speed drifts with its neighbours over a whole run).
const bool kRegistered = [] {
  for (GgmlType type : {GgmlType::kQ4_K, GgmlType::kQ6_K, GgmlType::kQ8_0, GgmlType::kF16,
                        GgmlType::kQ4_0, GgmlType::kQ5_0, GgmlType::kQ4_1, GgmlType::kQ5_1}) {
    for (int64_t rows : {2048, 8192}) {
      const std::string shape = "/" + std::string(gguf::TypeInfo(type).name) + "/" +
                                std::to_string(rows) + "x" + std::to_string(kCols);
      const std::pair<const char*, void (*)(benchmark::State&)> batched[] = {
          {"BM_MatMul", BM_MatMul},
          {"BM_MatMulPacked", BM_MatMulPacked},
          {"BM_MatMulLlamaCpp", BM_MatMulLlamaCpp},
          {"BM_MatMulLlamaCppRepack", BM_MatMulLlamaCppRepack}};
      for (auto [name, fn] : batched) {
        benchmark::RegisterBenchmark((name + shape).c_str(), fn)
            ->Args({static_cast<int64_t>(type), rows})
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
      const std::pair<const char*, void (*)(benchmark::State&)> one_token[] = {
          {"BM_OneTokenMatVec", BM_OneTokenMatVec}, {"BM_OneTokenPacked", BM_OneTokenPacked}};
      for (auto [name, fn] : one_token) {
        benchmark::RegisterBenchmark((name + shape).c_str(), fn)
            ->Args({static_cast<int64_t>(type), rows})
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  return true;
}();

}  // namespace
}  // namespace corral::kernels
