// Quantization recipes: which type each tensor of a model gets for a file type such as
// q4_K_M. These are llama.cpp's rules (llama-quant.cpp, which `ollama create --quantize` runs):
// the file type's default type for 2-D weights, more bits for the output matrix, for attn_v
// and ffn_down on the layers use_more_bits() picks, fallbacks when rows do not divide into the
// type's blocks, and norms, biases and other 1-D tensors left as they are. No importance matrix.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "gguf/ggml_type.h"

namespace corral::quantize {

// llama.cpp's llama_ftype values (stored as general.file_type).
enum class FileType : uint32_t {
  kAllF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ8_0 = 7,
  kQ5_0 = 8,
  kQ5_1 = 9,
  kQ2_K = 10,
  kQ3_K_S = 11,
  kQ3_K_M = 12,
  kQ3_K_L = 13,
  kQ4_K_S = 14,
  kQ4_K_M = 15,
  kQ5_K_S = 16,
  kQ5_K_M = 17,
  kQ6_K = 18,
  kIQ4_NL = 25,
  kIQ4_XS = 30,
  kBF16 = 32,
};

// "q4_K_M", "Q4_K_M", "q4_k_m" -> kQ4_K_M; nullopt for names we cannot produce.
std::optional<FileType> FileTypeFromName(std::string_view name);
std::string_view FileTypeName(FileType type);  // "Q4_K_M"
// Names accepted by FileTypeFromName, for help and error messages.
std::string FileTypeNames();

// The type 2-D weights get before any per-tensor rule.
gguf::GgmlType DefaultType(FileType type);

// What the rules need to know about a tensor.
struct TensorShape {
  std::string name;
  gguf::GgmlType type;  // its type in the source file
  uint32_t n_dims;
  uint64_t ne0;      // row length
  uint64_t ne2 = 1;  // experts (3-D tensors)
};

struct ModelFacts {
  std::string architecture;  // general.architecture
  uint32_t n_layer = 0;      // {arch}.block_count
  uint32_t n_head = 0;       // {arch}.attention.head_count
  uint32_t n_head_kv = 0;    // {arch}.attention.head_count_kv (= n_head when absent)
  uint32_t n_expert = 0;     // {arch}.expert_count
};

// Plans the types for every tensor of a model, in the order of `tensors` (which must be the
// order llama.cpp iterates: see SortLikeLlamaCpp). Returns one type per tensor.
class Recipe {
 public:
  Recipe(FileType file_type, ModelFacts facts, const std::vector<TensorShape>& tensors);

  // The type tensor `i` gets. Call once per tensor, in order (the attn_v and ffn_down rules
  // count the tensors seen so far, as llama.cpp does).
  gguf::GgmlType Next(const TensorShape& tensor);

  // Whether llama.cpp would quantize this tensor at all (2-D+, a ".weight", not a norm, ...).
  static bool AllowsQuantization(std::string_view arch, const TensorShape& tensor);

  // How many tensors fell back to another type because their rows do not divide.
  int n_fallback() const { return n_fallback_; }

 private:
  gguf::GgmlType PerTensorType(gguf::GgmlType type, const TensorShape& tensor);
  gguf::GgmlType Fallback(gguf::GgmlType type, const TensorShape& tensor);

  FileType file_type_;
  ModelFacts facts_;
  bool has_tied_embeddings_ = true;
  int n_attention_wv_ = 0;
  int i_attention_wv_ = 0;
  int i_ffn_down_ = 0;
  int n_fallback_ = 0;
};

// llama.cpp visits tensors sorted by layer number ("blk.N.", numerically; tensors outside a
// layer first) and then by name; the per-layer counters above depend on that order.
void SortLikeLlamaCpp(std::vector<TensorShape>* tensors);

}  // namespace corral::quantize
