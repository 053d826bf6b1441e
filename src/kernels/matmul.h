// Matrix-vector products with quantized weights, split across a thread pool: the operation
// that decides token-generation speed. The activation row is quantized once to the type the
// weight type pairs with (Q8_0, Q8_K, ...), then every weight row is dotted with it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/thread_pool.h"
#include "gguf/ggml_type.h"
#include "kernels/quant_dot.h"

namespace corral::kernels {

// Bytes that QuantizeActivation writes for `n` activations paired with `weight_type`.
size_t ActivationBytes(gguf::GgmlType weight_type, int64_t n);

// Quantizes x to tensor::Traits(weight_type).vec_dot_type (a copy for F32).
void QuantizeActivation(gguf::GgmlType weight_type,
                        const float* x,  // [n]
                        int64_t n,
                        void* out);  // [ActivationBytes(weight_type, n)]

// y = W · x for W of `n_rows` rows of `n_cols` elements of `weight_type`, `row_bytes` apart.
// `x_quantized` comes from QuantizeActivation. Rows are split evenly across `pool`.
void MatVec(const QuantDotTable& dots, gguf::GgmlType weight_type,
            const void* weights,  // [n_rows, row_bytes]
            size_t row_bytes,
            const void* x_quantized,  // [ActivationBytes(weight_type, n_cols)]
            float* y,                 // [n_rows]
            int64_t n_rows, int64_t n_cols, ThreadPool& pool);

// Quantizes n_tokens rows of activations, each to ActivationBytes(weight_type, n_cols) bytes,
// splitting the rows across `pool`.
void QuantizeActivations(gguf::GgmlType weight_type,
                         const float* x,  // [n_tokens, n_cols]
                         int64_t n_tokens, int64_t n_cols,
                         void* out,  // [n_tokens, ActivationBytes(weight_type, n_cols)]
                         ThreadPool& pool);

// Y = X · Wᵀ for a batch of tokens: y[t, r] = W[r] · x[t]. The weight rows are split across
// `pool`; each thread walks its rows in tiles small enough to stay in cache while every token
// of a tile of tokens is dotted with them, so a weight row is read from memory once per token
// tile rather than once per token.
void MatMul(const QuantDotTable& dots, gguf::GgmlType weight_type,
            const void* weights,  // [n_rows, row_bytes]
            size_t row_bytes,
            const void* x_quantized,  // [n_tokens, ActivationBytes(weight_type, n_cols)]
            float* y,                 // [n_tokens, n_rows]
            int64_t n_rows, int64_t n_cols, int64_t n_tokens, ThreadPool& pool);

}  // namespace corral::kernels
