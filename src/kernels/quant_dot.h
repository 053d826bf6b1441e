// Dot products between a quantized weight row and an activation row quantized to the type
// llama.cpp pairs with it (tensor::Traits(type).vec_dot_type: Q8_0 for Q4_0/Q8_0, Q8_K for the
// K-quants, ...). One table per CPU level: the scalar level is tensor::VecDotRef; the AVX2 and
// AVX-512 (VNNI, plus AVX512_BF16 for BF16 where the CPU has it) levels have their own kernel
// for every weight type. QuantDots() picks the level once, like Kernels().
//
// Every entry is stateless and thread-safe; pointers need no alignment.
#pragma once

#include <cstdint>

#include "gguf/ggml_type.h"
#include "kernels/cpu_features.h"

namespace corral::kernels {

// Returns sum_i w[i] * a[i] over n elements (n a multiple of both block sizes).
using VecDotFn = float (*)(const void* weights,      // [n / block_size] weight blocks
                           const void* activations,  // [n / block_size'] activation blocks
                           int64_t n);

inline constexpr int kMaxTypeId = 40;  // ggml type ids are below this

struct QuantDotTable {
  CpuLevel level = CpuLevel::kScalar;
  VecDotFn dot[kMaxTypeId] = {};  // by weight type id; nullptr: no dot product for that type

  // The kernel for `type`; CHECKs that one exists (tensor::Traits(type).has_vec_dot).
  VecDotFn For(gguf::GgmlType type) const;
  // Whether this level has its own (not the reference) kernel for `type`.
  bool IsNative(gguf::GgmlType type) const;
};

const QuantDotTable& QuantDots();                   // the selected level
const QuantDotTable& QuantDotsFor(CpuLevel level);  // CHECK-fails if the CPU lacks it

}  // namespace corral::kernels
