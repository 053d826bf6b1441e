// Scalar reference dot products between a weight row and an activation row quantized to the
// type llama.cpp pairs with that weight type (engine.md §3.2), plus a small table of what this
// layer can do with each type. The quantized dots sum integer products per block and scale
// once per block (or sub-block), as ggml's generic vec_dot_* do; the SIMD kernels in
// src/kernels are tested against these.
#pragma once

#include <cstdint>

#include "gguf/ggml_type.h"

namespace corral::tensor {

struct TypeTraits {
  bool can_dequantize = false;  // DequantizeRow accepts it
  bool can_quantize = false;    // QuantizeRow accepts it
  bool has_vec_dot = false;     // VecDotRef accepts it as the weight type
  // The type activations are quantized to before VecDotRef (the type itself for F32, F16,
  // BF16; Q8_0, Q8_1 or Q8_K for the quantized types). Meaningful when has_vec_dot.
  gguf::GgmlType vec_dot_type = gguf::GgmlType::kF32;
};

// The traits of any known type (unsupported ones have everything false). CHECKs the type is a
// known GgmlType.
const TypeTraits& Traits(gguf::GgmlType type);

// Whether a tensor of this type can be a weight in our engine: we can dequantize it and
// take dot products with it. False for the activation-only types Q8_1 and Q8_K.
bool IsSupported(gguf::GgmlType type);

// Dot product of `n` elements: `weights` in `weight_type`, `activations` in
// Traits(weight_type).vec_dot_type. CHECKs has_vec_dot and that n is a whole number of blocks
// of both types. F32/F16/BF16 accumulate in double like ggml; quantized types in float.
float VecDotRef(gguf::GgmlType weight_type, const void* weights /* [n / block_size blocks] */,
                const void* activations /* [n / vec_dot block_size blocks] */, int64_t n);

}  // namespace corral::tensor
