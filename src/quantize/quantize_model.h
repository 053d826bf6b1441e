// `corral quantize`: converts a GGUF model to a file type (q4_K_M, q8_0, f16, ...) following
// llama.cpp's recipe (recipe.h), keeping all metadata and writing the result atomically.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "gguf/ggml_type.h"
#include "quantize/recipe.h"

namespace corral::quantize {

struct TensorProgress {
  size_t index = 0;  // 1-based
  size_t total = 0;
  std::string name;
  std::string shape;  // "[4096, 32000]"
  gguf::GgmlType from = gguf::GgmlType::kF32;
  gguf::GgmlType to = gguf::GgmlType::kF32;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
};

struct QuantizeOptions {
  FileType file_type = FileType::kQ4_K_M;
  // Quantized sources lose precision twice; like llama.cpp, refuse unless asked.
  bool allow_requantize = false;
  int n_threads = 0;                                     // 0: all cores
  std::function<void(const TensorProgress&)> on_tensor;  // after each tensor is planned
};

struct QuantizeReport {
  uint64_t bytes_in = 0;   // tensor data in the source
  uint64_t bytes_out = 0;  // tensor data in the result
  size_t n_tensors = 0;
  size_t n_converted = 0;  // tensors whose type changed
  int n_fallback = 0;      // tensors that took a fallback type (rows not divisible)
};

Result<QuantizeReport> QuantizeModel(const std::string& input_path, const std::string& output_path,
                                     const QuantizeOptions& options);

}  // namespace corral::quantize
