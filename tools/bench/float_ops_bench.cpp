// The KernelTable float ops at every level this CPU runs, in GB/s of logical traffic: each
// input array read once plus each output written once (4 bytes per float), so a two-pass op
// such as rms_norm is charged for one pass. n = 4096 (a hidden row, L1-resident) shows compute
// speed; n = 1 Mi floats (4 MiB per array, beyond L2) shows how close an op gets to memory.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/kernels.h"

namespace corral::kernels {
namespace {

constexpr int64_t kRopeHeadDim = 128;

// n floats at a 64-byte boundary, as the engine allocates its activations.
class AlignedArray {
 public:
  explicit AlignedArray(int64_t n) : storage_(static_cast<size_t>(n) + 16) {
    const uintptr_t address = reinterpret_cast<uintptr_t>(storage_.data());
    data_ = storage_.data() + (64 - address % 64) % 64 / sizeof(float);
  }
  float* data() { return data_; }
  float& operator[](int64_t i) { return data_[i]; }

 private:
  std::vector<float> storage_;
  float* data_;
};

// Three input arrays and one output, filled with values every op accepts.
struct Arrays {
  explicit Arrays(int64_t n)
      : a(n), b(n), c(n), y(n), cos(kRopeHeadDim / 2), sin(kRopeHeadDim / 2) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> dist(-4.0f, 4.0f);
    for (int64_t i = 0; i < n; ++i)
      a[i] = dist(rng), b[i] = dist(rng), c[i] = dist(rng), y[i] = a[i];
    RopeCosSin({.n_rot = kRopeHeadDim}, 17, cos.data(), sin.data());
  }
  AlignedArray a, b, c, y;
  std::vector<float> cos, sin;
};

using OpBody = std::function<void(const KernelTable&, Arrays&, int64_t n)>;

struct Op {
  const char* name;
  int arrays_touched;  // inputs + outputs, for the byte count
  OpBody body;
};

std::vector<Op> Ops() {
  return {
      {"rms_norm", 3,
       [](const KernelTable& t, Arrays& d, int64_t n) {
         t.rms_norm(d.a.data(), d.b.data(), d.y.data(), n, 1e-5f);
       }},
      {"layer_norm", 4,
       [](const KernelTable& t, Arrays& d, int64_t n) {
         t.layer_norm(d.a.data(), d.b.data(), d.c.data(), d.y.data(), n, 1e-5f);
       }},
      // In place on y: softmax of its previous output is the same work and stays finite.
      {"softmax", 2, [](const KernelTable& t, Arrays& d, int64_t n) { t.softmax(d.y.data(), n); }},
      {"rope_norm", 2,
       [](const KernelTable& t, Arrays& d, int64_t n) {
         t.rope_norm(d.y.data(), n / kRopeHeadDim, kRopeHeadDim, kRopeHeadDim, d.cos.data(),
                     d.sin.data());
       }},
      {"rope_neox", 2,
       [](const KernelTable& t, Arrays& d, int64_t n) {
         t.rope_neox(d.y.data(), n / kRopeHeadDim, kRopeHeadDim, kRopeHeadDim, d.cos.data(),
                     d.sin.data());
       }},
      {"exp", 2,
       [](const KernelTable& t, Arrays& d, int64_t n) { t.exp(d.a.data(), d.y.data(), n); }},
      {"silu", 2,
       [](const KernelTable& t, Arrays& d, int64_t n) { t.silu(d.a.data(), d.y.data(), n); }},
      {"gelu", 2,
       [](const KernelTable& t, Arrays& d, int64_t n) { t.gelu(d.a.data(), d.y.data(), n); }},
      {"gelu_erf", 2,
       [](const KernelTable& t, Arrays& d, int64_t n) { t.gelu_erf(d.a.data(), d.y.data(), n); }},
      {"add", 3,
       [](const KernelTable& t, Arrays& d, int64_t n) {
         t.add(d.a.data(), d.b.data(), d.y.data(), n);
       }},
      {"mul", 3,
       [](const KernelTable& t, Arrays& d, int64_t n) {
         t.mul(d.a.data(), d.b.data(), d.y.data(), n);
       }},
      {"scale", 2,
       [](const KernelTable& t, Arrays& d, int64_t n) {
         t.scale(d.a.data(), 0.5f, d.y.data(), n);
       }},
      {"swiglu", 3,
       [](const KernelTable& t, Arrays& d, int64_t n) {
         t.swiglu(d.a.data(), d.b.data(), d.y.data(), n);
       }},
  };
}

void RunOp(benchmark::State& state, CpuLevel level, const Op& op) {
  const KernelTable& table = KernelsFor(level);
  const int64_t n = state.range(0);
  Arrays arrays(n);
  for (auto _ : state) {
    op.body(table, arrays, n);
    benchmark::DoNotOptimize(arrays.y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * n * op.arrays_touched *
                          static_cast<int64_t>(sizeof(float)));
}

// Registers BM_<op>/<level>/<n> for every level this CPU can run.
const bool kRegistered = [] {
  for (CpuLevel level : kAllCpuLevels) {
    if (!HostSupports(level)) continue;
    for (const Op& op : Ops()) {
      const std::string name =
          std::string("BM_") + op.name + "/" + std::string(CpuLevelName(level));
      benchmark::RegisterBenchmark(
          name.c_str(), [level, op](benchmark::State& state) { RunOp(state, level, op); })
          ->Arg(4096)
          ->Arg(1 << 20);
    }
  }
  return true;
}();

}  // namespace
}  // namespace corral::kernels
