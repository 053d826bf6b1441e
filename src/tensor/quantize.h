// Scalar reference quantization: one row of floats to any type we can write, producing the
// bytes llama.cpp's quantizers produce without an importance matrix (what `llama-quantize`
// writes when given no imatrix, and what ggml uses for activations). engine.md §3.4.
#pragma once

#include <cstdint>

#include "gguf/ggml_type.h"

namespace corral::tensor {

// Quantizes `n` floats from `src` into `type` blocks at `dst`. Supported: F32, F16, BF16, Q4_0,
// Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, IQ4_NL, IQ4_XS
// (Traits(type).can_quantize). CHECKs the type and that n is a whole number of blocks. Uses
// only stack memory.
void QuantizeRow(gguf::GgmlType type, const float* src /* [n] */,
                 void* dst /* [n / block_size blocks] */, int64_t n);

}  // namespace corral::tensor
