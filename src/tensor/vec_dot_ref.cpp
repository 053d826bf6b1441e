#include "tensor/vec_dot_ref.h"

#include <array>
#include <cstring>

#include "base/check.h"
#include "tensor/blocks.h"
#include "tensor/fp16.h"

namespace corral::tensor {
namespace {

using gguf::GgmlType;

float DotF32(const float* x, const float* y, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * y[i]);
  return static_cast<float>(sum);
}

float DotF16(const uint16_t* x, const uint16_t* y, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(Fp16ToFp32(x[i]) * Fp16ToFp32(y[i]));
  return static_cast<float>(sum);
}

float DotBF16(const uint16_t* x, const uint16_t* y, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(Bf16ToFp32(x[i]) * Bf16ToFp32(y[i]));
  return static_cast<float>(sum);
}

uint32_t LoadU32(const uint8_t* bytes /* [4] */) {
  uint32_t value;
  std::memcpy(&value, bytes, sizeof(value));
  return value;
}

// Weight values of one 32-block as signed ints, in output order.
void UnpackQ4_0(const BlockQ4_0& b, int* v /* [32] */) {
  for (int j = 0; j < 16; ++j) {
    v[j] = (b.qs[j] & 15) - 8;
    v[j + 16] = (b.qs[j] >> 4) - 8;
  }
}
void UnpackQ5(const uint8_t* qs, const uint8_t* qh_bytes, int offset, int* v /* [32] */) {
  const uint32_t qh = LoadU32(qh_bytes);
  for (int j = 0; j < 16; ++j) {
    v[j] = ((qs[j] & 15) | (((qh >> j) & 1) << 4)) - offset;
    v[j + 16] = ((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - offset;
  }
}

int Dot32(const int* v, const int8_t* q8) {
  int sum = 0;
  for (int j = 0; j < 32; ++j) sum += v[j] * q8[j];
  return sum;
}

float DotQ4_0(const BlockQ4_0* x, const BlockQ8_0* y, int64_t nb) {
  float sumf = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int v[32];
    UnpackQ4_0(x[i], v);
    sumf += static_cast<float>(Dot32(v, y[i].qs)) * Fp16ToFp32(x[i].d) * Fp16ToFp32(y[i].d);
  }
  return sumf;
}

float DotQ4_1(const BlockQ4_1* x, const BlockQ8_1* y, int64_t nb) {
  float sumf = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int v[32];
    for (int j = 0; j < 16; ++j) {
      v[j] = x[i].qs[j] & 15;
      v[j + 16] = x[i].qs[j] >> 4;
    }
    // m_w * s_a adds the weight offset times the activation block's sum in one product.
    sumf += Fp16ToFp32(x[i].d) * Fp16ToFp32(y[i].d) * static_cast<float>(Dot32(v, y[i].qs)) +
            Fp16ToFp32(x[i].m) * Fp16ToFp32(y[i].s);
  }
  return sumf;
}

float DotQ5_0(const BlockQ5_0* x, const BlockQ8_0* y, int64_t nb) {
  float sumf = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int v[32];
    UnpackQ5(x[i].qs, x[i].qh, 16, v);
    sumf += static_cast<float>(Dot32(v, y[i].qs)) * Fp16ToFp32(x[i].d) * Fp16ToFp32(y[i].d);
  }
  return sumf;
}

float DotQ5_1(const BlockQ5_1* x, const BlockQ8_1* y, int64_t nb) {
  float sumf = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int v[32];
    UnpackQ5(x[i].qs, x[i].qh, 0, v);
    sumf += Fp16ToFp32(x[i].d) * Fp16ToFp32(y[i].d) * static_cast<float>(Dot32(v, y[i].qs)) +
            Fp16ToFp32(x[i].m) * Fp16ToFp32(y[i].s);
  }
  return sumf;
}

float DotQ8_0(const BlockQ8_0* x, const BlockQ8_0* y, int64_t nb) {
  float sumf = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int sum = 0;
    for (int j = 0; j < 32; ++j) sum += x[i].qs[j] * y[i].qs[j];
    sumf += static_cast<float>(sum) * (Fp16ToFp32(x[i].d) * Fp16ToFp32(y[i].d));
  }
  return sumf;
}

float DotIQ4_NL(const BlockIQ4_NL* x, const BlockQ8_0* y, int64_t nb) {
  float sumf = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int sum = 0;
    for (int j = 0; j < 16; ++j) {
      sum += y[i].qs[j] * kIq4nlValues[x[i].qs[j] & 15];
      sum += y[i].qs[j + 16] * kIq4nlValues[x[i].qs[j] >> 4];
    }
    sumf += Fp16ToFp32(x[i].d) * Fp16ToFp32(y[i].d) * static_cast<float>(sum);
  }
  return sumf;
}

// The K-quant dots: integer sums per sub-block times the integer sub-block scale, summed over
// the super-block, then one float scale. The mins use the activation's bsums instead of
// touching the weights again.
float DotQ2_K(const BlockQ2_K* x, const BlockQ8_K* y, int64_t nb) {
  float sumf = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int sum_mins = 0;
    for (int j = 0; j < 16; ++j) sum_mins += y[i].bsums[j] * (x[i].scales[j] >> 4);
    int sum_scaled = 0;
    const uint8_t* q2 = x[i].qs;
    const int8_t* q8 = y[i].qs;
    int is = 0;
    for (int half = 0; half < 2; ++half, q2 += 32) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int part = 0; part < 2; ++part, q8 += 16) {
          int sum = 0;
          for (int l = 0; l < 16; ++l) sum += q8[l] * ((q2[16 * part + l] >> shift) & 3);
          sum_scaled += (x[i].scales[is++] & 15) * sum;
        }
      }
    }
    const float dall = y[i].d * Fp16ToFp32(x[i].d);
    const float dmin = y[i].d * Fp16ToFp32(x[i].dmin);
    sumf += dall * static_cast<float>(sum_scaled) - dmin * static_cast<float>(sum_mins);
  }
  return sumf;
}

float DotQ3_K(const BlockQ3_K* x, const BlockQ8_K* y, int64_t nb) {
  float sumf = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int sum_scaled = 0;
    const uint8_t* q3 = x[i].qs;
    const uint8_t* hm = x[i].hmask;
    const int8_t* q8 = y[i].qs;
    uint8_t mask = 1;
    int is = 0;
    for (int half = 0; half < 2; ++half, q3 += 32) {
      for (int shift = 0; shift < 8; shift += 2, mask = static_cast<uint8_t>(mask << 1)) {
        for (int part = 0; part < 2; ++part, q8 += 16) {
          int sum = 0;
          for (int l = 16 * part; l < 16 * part + 16; ++l) {
            const int value = ((q3[l] >> shift) & 3) - ((hm[l] & mask) ? 0 : 4);
            sum += q8[l - 16 * part] * value;
          }
          sum_scaled += Q3KScale(x[i].scales, is++) * sum;
        }
      }
    }
    sumf += Fp16ToFp32(x[i].d) * y[i].d * static_cast<float>(sum_scaled);
  }
  return sumf;
}

// Q4_K and Q5_K share everything but how a value is read; `value(l, chunk, high)` returns the
// unsigned level of output 64*chunk + 32*high + l.
template <typename Block, typename ValueFn>
float DotScaleMinK(const Block* x, const BlockQ8_K* y, int64_t nb, ValueFn value) {
  float sumf = 0;
  for (int64_t i = 0; i < nb; ++i) {
    int sum_scaled = 0;
    int sum_mins = 0;
    const int8_t* q8 = y[i].qs;
    for (int sub = 0; sub < 8; ++sub, q8 += 32) {
      uint8_t sc, m;
      UnpackScaleMinK4(sub, x[i].scales, &sc, &m);
      int sum = 0;
      for (int l = 0; l < 32; ++l) sum += q8[l] * value(x[i], l, sub / 2, sub % 2);
      sum_scaled += sc * sum;
      sum_mins += m * (y[i].bsums[2 * sub] + y[i].bsums[2 * sub + 1]);
    }
    const float d = Fp16ToFp32(x[i].d) * y[i].d;
    const float dmin = Fp16ToFp32(x[i].dmin) * y[i].d;
    sumf += d * static_cast<float>(sum_scaled) - dmin * static_cast<float>(sum_mins);
  }
  return sumf;
}

float DotQ4_K(const BlockQ4_K* x, const BlockQ8_K* y, int64_t nb) {
  return DotScaleMinK(x, y, nb, [](const BlockQ4_K& b, int l, int chunk, int high) {
    const uint8_t byte = b.qs[32 * chunk + l];
    return high ? byte >> 4 : byte & 15;
  });
}

float DotQ5_K(const BlockQ5_K* x, const BlockQ8_K* y, int64_t nb) {
  return DotScaleMinK(x, y, nb, [](const BlockQ5_K& b, int l, int chunk, int high) {
    const uint8_t byte = b.qs[32 * chunk + l];
    const int low = high ? byte >> 4 : byte & 15;
    return low | (((b.qh[l] >> (2 * chunk + high)) & 1) << 4);
  });
}

float DotQ6_K(const BlockQ6_K* x, const BlockQ8_K* y, int64_t nb) {
  float sumf = 0;
  for (int64_t i = 0; i < nb; ++i) {
    // Decode the 256 signed 6-bit values in output order first (as ggml's generic path does).
    int8_t v[kQKK];
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32) {
      int8_t* out = v + 128 * half;
      for (int l = 0; l < 32; ++l) {
        out[l] = static_cast<int8_t>(((ql[l] & 15) | (((qh[l] >> 0) & 3) << 4)) - 32);
        out[l + 32] = static_cast<int8_t>(((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32);
        out[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        out[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
    int sum_scaled = 0;
    for (int sub = 0; sub < 16; ++sub) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += v[16 * sub + l] * y[i].qs[16 * sub + l];
      sum_scaled += x[i].scales[sub] * sum;
    }
    sumf += Fp16ToFp32(x[i].d) * y[i].d * static_cast<float>(sum_scaled);
  }
  return sumf;
}

float DotIQ4_XS(const BlockIQ4_XS* x, const BlockQ8_K* y, int64_t nb) {
  float sumf = 0;
  for (int64_t i = 0; i < nb; ++i) {
    const float d4d8 = Fp16ToFp32(x[i].d) * y[i].d;
    const uint8_t* qs = x[i].qs;
    const int8_t* q8 = y[i].qs;
    for (int ib = 0; ib < 8; ++ib, qs += 16, q8 += 32) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) {
        sum += q8[j] * kIq4nlValues[qs[j] & 15];
        sum += q8[j + 16] * kIq4nlValues[qs[j] >> 4];
      }
      sumf += d4d8 * static_cast<float>(IQ4XSScale(x[i], ib)) * static_cast<float>(sum);
    }
  }
  return sumf;
}

struct TraitsEntry {
  GgmlType type;
  TypeTraits traits;
};

constexpr TypeTraits Weight(GgmlType vec_dot_type) { return {true, true, true, vec_dot_type}; }
constexpr TypeTraits ActivationOnly(GgmlType self) { return {true, true, false, self}; }

constexpr std::array kTraits = {
    TraitsEntry{GgmlType::kF32, Weight(GgmlType::kF32)},
    TraitsEntry{GgmlType::kF16, Weight(GgmlType::kF16)},
    TraitsEntry{GgmlType::kBF16, Weight(GgmlType::kBF16)},
    TraitsEntry{GgmlType::kQ4_0, Weight(GgmlType::kQ8_0)},
    TraitsEntry{GgmlType::kQ4_1, Weight(GgmlType::kQ8_1)},
    TraitsEntry{GgmlType::kQ5_0, Weight(GgmlType::kQ8_0)},
    TraitsEntry{GgmlType::kQ5_1, Weight(GgmlType::kQ8_1)},
    TraitsEntry{GgmlType::kQ8_0, Weight(GgmlType::kQ8_0)},
    TraitsEntry{GgmlType::kQ8_1, ActivationOnly(GgmlType::kQ8_1)},
    TraitsEntry{GgmlType::kQ2_K, Weight(GgmlType::kQ8_K)},
    TraitsEntry{GgmlType::kQ3_K, Weight(GgmlType::kQ8_K)},
    TraitsEntry{GgmlType::kQ4_K, Weight(GgmlType::kQ8_K)},
    TraitsEntry{GgmlType::kQ5_K, Weight(GgmlType::kQ8_K)},
    TraitsEntry{GgmlType::kQ6_K, Weight(GgmlType::kQ8_K)},
    TraitsEntry{GgmlType::kQ8_K, ActivationOnly(GgmlType::kQ8_K)},
    TraitsEntry{GgmlType::kIQ4_NL, Weight(GgmlType::kQ8_0)},
    TraitsEntry{GgmlType::kIQ4_XS, Weight(GgmlType::kQ8_K)},
};

constexpr TypeTraits kUnsupported{};

}  // namespace

const TypeTraits& Traits(GgmlType type) {
  gguf::TypeInfo(type);  // CHECKs that the type is known
  for (const TraitsEntry& entry : kTraits) {
    if (entry.type == type) return entry.traits;
  }
  return kUnsupported;
}

bool IsSupported(GgmlType type) {
  const TypeTraits& traits = Traits(type);
  return traits.can_dequantize && traits.has_vec_dot;
}

float VecDotRef(GgmlType weight_type, const void* weights, const void* activations, int64_t n) {
  const TypeTraits& traits = Traits(weight_type);
  const gguf::GgmlTypeInfo& info = gguf::TypeInfo(weight_type);
  CHECK(traits.has_vec_dot) << "VecDotRef: no dot product for weight type " << info.name;
  const gguf::GgmlTypeInfo& act_info = gguf::TypeInfo(traits.vec_dot_type);
  CHECK(n >= 0 && n % info.block_size == 0 && n % act_info.block_size == 0)
      << n << " elements is not a whole number of " << info.name << " and " << act_info.name
      << " blocks";
  const int64_t nb = n / info.block_size;
  const auto* a8_0 = static_cast<const BlockQ8_0*>(activations);
  const auto* a8_1 = static_cast<const BlockQ8_1*>(activations);
  const auto* a8_k = static_cast<const BlockQ8_K*>(activations);
  switch (weight_type) {
    case GgmlType::kF32:
      return DotF32(static_cast<const float*>(weights), static_cast<const float*>(activations), n);
    case GgmlType::kF16:
      return DotF16(static_cast<const uint16_t*>(weights),
                    static_cast<const uint16_t*>(activations), n);
    case GgmlType::kBF16:
      return DotBF16(static_cast<const uint16_t*>(weights),
                     static_cast<const uint16_t*>(activations), n);
    case GgmlType::kQ4_0:
      return DotQ4_0(static_cast<const BlockQ4_0*>(weights), a8_0, nb);
    case GgmlType::kQ4_1:
      return DotQ4_1(static_cast<const BlockQ4_1*>(weights), a8_1, nb);
    case GgmlType::kQ5_0:
      return DotQ5_0(static_cast<const BlockQ5_0*>(weights), a8_0, nb);
    case GgmlType::kQ5_1:
      return DotQ5_1(static_cast<const BlockQ5_1*>(weights), a8_1, nb);
    case GgmlType::kQ8_0:
      return DotQ8_0(static_cast<const BlockQ8_0*>(weights), a8_0, nb);
    case GgmlType::kQ2_K:
      return DotQ2_K(static_cast<const BlockQ2_K*>(weights), a8_k, nb);
    case GgmlType::kQ3_K:
      return DotQ3_K(static_cast<const BlockQ3_K*>(weights), a8_k, nb);
    case GgmlType::kQ4_K:
      return DotQ4_K(static_cast<const BlockQ4_K*>(weights), a8_k, nb);
    case GgmlType::kQ5_K:
      return DotQ5_K(static_cast<const BlockQ5_K*>(weights), a8_k, nb);
    case GgmlType::kQ6_K:
      return DotQ6_K(static_cast<const BlockQ6_K*>(weights), a8_k, nb);
    case GgmlType::kIQ4_NL:
      return DotIQ4_NL(static_cast<const BlockIQ4_NL*>(weights), a8_0, nb);
    case GgmlType::kIQ4_XS:
      return DotIQ4_XS(static_cast<const BlockIQ4_XS*>(weights), a8_k, nb);
    default:
      break;
  }
  CHECK(false) << "VecDotRef: no dot product for weight type " << info.name;
  return 0.0f;
}

}  // namespace corral::tensor
