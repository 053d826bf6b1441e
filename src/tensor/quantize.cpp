#include "tensor/quantize.h"

#include <cstring>

#include "base/check.h"
#include "tensor/fp16.h"
#include "tensor/quantize_internal.h"

namespace corral::tensor {

void QuantizeRow(gguf::GgmlType type, const float* src, void* dst, int64_t n) {
  using gguf::GgmlType;
  using namespace internal;
  const int64_t nb = gguf::BlockCount(type, n);
  switch (type) {
    case GgmlType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case GgmlType::kF16:
      return Fp32ToFp16Row(src, static_cast<uint16_t*>(dst), n);
    case GgmlType::kBF16:
      return Fp32ToBf16Row(src, static_cast<uint16_t*>(dst), n);
    case GgmlType::kQ4_0:
      return QuantizeQ4_0(src, static_cast<BlockQ4_0*>(dst), nb);
    case GgmlType::kQ4_1:
      return QuantizeQ4_1(src, static_cast<BlockQ4_1*>(dst), nb);
    case GgmlType::kQ5_0:
      return QuantizeQ5_0(src, static_cast<BlockQ5_0*>(dst), nb);
    case GgmlType::kQ5_1:
      return QuantizeQ5_1(src, static_cast<BlockQ5_1*>(dst), nb);
    case GgmlType::kQ8_0:
      return QuantizeQ8_0(src, static_cast<BlockQ8_0*>(dst), nb);
    case GgmlType::kQ8_1:
      return QuantizeQ8_1(src, static_cast<BlockQ8_1*>(dst), nb);
    case GgmlType::kQ2_K:
      return QuantizeQ2_K(src, static_cast<BlockQ2_K*>(dst), nb);
    case GgmlType::kQ3_K:
      return QuantizeQ3_K(src, static_cast<BlockQ3_K*>(dst), nb);
    case GgmlType::kQ4_K:
      return QuantizeQ4_K(src, static_cast<BlockQ4_K*>(dst), nb);
    case GgmlType::kQ5_K:
      return QuantizeQ5_K(src, static_cast<BlockQ5_K*>(dst), nb);
    case GgmlType::kQ6_K:
      return QuantizeQ6_K(src, static_cast<BlockQ6_K*>(dst), nb);
    case GgmlType::kQ8_K:
      return QuantizeQ8_K(src, static_cast<BlockQ8_K*>(dst), nb);
    case GgmlType::kIQ4_NL:
      return QuantizeIQ4_NL(src, static_cast<BlockIQ4_NL*>(dst), nb);
    case GgmlType::kIQ4_XS:
      return QuantizeIQ4_XS(src, static_cast<BlockIQ4_XS*>(dst), nb);
    default:
      break;
  }
  CHECK(false) << "QuantizeRow: type " << gguf::TypeInfo(type).name << " is not supported";
}

}  // namespace corral::tensor
