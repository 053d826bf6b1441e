// llama.cpp's own ggml libraries, loaded at run time from the reference install
// (node-llama-cpp's prebuilt libggml-base.so and libggml-cpu-<arch>.so), so tests can compare
// our quantized bytes with ggml's and benchmarks can run its kernels side by side with ours on
// the same bytes. Only for tests and benchmarks: nothing in Corral links or ships it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace corral::testing {

// ggml's row kernel signatures (ggml-cpu.h), declared here rather than included.
using GgmlVecDot = void (*)(int n, float* s, size_t bs, const void* x, size_t bx, const void* y,
                            size_t by, int nrc);
using GgmlFromFloat = void (*)(const float* x, void* y, int64_t k);

struct GgmlTypeTraitsCpu {  // struct ggml_type_traits_cpu
  GgmlFromFloat from_float;
  GgmlVecDot vec_dot;
  int vec_dot_type;
  int64_t nrows;
};

struct GgmlTypeTraits {  // struct ggml_type_traits (ggml.h)
  const char* type_name;
  int64_t blck_size;
  int64_t blck_size_interleave;
  size_t type_size;
  bool is_quantized;
  void (*to_float)(const void* x, float* y, int64_t k);
  GgmlFromFloat from_float_ref;
};

class LlamaCppKernels {
 public:
  // Loads the library for this CPU (zen4 / skylakex / haswell / x64) from the reference folder
  // (CORRAL_REFERENCE_DIR or ~/.cache/corral/reference/node-llama-cpp-3.21.1). Returns null
  // and sets *why when it is not there.
  static const LlamaCppKernels* Get(std::string* why);

  const GgmlTypeTraitsCpu* Traits(int ggml_type) const { return get_traits_(ggml_type); }
  // ggml_quantize_chunk: what llama-quantize writes (no importance matrix here).
  size_t QuantizeChunk(int ggml_type, const float* src, void* dst, int64_t n_rows,
                       int64_t n_per_row) const {
    return quantize_chunk_(ggml_type, src, dst, 0, n_rows, n_per_row, nullptr);
  }
  // ggml's own dequantizer for a type (ggml_get_type_traits(type)->to_float); null for types
  // ggml converts some other way (F32).
  const GgmlTypeTraits* BaseTraits(int ggml_type) const { return get_base_traits_(ggml_type); }
  const std::string& library() const { return library_; }

 private:
  const GgmlTypeTraits* (*get_base_traits_)(int) = nullptr;
  const GgmlTypeTraitsCpu* (*get_traits_)(int) = nullptr;
  size_t (*quantize_chunk_)(int, const float*, void*, int64_t, int64_t, int64_t,
                            const float*) = nullptr;
  std::string library_;
};

// llama.cpp's whole mul_mat operator, as its CPU backend runs it in a model: a one-node ggml
// graph y = mul_mat(W, x) computed by ggml_backend_cpu with its own thread pool, so the
// activation conversion, tinyBLAS (llamafile sgemm, F16/Q8_0/Q4_0 batches) and, with
// `repack`, the CPU_REPACK extra buffer's interleaved GEMM (Q4_0 / Q4_K / IQ4_NL on x86) are
// all what llama.cpp would use for the same shapes.
class LlamaCppMatMul {
 public:
  // Null and *why when the library, a symbol, or (with `repack`) a repacked layout for `type`
  // is missing. `weights` is copied (and repacked) into ggml's buffer.
  static std::unique_ptr<LlamaCppMatMul> Create(int ggml_type, int64_t n_rows, int64_t n_cols,
                                                int64_t n_tokens, bool repack, int n_threads,
                                                const void* weights,  // [n_rows, row_bytes]
                                                std::string* why);
  ~LlamaCppMatMul();

  void SetInput(const float* x);  // [n_tokens, n_cols]
  void Compute();
  const float* output() const;  // [n_tokens, n_rows]
  const std::string& buffer_type() const { return buffer_type_; }

 private:
  LlamaCppMatMul() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string buffer_type_;
};

}  // namespace corral::testing
