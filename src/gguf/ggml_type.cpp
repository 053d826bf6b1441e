#include "gguf/ggml_type.h"

#include <array>

#include "base/check.h"
#include "base/strings.h"

namespace corral::gguf {
namespace {

// Block sizes and bytes per block follow the block structs in engine.md §3.1 (QK_K = 256).
constexpr std::array kTypes = {
    GgmlTypeInfo{GgmlType::kF32, "f32", 1, 4},
    GgmlTypeInfo{GgmlType::kF16, "f16", 1, 2},
    GgmlTypeInfo{GgmlType::kQ4_0, "q4_0", 32, 18},
    GgmlTypeInfo{GgmlType::kQ4_1, "q4_1", 32, 20},
    GgmlTypeInfo{GgmlType::kQ5_0, "q5_0", 32, 22},
    GgmlTypeInfo{GgmlType::kQ5_1, "q5_1", 32, 24},
    GgmlTypeInfo{GgmlType::kQ8_0, "q8_0", 32, 34},
    GgmlTypeInfo{GgmlType::kQ8_1, "q8_1", 32, 36},
    GgmlTypeInfo{GgmlType::kQ2_K, "q2_K", 256, 84},
    GgmlTypeInfo{GgmlType::kQ3_K, "q3_K", 256, 110},
    GgmlTypeInfo{GgmlType::kQ4_K, "q4_K", 256, 144},
    GgmlTypeInfo{GgmlType::kQ5_K, "q5_K", 256, 176},
    GgmlTypeInfo{GgmlType::kQ6_K, "q6_K", 256, 210},
    GgmlTypeInfo{GgmlType::kQ8_K, "q8_K", 256, 292},
    GgmlTypeInfo{GgmlType::kIQ2_XXS, "iq2_xxs", 256, 66},
    GgmlTypeInfo{GgmlType::kIQ2_XS, "iq2_xs", 256, 74},
    GgmlTypeInfo{GgmlType::kIQ3_XXS, "iq3_xxs", 256, 98},
    GgmlTypeInfo{GgmlType::kIQ1_S, "iq1_s", 256, 50},
    GgmlTypeInfo{GgmlType::kIQ4_NL, "iq4_nl", 32, 18},
    GgmlTypeInfo{GgmlType::kIQ3_S, "iq3_s", 256, 110},
    GgmlTypeInfo{GgmlType::kIQ2_S, "iq2_s", 256, 82},
    GgmlTypeInfo{GgmlType::kIQ4_XS, "iq4_xs", 256, 136},
    GgmlTypeInfo{GgmlType::kI8, "i8", 1, 1},
    GgmlTypeInfo{GgmlType::kI16, "i16", 1, 2},
    GgmlTypeInfo{GgmlType::kI32, "i32", 1, 4},
    GgmlTypeInfo{GgmlType::kI64, "i64", 1, 8},
    GgmlTypeInfo{GgmlType::kF64, "f64", 1, 8},
    GgmlTypeInfo{GgmlType::kIQ1_M, "iq1_m", 256, 56},
    GgmlTypeInfo{GgmlType::kBF16, "bf16", 1, 2},
    GgmlTypeInfo{GgmlType::kTQ1_0, "tq1_0", 256, 54},
    GgmlTypeInfo{GgmlType::kTQ2_0, "tq2_0", 256, 66},
    GgmlTypeInfo{GgmlType::kMXFP4, "mxfp4", 32, 17},
};

}  // namespace

std::optional<GgmlTypeInfo> LookupType(uint32_t id) {
  for (const GgmlTypeInfo& info : kTypes) {
    if (static_cast<uint32_t>(info.type) == id) return info;
  }
  return std::nullopt;
}

const GgmlTypeInfo& TypeInfo(GgmlType type) {
  for (const GgmlTypeInfo& info : kTypes) {
    if (info.type == type) return info;
  }
  CHECK(false) << "unknown GgmlType " << static_cast<uint32_t>(type);
  return kTypes[0];
}

std::optional<GgmlType> TypeFromName(std::string_view name) {
  std::string lower = ToLower(name);
  for (const GgmlTypeInfo& info : kTypes) {
    if (ToLower(info.name) == lower) return info.type;
  }
  return std::nullopt;
}

int64_t BlockCount(GgmlType type, int64_t n_elements) {
  const GgmlTypeInfo& info = TypeInfo(type);
  CHECK(n_elements >= 0 && n_elements % info.block_size == 0)
      << n_elements << " elements is not a whole number of " << info.name << " blocks";
  return n_elements / info.block_size;
}

uint64_t RowBytes(GgmlType type, uint64_t n_elements) {
  const GgmlTypeInfo& info = TypeInfo(type);
  CHECK(n_elements % info.block_size == 0)
      << n_elements << " elements is not a whole number of " << info.name << " blocks";
  return n_elements / info.block_size * info.type_size;
}

}  // namespace corral::gguf
