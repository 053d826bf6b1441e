// The float helpers of the forward pass, as a table of function pointers with one
// implementation per CPU level: a plain C++ reference (reference/float_ops.cpp) and AVX2 /
// AVX-512 versions (x86/). Kernels() picks the best table for this machine once; callers hold
// the reference and call through it, so no ISA branch sits inside an inner loop.
//
// Conventions for every entry: n may be 0 (nothing happens); pointers need no alignment (but
// 64-byte-aligned buffers run up to 2x faster at AVX-512 on cache-resident rows: an unaligned
// zmm access always splits a cache line); an output may alias an input exactly (in place), but
// not partially overlap it. No entry
// allocates or keeps state, so all are safe to call from many threads at once.
#pragma once

#include <cstdint>

#include "kernels/cpu_features.h"

namespace corral::kernels {

struct KernelTable {
  CpuLevel level;

  // y = x / sqrt(mean(x²) + eps) * weight; weight == nullptr means no weight.
  void (*rms_norm)(const float* x,       // [n]
                   const float* weight,  // [n] or nullptr
                   float* y,             // [n]
                   int64_t n, float eps);

  // y = (x - mean) / sqrt(var + eps) * weight + bias (biased variance); weight and bias may
  // each be nullptr (1 and 0).
  void (*layer_norm)(const float* x,       // [n]
                     const float* weight,  // [n] or nullptr
                     const float* bias,    // [n] or nullptr
                     float* y,             // [n]
                     int64_t n, float eps);

  // In place: x = exp(x - max(x)) / sum(exp(x - max(x))). Needs at least one finite value
  // (a row of -inf is a fully masked row, which callers must not produce).
  void (*softmax)(float* x,  // [n]
                  int64_t n);

  // RoPE over n_heads heads of head_dim floats each; the first n_rot dims of each head are
  // rotated, the rest untouched. Pair i (0 <= i < n_rot/2) is rotated by the angle whose cosine
  // and sine are cos[i], sin[i] (from RopeCosSin). n_rot must be even and <= head_dim.
  //   rope_norm ("normal", GPT-J): pairs (x[2i], x[2i+1]).
  //   rope_neox (GPT-NeoX):         pairs (x[i], x[i + n_rot/2]).
  // x0' = x0·cos − x1·sin, x1' = x0·sin + x1·cos.
  void (*rope_norm)(float* x,  // [n_heads, head_dim]
                    int64_t n_heads, int64_t head_dim, int64_t n_rot,
                    const float* cos,   // [n_rot / 2]
                    const float* sin);  // [n_rot / 2]
  void (*rope_neox)(float* x,           // [n_heads, head_dim]
                    int64_t n_heads, int64_t head_dim, int64_t n_rot,
                    const float* cos,   // [n_rot / 2]
                    const float* sin);  // [n_rot / 2]

  // y = exp(x). SIMD levels: relative error below 4e-7 (measured 1.2e-7) for normal results;
  // overflow gives +inf, results below FLT_MIN lose precision gradually and reach 0.
  void (*exp)(const float* x,  // [n]
              float* y,        // [n]
              int64_t n);

  // y = x / (1 + exp(-x)).
  void (*silu)(const float* x,  // [n]
               float* y,        // [n]
               int64_t n);

  // y = 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))), the tanh approximation llama.cpp
  // uses (it reads it from an fp16 table by default; we compute it).
  void (*gelu)(const float* x,  // [n]
               float* y,        // [n]
               int64_t n);

  // y = 0.5·x·(1 + erf(x / sqrt(2))). SIMD levels: absolute error below 2e-7·(1 + |x|).
  void (*gelu_erf)(const float* x,  // [n]
                   float* y,        // [n]
                   int64_t n);

  // y = a + b, y = a · b, y = x · s: exact IEEE results at every level.
  void (*add)(const float* a,  // [n]
              const float* b,  // [n]
              float* y,        // [n]
              int64_t n);
  void (*mul)(const float* a,  // [n]
              const float* b,  // [n]
              float* y,        // [n]
              int64_t n);
  void (*scale)(const float* x,  // [n]
                float s,
                float* y,  // [n]
                int64_t n);

  // y += a · x, with x in F32 or F16 (the attention's V rows in the KV cache). Each element is
  // one fused multiply-add at the SIMD levels and a multiply then an add in the reference, so
  // they may differ by one rounding per element.
  void (*axpy)(float a,
               const float* x,  // [n]
               float* y,        // [n]
               int64_t n);
  void (*axpy_f16)(float a,
                   const uint16_t* x,  // [n] IEEE half
                   float* y,           // [n]
                   int64_t n);

  // y = silu(gate) · up (SwiGLU).
  void (*swiglu)(const float* gate,  // [n]
                 const float* up,    // [n]
                 float* y,           // [n]
                 int64_t n);
};

// The table for the selected level (SelectedCpuLevel()), chosen on the first call, which logs
// the choice. Thread-safe.
const KernelTable& Kernels();

// The table of one level, for tests and benchmarks. CHECK-fails if this CPU cannot run it.
const KernelTable& KernelsFor(CpuLevel level);

// How RoPE angles are formed: θ_i = position · freq_scale · freq_base^(−2i/n_rot) / ff[i],
// with ff = freq_factors (nullptr: all 1), and cos/sin multiplied by attn_factor (YaRN-style
// magnitude scaling; 1 otherwise).
struct RopeParams {
  int64_t n_rot = 0;
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;
  float attn_factor = 1.0f;
  const float* freq_factors = nullptr;  // [n_rot / 2] or nullptr
};

enum class RopeMode { kNorm, kNeox };

// Fills the per-pair cosines and sines for one position, computed in double and rounded once.
// Compute them once per token and share them across heads and layers.
void RopeCosSin(const RopeParams& params, int64_t position,
                float* cos,   // [n_rot / 2]
                float* sin);  // [n_rot / 2]

// The largest n_rot ApplyRope accepts (its angle tables live on the stack).
inline constexpr int64_t kMaxRopeDims = 1024;

// Convenience for one-off rotations: RopeCosSin for `position`, then the table's rope entry.
void ApplyRope(const KernelTable& table, RopeMode mode, const RopeParams& params, int64_t position,
               float* x,  // [n_heads, head_dim]
               int64_t n_heads, int64_t head_dim);

}  // namespace corral::kernels
