// Every KernelTable entry of every level the CPU has, against the scalar reference (over all
// sizes around the vector widths, with unaligned buffers and guard zones that must stay
// untouched) and against hand-computed values.
//
// Tolerances, per element: |got − want| <= atol + rtol·|want|, want from the reference:
//   add, mul, scale                exact (the same IEEE operations)
//   exp                            rtol 4e-7 (about 3 ulp), normal results
//   silu, swiglu, gelu             rtol 2e-6, atol 1e-7·(1 + |x|) for tanh-GELU's tiny tail
//   gelu_erf                       atol 2e-7·(1 + |x|), rtol 1e-6 (A&S erfc, abs. error 1.5e-7)
//   rms_norm, layer_norm, softmax  rtol 1e-5 (float sums vs the reference's double sums)
//   rope                           atol 1e-6 (FMA vs separate multiply and subtract)
#include "kernels/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "base/log.h"
#include "kernels/cpu_features.h"
#include "tensor/fp16.h"

namespace corral::kernels {
namespace {

struct Tolerance {
  double rtol = 0.0;
  double atol = 0.0;
  double atol_per_abs_x = 0.0;  // extra absolute slack proportional to |input|
};

constexpr float kSentinel = -12345.678f;
constexpr int64_t kGuard = 20;  // floats of guard zone after each buffer (> one zmm tail)

// Sizes 0 .. 2·16+3 cover empty, partial, one, and two vectors plus tails at both widths;
// the large odd ones exercise the unrolled loops.
std::vector<int64_t> TestSizes() {
  std::vector<int64_t> sizes;
  for (int64_t n = 0; n <= 2 * 16 + 3; ++n) sizes.push_back(n);
  for (int64_t n : {63, 64, 65, 127, 255, 1001, 4099, 32003}) sizes.push_back(n);
  return sizes;
}

// n floats starting one float past a 64-byte boundary (so never vector-aligned), with a
// sentinel-filled guard float before and kGuard after.
class Buffer {
 public:
  explicit Buffer(int64_t n) : n_(n), storage_(static_cast<size_t>(n + kGuard + 16), kSentinel) {
    const uintptr_t address = reinterpret_cast<uintptr_t>(storage_.data());
    const int64_t to_boundary = static_cast<int64_t>((64 - address % 64) % 64) / 4;
    data_ = storage_.data() + to_boundary + 1;
  }
  Buffer(const Buffer& other) : Buffer(other.n_) {
    for (int64_t i = 0; i < n_; ++i) data_[i] = other.data_[i];
  }
  Buffer& operator=(const Buffer&) = delete;

  float* data() { return data_; }
  const float* data() const { return data_; }
  float& operator[](int64_t i) { return data_[i]; }
  float operator[](int64_t i) const { return data_[i]; }
  int64_t size() const { return n_; }

  void FillUniform(std::mt19937& rng, float lo, float hi) {
    std::uniform_real_distribution<float> dist(lo, hi);
    for (int64_t i = 0; i < n_; ++i) data_[i] = dist(rng);
  }
  // True when nothing was written before or after the n floats.
  bool GuardsIntact() const {
    if (data_[-1] != kSentinel) return false;
    for (int64_t i = n_; i < n_ + kGuard; ++i) {
      if (data_[i] != kSentinel) return false;
    }
    return true;
  }

 private:
  int64_t n_;
  std::vector<float> storage_;
  float* data_;
};

// Compares element by element; `input` (may be null) scales atol_per_abs_x.
void ExpectClose(const Buffer& got, const Buffer& want, const Tolerance& tol,
                 const std::string& what, const Buffer* input = nullptr) {
  ASSERT_TRUE(got.GuardsIntact()) << what << ": wrote outside its " << got.size() << " floats";
  for (int64_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    if (std::isnan(w)) {
      ASSERT_TRUE(std::isnan(g)) << what << " [" << i << "]";
      continue;
    }
    if (g == w) continue;  // also equal infinities
    const double x = input != nullptr ? std::fabs((*input)[i]) : 0.0;
    const double allowed = tol.atol + tol.atol_per_abs_x * x + tol.rtol * std::fabs(w);
    ASSERT_LE(std::fabs(g - w), allowed)
        << what << " n=" << got.size() << " [" << i << "]: got " << g << " want " << w
        << (input != nullptr ? " x=" + std::to_string((*input)[i]) : std::string());
  }
}

class LevelTest : public ::testing::TestWithParam<CpuLevel> {
 protected:
  void SetUp() override {
    if (!HostSupports(GetParam())) {
      GTEST_SKIP() << "this CPU cannot run " << CpuLevelName(GetParam()) << " ("
                   << CpuFeaturesString(HostCpuFeatures()) << ")";
    }
  }
  const KernelTable& Table() const { return KernelsFor(GetParam()); }
  static const KernelTable& Reference() { return KernelsFor(CpuLevel::kScalar); }
  std::string Name(const char* op, int64_t n) const {
    return std::string(CpuLevelName(GetParam())) + " " + op + " n=" + std::to_string(n);
  }
};

using UnaryFn = void (*)(const float*, float*, int64_t);

void CheckUnary(UnaryFn fn, UnaryFn reference, float lo, float hi, const Tolerance& tol,
                const std::string& what) {
  std::mt19937 rng(42);
  for (int64_t n : TestSizes()) {
    Buffer x(n), got(n), want(n);
    x.FillUniform(rng, lo, hi);
    fn(x.data(), got.data(), n);
    reference(x.data(), want.data(), n);
    ExpectClose(got, want, tol, what + " n=" + std::to_string(n), &x);
    ASSERT_TRUE(x.GuardsIntact());
    Buffer in_place(x);
    fn(in_place.data(), in_place.data(), n);
    ExpectClose(in_place, got, {}, what + " in place n=" + std::to_string(n));
  }
}

TEST_P(LevelTest, ExpMatchesReference) {
  CheckUnary(Table().exp, Reference().exp, -87.0f, 88.0f, {.rtol = 4e-7}, "exp");
}

TEST_P(LevelTest, ExpIsAccurateOverTheWholeNormalRange) {
  // A dense sweep against double-precision exp, the accuracy kernels.h promises.
  const int64_t n = 200001;
  Buffer x(n), y(n);
  for (int64_t i = 0; i < n; ++i) x[i] = -87.0f + 175.0f * static_cast<float>(i) / (n - 1);
  Table().exp(x.data(), y.data(), n);
  double worst = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double want = std::exp(static_cast<double>(x[i]));
    worst = std::max(worst, std::fabs(y[i] - want) / want);
  }
  EXPECT_LT(worst, 4e-7);
}

TEST_P(LevelTest, ExpEdgeValues) {
  const float inputs[] = {0.0f,  -0.0f,   1.0f,    -INFINITY, INFINITY, 100.0f,
                          89.0f, -200.0f, -105.0f, NAN,       88.7f,    -87.3f};
  const int64_t n = std::size(inputs);
  Buffer x(n), y(n);
  for (int64_t i = 0; i < n; ++i) x[i] = inputs[i];
  Table().exp(x.data(), y.data(), n);
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], 1.0f);
  EXPECT_NEAR(y[2], 2.718281828f, 3e-7);
  EXPECT_EQ(y[3], 0.0f);
  EXPECT_EQ(y[4], INFINITY);
  EXPECT_EQ(y[5], INFINITY);
  EXPECT_EQ(y[6], INFINITY);
  EXPECT_EQ(y[7], 0.0f);
  EXPECT_LT(y[8], 1e-45f);
  EXPECT_TRUE(std::isnan(y[9]));
  EXPECT_NEAR(y[10] / std::exp(static_cast<double>(88.7f)), 1.0, 4e-7);
  EXPECT_NEAR(y[11] / std::exp(static_cast<double>(-87.3f)), 1.0, 4e-7);
}

TEST_P(LevelTest, SiluMatchesReference) {
  CheckUnary(Table().silu, Reference().silu, -30.0f, 30.0f, {.rtol = 2e-6, .atol = 1e-30}, "silu");
}

TEST_P(LevelTest, GeluMatchesReference) {
  CheckUnary(Table().gelu, Reference().gelu, -10.0f, 10.0f,
             {.rtol = 2e-6, .atol = 1e-7, .atol_per_abs_x = 1e-7}, "gelu");
}

TEST_P(LevelTest, GeluErfMatchesReference) {
  CheckUnary(Table().gelu_erf, Reference().gelu_erf, -10.0f, 10.0f,
             {.rtol = 1e-6, .atol = 2e-7, .atol_per_abs_x = 2e-7}, "gelu_erf");
}

using BinaryFn = void (*)(const float*, const float*, float*, int64_t);

void CheckBinary(BinaryFn fn, BinaryFn reference, const Tolerance& tol, const std::string& what) {
  std::mt19937 rng(7);
  for (int64_t n : TestSizes()) {
    Buffer a(n), b(n), got(n), want(n);
    a.FillUniform(rng, -20.0f, 20.0f);
    b.FillUniform(rng, -3.0f, 3.0f);
    fn(a.data(), b.data(), got.data(), n);
    reference(a.data(), b.data(), want.data(), n);
    ExpectClose(got, want, tol, what + " n=" + std::to_string(n));
    ASSERT_TRUE(a.GuardsIntact() && b.GuardsIntact());
    Buffer in_place(a);
    fn(in_place.data(), b.data(), in_place.data(), n);
    ExpectClose(in_place, got, {}, what + " in place n=" + std::to_string(n));
  }
}

TEST_P(LevelTest, AddMulAreExact) {
  CheckBinary(Table().add, Reference().add, {}, "add");
  CheckBinary(Table().mul, Reference().mul, {}, "mul");
}

TEST_P(LevelTest, SwigluMatchesReference) {
  CheckBinary(Table().swiglu, Reference().swiglu, {.rtol = 2e-6, .atol = 1e-30}, "swiglu");
}

// y += a·x: the SIMD levels fuse the multiply-add (one rounding), the reference rounds twice, so
// each element may differ by an ulp of the product.
TEST_P(LevelTest, AxpyMatchesReference) {
  std::mt19937 rng(5);
  for (int64_t n : TestSizes()) {
    Buffer x(n), y0(n);
    x.FillUniform(rng, -4.0f, 4.0f);
    y0.FillUniform(rng, -4.0f, 4.0f);
    std::vector<uint16_t> x16(n + 1);  // +1: an odd offset, so the halves are unaligned
    for (int64_t i = 0; i < n; ++i) x16[i + 1] = tensor::Fp32ToFp16(x.data()[i]);
    Buffer got(y0), want(y0), got16(y0), want16(y0);
    Table().axpy(0.37f, x.data(), got.data(), n);
    Reference().axpy(0.37f, x.data(), want.data(), n);
    ExpectClose(got, want, {.rtol = 1e-6, .atol = 1e-6}, Name("axpy", n));
    Table().axpy_f16(-1.3f, x16.data() + 1, got16.data(), n);
    Reference().axpy_f16(-1.3f, x16.data() + 1, want16.data(), n);
    ExpectClose(got16, want16, {.rtol = 1e-6, .atol = 1e-6}, Name("axpy_f16", n));
    ASSERT_TRUE(got.GuardsIntact() && got16.GuardsIntact());
  }
  // Hand-computed: 1 + 2·0.5 = 2 and 1 + 2·(−1.5) = −2 (halves 0x3800 and 0xBE00).
  float y[2] = {1.0f, 1.0f};
  const uint16_t h[2] = {0x3800, 0xBE00};
  Table().axpy_f16(2.0f, h, y, 2);
  EXPECT_EQ(y[0], 2.0f);
  EXPECT_EQ(y[1], -2.0f);
}

TEST_P(LevelTest, ScaleIsExact) {
  std::mt19937 rng(3);
  for (int64_t n : TestSizes()) {
    Buffer x(n), got(n), want(n);
    x.FillUniform(rng, -20.0f, 20.0f);
    Table().scale(x.data(), 0.37f, got.data(), n);
    Reference().scale(x.data(), 0.37f, want.data(), n);
    ExpectClose(got, want, {}, Name("scale", n));
  }
}

TEST_P(LevelTest, RmsNormMatchesReference) {
  std::mt19937 rng(11);
  for (int64_t n : TestSizes()) {
    Buffer x(n), w(n), got(n), want(n), got_unweighted(n), want_unweighted(n);
    x.FillUniform(rng, -4.0f, 4.0f);
    w.FillUniform(rng, 0.5f, 1.5f);
    Table().rms_norm(x.data(), w.data(), got.data(), n, 1e-5f);
    Reference().rms_norm(x.data(), w.data(), want.data(), n, 1e-5f);
    ExpectClose(got, want, {.rtol = 1e-5, .atol = 1e-7}, Name("rms_norm", n));
    Table().rms_norm(x.data(), nullptr, got_unweighted.data(), n, 1e-6f);
    Reference().rms_norm(x.data(), nullptr, want_unweighted.data(), n, 1e-6f);
    ExpectClose(got_unweighted, want_unweighted, {.rtol = 1e-5, .atol = 1e-7},
                Name("rms_norm unweighted", n));
    Buffer in_place(x);
    Table().rms_norm(in_place.data(), w.data(), in_place.data(), n, 1e-5f);
    ExpectClose(in_place, got, {}, Name("rms_norm in place", n));
  }
}

TEST_P(LevelTest, LayerNormMatchesReferenceWithAndWithoutWeightAndBias) {
  std::mt19937 rng(13);
  for (int64_t n : TestSizes()) {
    Buffer x(n), w(n), b(n);
    x.FillUniform(rng, 1.0f, 9.0f);  // an offset mean, as real activations have
    w.FillUniform(rng, 0.5f, 1.5f);
    b.FillUniform(rng, -1.0f, 1.0f);
    for (int variant = 0; variant < 4; ++variant) {
      const float* weight = (variant & 1) != 0 ? w.data() : nullptr;
      const float* bias = (variant & 2) != 0 ? b.data() : nullptr;
      Buffer got(n), want(n);
      Table().layer_norm(x.data(), weight, bias, got.data(), n, 1e-5f);
      Reference().layer_norm(x.data(), weight, bias, want.data(), n, 1e-5f);
      ExpectClose(got, want, {.rtol = 1e-5, .atol = 2e-6},
                  Name("layer_norm", n) + " variant=" + std::to_string(variant));
    }
  }
}

TEST_P(LevelTest, SoftmaxMatchesReference) {
  std::mt19937 rng(17);
  for (int64_t n : TestSizes()) {
    Buffer x(n);
    x.FillUniform(rng, -20.0f, 20.0f);
    Buffer got(x), want(x);
    Table().softmax(got.data(), n);
    Reference().softmax(want.data(), n);
    ExpectClose(got, want, {.rtol = 1e-5, .atol = 1e-12}, Name("softmax", n));
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += got[i];
    if (n > 0) {
      EXPECT_NEAR(sum, 1.0, 1e-5) << Name("softmax", n);
    }
  }
}

TEST_P(LevelTest, SoftmaxHandlesMaskedEntriesAndHugeLogits) {
  const int64_t n = 19;
  Buffer x(n);
  for (int64_t i = 0; i < n; ++i) x[i] = (i % 3 == 0) ? -INFINITY : 1000.0f + static_cast<float>(i);
  Buffer want(x);
  Table().softmax(x.data(), n);
  Reference().softmax(want.data(), n);
  for (int64_t i = 0; i < n; i += 3) EXPECT_EQ(x[i], 0.0f);
  ExpectClose(x, want, {.rtol = 1e-5, .atol = 1e-12}, Name("softmax masked", n));
}

void FillRopeAngles(int64_t n_rot, int64_t position, std::vector<float>& cos,
                    std::vector<float>& sin) {
  cos.assign(static_cast<size_t>(n_rot / 2), 0.0f);
  sin.assign(static_cast<size_t>(n_rot / 2), 0.0f);
  RopeCosSin({.n_rot = n_rot, .freq_base = 10000.0f}, position, cos.data(), sin.data());
}

TEST_P(LevelTest, RopeMatchesReferenceForEveryRotaryWidth) {
  std::mt19937 rng(19);
  const int64_t n_heads = 3;
  for (int64_t head_dim : {2, 4, 6, 8, 10, 16, 18, 34, 40, 64, 80, 128}) {
    for (int64_t n_rot = 2; n_rot <= head_dim; n_rot += 2) {
      std::vector<float> cos, sin;
      FillRopeAngles(n_rot, 123, cos, sin);
      Buffer x(n_heads * head_dim);
      x.FillUniform(rng, -3.0f, 3.0f);
      for (bool neox : {false, true}) {
        Buffer got(x), want(x);
        (neox ? Table().rope_neox : Table().rope_norm)(got.data(), n_heads, head_dim, n_rot,
                                                       cos.data(), sin.data());
        (neox ? Reference().rope_neox : Reference().rope_norm)(want.data(), n_heads, head_dim,
                                                               n_rot, cos.data(), sin.data());
        const std::string what =
            Name(neox ? "rope_neox" : "rope_norm", head_dim) + " n_rot=" + std::to_string(n_rot);
        ExpectClose(got, want, {.rtol = 1e-6, .atol = 1e-6}, what);
        for (int64_t h = 0; h < n_heads; ++h) {
          for (int64_t d = n_rot; d < head_dim; ++d) {
            ASSERT_EQ(got[h * head_dim + d], x[h * head_dim + d]) << what << " touched dim " << d;
          }
        }
      }
    }
  }
}

// ---- hand-computed values, at every level ----

TEST_P(LevelTest, SoftmaxOfZeroAndLn2IsOneThirdTwoThirds) {
  Buffer x(2);
  x[0] = 0.0f;
  x[1] = std::log(2.0f);
  Table().softmax(x.data(), 2);
  EXPECT_NEAR(x[0], 1.0 / 3.0, 1e-7);
  EXPECT_NEAR(x[1], 2.0 / 3.0, 1e-7);
}

TEST_P(LevelTest, RmsNormOfThreeFour) {
  Buffer x(2), y(2);
  x[0] = 3.0f;
  x[1] = 4.0f;
  Table().rms_norm(x.data(), nullptr, y.data(), 2, 0.0f);
  EXPECT_NEAR(y[0], 3.0 / std::sqrt(12.5), 1e-7);
  EXPECT_NEAR(y[1], 4.0 / std::sqrt(12.5), 1e-7);
  Buffer w(2);
  w[0] = 2.0f;
  w[1] = -1.0f;
  Table().rms_norm(x.data(), w.data(), y.data(), 2, 0.0f);
  EXPECT_NEAR(y[0], 6.0 / std::sqrt(12.5), 1e-6);
  EXPECT_NEAR(y[1], -4.0 / std::sqrt(12.5), 1e-6);
}

TEST_P(LevelTest, LayerNormOfOneTwoThree) {
  Buffer x(3), w(3), b(3), y(3);
  for (int i = 0; i < 3; ++i) {
    x[i] = static_cast<float>(i + 1);
    w[i] = 2.0f;
    b[i] = 0.5f;
  }
  Table().layer_norm(x.data(), w.data(), b.data(), y.data(), 3, 0.0f);
  const double unit = 1.0 / std::sqrt(2.0 / 3.0);  // mean 2, variance 2/3
  EXPECT_NEAR(y[0], 0.5 - 2.0 * unit, 1e-6);
  EXPECT_NEAR(y[1], 0.5, 1e-6);
  EXPECT_NEAR(y[2], 0.5 + 2.0 * unit, 1e-6);
}

TEST_P(LevelTest, RopeAtPositionZeroIsIdentity) {
  const int64_t head_dim = 64;
  std::mt19937 rng(23);
  Buffer x(2 * head_dim);
  x.FillUniform(rng, -2.0f, 2.0f);
  for (RopeMode mode : {RopeMode::kNorm, RopeMode::kNeox}) {
    Buffer y(x);
    ApplyRope(Table(), mode, {.n_rot = 48, .freq_base = 500000.0f}, 0, y.data(), 2, head_dim);
    ExpectClose(y, x, {}, "rope at position 0");
  }
}

TEST_P(LevelTest, RopeAtPositionOneRotatesTheFirstPairByOneRadian) {
  for (RopeMode mode : {RopeMode::kNorm, RopeMode::kNeox}) {
    Buffer x(4);
    x[0] = 1.0f;
    x[1] = 0.0f;
    x[2] = 5.0f;  // beyond n_rot: untouched
    x[3] = 6.0f;
    ApplyRope(Table(), mode, {.n_rot = 2, .freq_base = 10000.0f}, 1, x.data(), 1, 4);
    EXPECT_NEAR(x[0], std::cos(1.0), 1e-7);
    EXPECT_NEAR(x[1], std::sin(1.0), 1e-7);
    EXPECT_EQ(x[2], 5.0f);
    EXPECT_EQ(x[3], 6.0f);
  }
}

TEST_P(LevelTest, NormAndNeoxPairDifferentDims) {
  // Pair 0 turned a quarter circle, pair 1 not at all.
  const float cos[] = {0.0f, 1.0f}, sin[] = {1.0f, 0.0f};
  Buffer norm(4), neox(4);
  for (int i = 0; i < 4; ++i) norm[i] = neox[i] = static_cast<float>(i + 1);
  Table().rope_norm(norm.data(), 1, 4, 4, cos, sin);  // pairs (x0,x1), (x2,x3)
  Table().rope_neox(neox.data(), 1, 4, 4, cos, sin);  // pairs (x0,x2), (x1,x3)
  EXPECT_EQ(std::vector<float>(norm.data(), norm.data() + 4),
            (std::vector<float>{-2.0f, 1.0f, 3.0f, 4.0f}));
  EXPECT_EQ(std::vector<float>(neox.data(), neox.data() + 4),
            (std::vector<float>{-3.0f, 2.0f, 1.0f, 4.0f}));
}

TEST_P(LevelTest, ActivationsAtKnownPoints) {
  const float inputs[] = {0.0f, 1.0f, -1.0f, 3.0f, -3.0f, 20.0f, -20.0f, 80.0f};
  const int64_t n = std::size(inputs);
  Buffer x(n), silu(n), gelu(n), gelu_erf(n);
  for (int64_t i = 0; i < n; ++i) x[i] = inputs[i];
  Table().silu(x.data(), silu.data(), n);
  Table().gelu(x.data(), gelu.data(), n);
  Table().gelu_erf(x.data(), gelu_erf.data(), n);
  EXPECT_EQ(silu[0], 0.0f);
  EXPECT_EQ(gelu[0], 0.0f);
  EXPECT_EQ(gelu_erf[0], 0.0f);
  EXPECT_NEAR(silu[1], 0.7310585786, 1e-7);
  EXPECT_NEAR(silu[5], 20.0, 1e-5);
  EXPECT_NEAR(silu[6], -20.0 / (1.0 + std::exp(20.0)), 1e-12);
  EXPECT_EQ(silu[7], 80.0f);
  EXPECT_NEAR(gelu[1], 0.8411919906, 1e-7);
  EXPECT_NEAR(gelu[2], -0.1588080094, 1e-7);
  EXPECT_NEAR(gelu[3], 2.9963626079, 1e-6);
  EXPECT_EQ(gelu[7], 80.0f);
  EXPECT_NEAR(gelu_erf[1], 0.8413447461, 2e-7);
  EXPECT_NEAR(gelu_erf[2], -0.1586552539, 2e-7);
  EXPECT_NEAR(gelu_erf[4], -0.0040496941, 5e-7);
  EXPECT_EQ(gelu_erf[7], 80.0f);
}

std::string LevelName(const ::testing::TestParamInfo<CpuLevel>& info) {
  return std::string(CpuLevelName(info.param));
}

INSTANTIATE_TEST_SUITE_P(AllLevels, LevelTest, ::testing::ValuesIn(kAllCpuLevels), LevelName);

// ---- angles, features and dispatch ----

TEST(RopeCosSinTest, AnglesFollowBasePowerFactorsAndScales) {
  float cos[2], sin[2];
  RopeCosSin({.n_rot = 4, .freq_base = 10000.0f}, 2, cos, sin);
  EXPECT_NEAR(cos[0], std::cos(2.0), 1e-7);  // θ0 = 2 · base^0
  EXPECT_NEAR(sin[0], std::sin(2.0), 1e-7);
  EXPECT_NEAR(cos[1], std::cos(0.02), 1e-7);  // θ1 = 2 · 10000^(-2/4)
  EXPECT_NEAR(sin[1], std::sin(0.02), 1e-7);
  const float factors[] = {1.0f, 2.0f};
  RopeCosSin({.n_rot = 4,
              .freq_base = 10000.0f,
              .freq_scale = 0.5f,
              .attn_factor = 1.5f,
              .freq_factors = factors},
             2, cos, sin);
  EXPECT_NEAR(cos[0], 1.5 * std::cos(1.0), 1e-6);
  EXPECT_NEAR(sin[1], 1.5 * std::sin(0.005), 1e-7);
}

TEST(CpuFeaturesTest, LevelsFollowFeatures) {
  CpuFeatures none;
  EXPECT_EQ(BestCpuLevel(none), CpuLevel::kScalar);
  EXPECT_EQ(CpuFeaturesString(none), "none");
  CpuFeatures avx2{.avx2 = true, .fma = true, .f16c = true};
  EXPECT_EQ(BestCpuLevel(avx2), CpuLevel::kAvx2);
  EXPECT_EQ(CpuFeaturesString(avx2), "avx2 fma f16c");
  CpuFeatures no_fma = avx2;
  no_fma.fma = false;
  EXPECT_EQ(BestCpuLevel(no_fma), CpuLevel::kScalar);
  CpuFeatures avx512 = avx2;
  avx512.avx512f = avx512.avx512bw = avx512.avx512vl = avx512.avx512dq = true;
  EXPECT_EQ(BestCpuLevel(avx512), CpuLevel::kAvx512);
  avx512.avx512bw = false;
  EXPECT_EQ(BestCpuLevel(avx512), CpuLevel::kAvx2);
  EXPECT_TRUE(HostSupports(CpuLevel::kScalar));
}

TEST(CpuFeaturesTest, ForcedLevelOnlyLowers) {
  CpuFeatures avx2{.avx2 = true, .fma = true, .f16c = true};
  EXPECT_EQ(ChooseCpuLevel(avx2, nullptr), CpuLevel::kAvx2);
  EXPECT_EQ(ChooseCpuLevel(avx2, ""), CpuLevel::kAvx2);
  EXPECT_EQ(ChooseCpuLevel(avx2, "scalar"), CpuLevel::kScalar);
  EXPECT_EQ(ChooseCpuLevel(avx2, "avx2"), CpuLevel::kAvx2);
  EXPECT_EQ(ChooseCpuLevel(avx2, "avx512"), CpuLevel::kAvx2);  // not supported: ignored
  EXPECT_EQ(ChooseCpuLevel(avx2, "sse9"), CpuLevel::kAvx2);    // unknown: ignored
  EXPECT_EQ(ParseCpuLevel("avx512"), CpuLevel::kAvx512);
  EXPECT_EQ(ParseCpuLevel("AVX2"), std::nullopt);
}

TEST(DispatchTest, KernelsPicksTheSelectedLevelOnceAndLogsIt) {
  std::vector<std::string> lines;
  SetLogSink([&](std::string_view line) { lines.emplace_back(line); });
  const KernelTable& first = Kernels();
  const KernelTable& second = Kernels();
  SetLogSink(nullptr);
  EXPECT_EQ(&first, &second);
  EXPECT_EQ(first.level, SelectedCpuLevel());
  EXPECT_EQ(&first, &KernelsFor(SelectedCpuLevel()));
  // Under ctest each test is its own process, so this is the first call and it logged (after
  // any CORRAL_CPU_LEVEL warning).
  const std::string expected = "kernels: using " + std::string(CpuLevelName(first.level));
  if (!lines.empty()) {
    EXPECT_NE(lines.back().find(expected), std::string::npos) << lines.back();
  }
}

}  // namespace
}  // namespace corral::kernels
