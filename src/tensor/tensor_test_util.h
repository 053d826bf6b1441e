// Helpers shared by the tensor tests.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gguf/ggml_type.h"

namespace corral::tensor::testing {

// n samples of N(0, sigma^2) from a fixed seed.
inline std::vector<float> Gaussian(int64_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = dist(rng);
  return x;
}

// A row of n (a multiple of 256) floats that is the same on every platform (integer hashing
// and exact float arithmetic only; no <random> distributions or libm): per super-block of 256,
// a different regime so the quantizers' corner cases are exercised:
//   0-3: near-Gaussian (sum of three uniforms) with scales 1, 0.01, 30, 1e-3
//   4: near-Gaussian with every 37th value 20x (outliers)   5: all positive
//   6: first 32 values zero, the rest tiny (1e-4)             7: integers -4..4
// then the pattern repeats.
inline std::vector<float> PortableTestRow(int64_t n, uint64_t seed) {
  uint64_t state = seed;
  auto uniform = [&state]() {  // splitmix64 -> [0, 1) with 24 bits
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<float>(z >> 40) * 0x1p-24f;
  };
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const float g = uniform() + uniform() + uniform() - 1.5f;
    const int64_t regime = (i / 256) % 8, k = i % 256;
    float v = g;
    switch (regime) {
      case 1:
        v = g * 0.01f;
        break;
      case 2:
        v = g * 30.0f;
        break;
      case 3:
        v = g * 1e-3f;
        break;
      case 4:
        v = k % 37 == 0 ? g * 20.0f : g;
        break;
      case 5:
        v = g + 1.5f;
        break;
      case 6:
        v = k < 32 ? 0.0f : g * 1e-4f;
        break;
      case 7:
        v = static_cast<float>(static_cast<int>(uniform() * 9.0f) - 4);
        break;
      default:
        break;
    }
    x[static_cast<size_t>(i)] = v;
  }
  return x;
}

// FNV-1a over bytes.
inline uint64_t Fnv1a(const void* data, size_t size) {
  uint64_t h = 0xcbf29ce484222325ull;
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

inline double Rmse(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    sum += d * d;
  }
  return std::sqrt(sum / static_cast<double>(a.size()));
}

// Bytes a row of n elements of `type` takes.
inline size_t RowBytes(gguf::GgmlType type, int64_t n) {
  return static_cast<size_t>(gguf::RowBytes(type, static_cast<uint64_t>(n)));
}

}  // namespace corral::tensor::testing
