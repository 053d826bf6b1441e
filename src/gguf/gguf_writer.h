// Writes GGUF v3 files that llama.cpp loads: metadata in the order given, tensor infos, and the
// tensor data stored densely in order, each tensor aligned to `general.alignment` (32 unless
// set). The file appears atomically: it is written to a temporary file beside the target,
// fsynced, then renamed over it, so a crash never leaves a half-written model.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "gguf/ggml_type.h"
#include "gguf/gguf_value.h"

namespace corral::gguf {

// A metadata value ready to write: its type tag and its encoded bytes (without the tag).
class MetaValue {
 public:
  static MetaValue U8(uint8_t v);
  static MetaValue I8(int8_t v);
  static MetaValue U16(uint16_t v);
  static MetaValue I16(int16_t v);
  static MetaValue U32(uint32_t v);
  static MetaValue I32(int32_t v);
  static MetaValue U64(uint64_t v);
  static MetaValue I64(int64_t v);
  static MetaValue F32(float v);
  static MetaValue F64(double v);
  static MetaValue Bool(bool v);
  static MetaValue String(std::string_view v);
  static MetaValue StringArray(const std::vector<std::string>& v);
  static MetaValue F32Array(const std::vector<float>& v);
  static MetaValue I32Array(const std::vector<int32_t>& v);
  static MetaValue U32Array(const std::vector<uint32_t>& v);
  // An array of values that all have the same type (nested arrays allowed; CHECKs the types).
  static MetaValue Array(ValueType element_type, const std::vector<MetaValue>& elements);
  // A copy of a value read from another file (for `corral quantize`, which keeps metadata).
  static MetaValue From(const Value& value);

  ValueType type() const { return type_; }
  const std::string& encoded() const { return encoded_; }

 private:
  ValueType type_ = ValueType::kUint8;
  std::string encoded_;
};

class GgufWriter {
 public:
  // Fills `out` ([n_bytes] of the tensor, already sized) with the tensor's data.
  using TensorFill = std::function<Status(std::span<uint8_t> out)>;

  explicit GgufWriter(uint32_t alignment = 32);

  // Adds or replaces a metadata entry (a replaced key keeps its place). Empty keys and
  // "general.alignment" (set through the constructor) are refused.
  Status Set(std::string_view key, MetaValue value);

  // Adds a tensor. `shape` lists ne[0] (contiguous) first, 1 to 4 dimensions; ne[0] must be a
  // multiple of the type's block size; names are unique and at most 63 bytes.
  Status AddTensor(std::string_view name, GgmlType type, std::vector<uint64_t> shape,
                   TensorFill fill);
  // Same, copying `data` (exactly the tensor's size) into the file during Write(): the bytes
  // are not copied now, so they must stay valid until Write() returns (a mapped source file,
  // for example, which is how `corral quantize` avoids holding a model in memory twice).
  Status AddTensor(std::string_view name, GgmlType type, std::vector<uint64_t> shape,
                   std::span<const uint8_t> data);

  size_t n_tensors() const { return tensors_.size(); }

  // Writes the file atomically (temp file + fsync + rename). `progress` (optional) is called
  // after each tensor with (tensors written, total).
  Status Write(const std::string& path,
               const std::function<void(size_t done, size_t total)>& progress = nullptr) const;

  // The whole file in memory (tests, small fixtures).
  Result<std::vector<uint8_t>> WriteToBuffer() const;

 private:
  struct PendingTensor {
    std::string name;
    GgmlType type;
    std::vector<uint64_t> shape;
    uint64_t n_bytes;
    uint64_t offset;  // in the data section
    TensorFill fill;
  };
  std::string EncodeHeader() const;
  Status WriteAll(const std::function<Status(std::string_view)>& sink,
                  const std::function<void(size_t, size_t)>& progress) const;

  uint32_t alignment_;
  std::vector<std::pair<std::string, MetaValue>> metadata_;
  std::vector<PendingTensor> tensors_;
  uint64_t data_size_ = 0;
};

}  // namespace corral::gguf
