// The scalar reference of every KernelTable entry: plain C++, no intrinsics, always compiled.
// It follows llama.cpp's order of operations (sums of squares in double, x·scale before the
// weight) and computes the GELUs in double, where the float formulas lose digits to
// cancellation, so the SIMD levels are checked against the better answer.
#include <cmath>
#include <cstdint>

#include "kernels/float_ops_tables.h"
#include "tensor/fp16.h"

namespace corral::kernels {
namespace {

void RmsNorm(const float* x, const float* weight, float* y, int64_t n, float eps) {
  if (n <= 0) return;
  double sum_squares = 0.0;
  for (int64_t i = 0; i < n; ++i) sum_squares += static_cast<double>(x[i]) * x[i];
  const float mean = static_cast<float>(sum_squares / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (int64_t i = 0; i < n; ++i) {
    const float scaled = x[i] * scale;
    y[i] = weight != nullptr ? scaled * weight[i] : scaled;
  }
}

void LayerNorm(const float* x, const float* weight, const float* bias, float* y, int64_t n,
               float eps) {
  if (n <= 0) return;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  double sum_squares = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const float centered = x[i] - mean;
    sum_squares += static_cast<double>(centered) * centered;
  }
  const float variance = static_cast<float>(sum_squares / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(variance + eps);
  for (int64_t i = 0; i < n; ++i) {
    float v = (x[i] - mean) * scale;
    if (weight != nullptr) v *= weight[i];
    if (bias != nullptr) v += bias[i];
    y[i] = v;
  }
}

void Softmax(float* x, int64_t n) {
  if (n <= 0) return;
  float max = -INFINITY;
  for (int64_t i = 0; i < n; ++i) max = std::fmax(max, x[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inverse = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inverse;
}

void RotatePair(float& x0, float& x1, float cos, float sin) {
  const float a = x0, b = x1;
  x0 = a * cos - b * sin;
  x1 = a * sin + b * cos;
}

void RopeNorm(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* cos,
              const float* sin) {
  for (int64_t h = 0; h < n_heads; ++h) {
    float* head = x + h * head_dim;
    for (int64_t i = 0; i < n_rot / 2; ++i)
      RotatePair(head[2 * i], head[2 * i + 1], cos[i], sin[i]);
  }
}

void RopeNeox(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* cos,
              const float* sin) {
  const int64_t half = n_rot / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* head = x + h * head_dim;
    for (int64_t i = 0; i < half; ++i) RotatePair(head[i], head[i + half], cos[i], sin[i]);
  }
}

void Exp(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}

float SiluOne(float x) { return x / (1.0f + std::exp(-x)); }

void Silu(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = SiluOne(x[i]);
}

void Gelu(const float* x, float* y, int64_t n) {
  const double sqrt_2_over_pi = 0.79788456080286535588;
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    y[i] = static_cast<float>(0.5 * v *
                              (1.0 + std::tanh(sqrt_2_over_pi * v * (1.0 + 0.044715 * v * v))));
  }
}

void GeluErf(const float* x, float* y, int64_t n) {
  const double inv_sqrt_2 = 0.70710678118654752440;
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    // erfc keeps full precision in the negative tail, where 1 + erf(v) cancels.
    y[i] = static_cast<float>(0.5 * v * std::erfc(-v * inv_sqrt_2));
  }
}

void Add(const float* a, const float* b, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

void Mul(const float* a, const float* b, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
}

void Scale(const float* x, float s, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * s;
}

void Swiglu(const float* gate, const float* up, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = SiluOne(gate[i]) * up[i];
}

void Axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void AxpyF16(float a, const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * tensor::Fp16ToFp32(x[i]);
}

}  // namespace

constinit const KernelTable kScalarFloatOps = {
    .level = CpuLevel::kScalar,
    .rms_norm = RmsNorm,
    .layer_norm = LayerNorm,
    .softmax = Softmax,
    .rope_norm = RopeNorm,
    .rope_neox = RopeNeox,
    .exp = Exp,
    .silu = Silu,
    .gelu = Gelu,
    .gelu_erf = GeluErf,
    .add = Add,
    .mul = Mul,
    .scale = Scale,
    .axpy = Axpy,
    .axpy_f16 = AxpyF16,
    .swiglu = Swiglu,
};

void RopeCosSin(const RopeParams& params, int64_t position, float* cos, float* sin) {
  for (int64_t i = 0; i < params.n_rot / 2; ++i) {
    double theta = static_cast<double>(position) * params.freq_scale *
                   std::pow(static_cast<double>(params.freq_base),
                            -2.0 * static_cast<double>(i) / static_cast<double>(params.n_rot));
    if (params.freq_factors != nullptr) theta /= params.freq_factors[i];
    cos[i] = static_cast<float>(std::cos(theta) * params.attn_factor);
    sin[i] = static_cast<float>(std::sin(theta) * params.attn_factor);
  }
}

}  // namespace corral::kernels
