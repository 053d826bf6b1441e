// Tensor element types as GGUF stores them (ggml_type ids), with the block geometry the file
// format needs: how many elements a block holds and how many bytes it takes. Which types we can
// compute with is the tensor layer's business (tensor/); the reader knows every id llama.cpp
// writes so `corral gguf` can list any file, and rejects ids it does not know.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace corral::gguf {

enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  kMXFP4 = 39,
};

struct GgmlTypeInfo {
  GgmlType type;
  std::string_view name;  // as llama.cpp prints it: "f32", "q4_K", "iq4_xs"
  uint32_t block_size;    // elements per block
  uint32_t type_size;     // bytes per block
};

// The info for a stored type id, or nullopt for an id llama.cpp does not define (or removed).
std::optional<GgmlTypeInfo> LookupType(uint32_t id);

// The info for a known type (CHECKs that it is one).
const GgmlTypeInfo& TypeInfo(GgmlType type);

// Case-insensitive lookup by name ("Q4_K", "q4_k", "bf16").
std::optional<GgmlType> TypeFromName(std::string_view name);

// Blocks in `n_elements` (CHECKs it is a whole, non-negative number of blocks: callers validate
// user and file input before).
int64_t BlockCount(GgmlType type, int64_t n_elements);

// Bytes of one row of `n_elements` (must be a multiple of the block size).
uint64_t RowBytes(GgmlType type, uint64_t n_elements);

}  // namespace corral::gguf
