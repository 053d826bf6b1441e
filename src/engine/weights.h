// Views of a model's tensors inside the mapped GGUF file, bound by name with their shapes and
// types checked at load, so the forward pass never meets a surprise.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "gguf/ggml_type.h"
#include "gguf/gguf_reader.h"
#include "kernels/gemm.h"

namespace corral::engine {

// A weight matrix of n_rows rows of n_cols elements in ggml block layout (ne = [n_cols, n_rows]),
// used in y = W·x. Points into the mapped file; `data == nullptr` means the tensor is absent.
struct Weight {
  gguf::GgmlType type = gguf::GgmlType::kF32;
  int64_t n_cols = 0;
  int64_t n_rows = 0;
  size_t row_bytes = 0;
  const uint8_t* data = nullptr;  // [n_rows, row_bytes]
  // The same matrix repacked into 16-row panels at load (kernels/gemm.h), when that pays on
  // this CPU; owned by the Model.
  const kernels::PackedWeights* packed = nullptr;

  bool present() const { return data != nullptr; }
  const uint8_t* Row(int64_t r) const { return data + static_cast<size_t>(r) * row_bytes; }
};

// A 1-D float tensor (norm weights, biases), always F32 in memory and always a copy (these are
// tiny): an F16/BF16 one is converted once at load, and even an F32 one is not read from the
// mapping, where touching it would map the whole page-cache folio around it (up to 2 MiB) and
// bring back pages of the released matrices beside it.
struct Vector {
  const float* data = nullptr;  // [n]
  int64_t n = 0;
  std::vector<float> owned;  // storage when converted

  bool present() const { return data != nullptr; }
};

// Looks tensors up by name and checks them. Each missing required tensor, wrong shape or
// unsupported type is a Status naming the tensor, what was expected and what was found.
class WeightBinder {
 public:
  explicit WeightBinder(const gguf::GgufFile& file) : file_(file) {}

  // A matrix [n_cols, n_rows] (ggml ne order). n_rows < 0 accepts any row count (token_embd's
  // row count is the vocabulary size, read from it). The type must have a dot kernel, or, with
  // rows_only, at least a dequantizer (token embeddings are read row by row).
  Result<Weight> Matrix(const std::string& name, int64_t n_cols, int64_t n_rows,
                        bool rows_only = false) const;
  // The same, or an absent Weight when the file has no tensor of that name.
  Result<Weight> OptionalMatrix(const std::string& name, int64_t n_cols, int64_t n_rows) const;

  Result<Vector> Vec(const std::string& name, int64_t n) const;
  Result<Vector> OptionalVec(const std::string& name, int64_t n) const;

  bool Has(const std::string& name) const { return file_.FindTensor(name) != nullptr; }

 private:
  const gguf::GgufFile& file_;
};

// "blk.3.attn_q.weight"
std::string LayerTensor(int64_t layer, std::string_view name);

}  // namespace corral::engine
