// Scalar reference dequantization: one row of any supported GGUF type to floats, computing
// each value exactly as llama.cpp's dequantize_row_* does (same operation order, so the floats
// are bit-identical). Kernels in src/kernels are tested against these.
#pragma once

#include <cstdint>

#include "gguf/ggml_type.h"

namespace corral::tensor {

// Converts `n` elements of `type` at `src` to floats in `dst`. Supported: F32, F16, BF16,
// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, IQ4_NL, IQ4_XS
// (Traits(type).can_dequantize). CHECKs that the type is one of them and that n is a whole
// number of blocks; callers validate file contents before.
void DequantizeRow(gguf::GgmlType type, const void* src /* [n / block_size blocks] */,
                   float* dst /* [n] */, int64_t n);

}  // namespace corral::tensor
