// Reads GGUF v2/v3 files (engine.md §1) in place over a memory mapping: tensor data is never
// copied. Everything is validated before use (magic, version, counts and lengths against the
// file size, overflow-checked sizes, known value and tensor types, dimensions, block multiples,
// tensor extents, duplicates), so a corrupt or hostile file gives a Status naming the problem,
// never a crash, a hang, or an allocation out of proportion to the file's size.
//
// Thread-safety: immutable after Open/Parse; safe to read from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"
#include "gguf/ggml_type.h"
#include "gguf/gguf_value.h"

namespace corral::gguf {

inline constexpr uint32_t kDefaultAlignment = 32;
inline constexpr int kMaxDims = 4;
inline constexpr size_t kMaxTensorNameBytes = 63;  // llama.cpp's GGML_MAX_NAME minus the NUL
inline constexpr uint64_t kMaxStringBytes = 1ull << 30;
inline constexpr uint64_t kMaxArrayElements = 1ull << 30;
inline constexpr int kMaxArrayNesting = 8;

struct KeyValue {
  std::string_view key;
  Value value;
};

struct TensorInfo {
  std::string_view name;
  GgmlType type = GgmlType::kF32;
  uint32_t n_dims = 0;
  std::array<uint64_t, kMaxDims> ne = {1, 1, 1, 1};  // ne[0] is the contiguous dimension
  uint64_t offset = 0;                               // from the start of the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // [n_bytes], inside the file (not necessarily 64-byte aligned)

  uint64_t row_bytes() const { return RowBytes(type, ne[0]); }
  uint64_t n_rows() const { return n_elements / (ne[0] == 0 ? 1 : ne[0]); }
  std::string ShapeString() const;  // "[4096, 32000]"
};

class GgufFile {
 public:
  // Maps and parses a file.
  static Result<std::unique_ptr<GgufFile>> Open(const std::string& path);
  // Parses bytes the caller keeps alive for the GgufFile's lifetime (tests, fuzzing).
  static Result<std::unique_ptr<GgufFile>> Parse(std::span<const uint8_t> bytes);

  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // start of the tensor data section
  uint64_t file_size() const { return bytes_.size(); }
  const std::string& path() const { return path_; }

  // Metadata in file order.
  const std::vector<KeyValue>& metadata() const { return metadata_; }
  const Value* Find(std::string_view key) const;

  // Typed lookups for model loading; errors name the key and what was expected/found.
  Result<std::string_view> GetString(std::string_view key) const;
  Result<uint64_t> GetUint(std::string_view key) const;  // any non-negative integer width
  Result<int64_t> GetInt(std::string_view key) const;
  Result<double> GetFloat(std::string_view key) const;  // f32 or f64
  Result<bool> GetBool(std::string_view key) const;
  // The array under `key`, checking its element type.
  Result<Value> GetArray(std::string_view key, ValueType element_type) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* FindTensor(std::string_view name) const;
  // Drops the mapped pages inside [p, p + n) from the resident set (MappedFile::ReleasePages);
  // nothing for a Parse()d buffer.
  void ReleasePages(const uint8_t* p, size_t n) const;
  // Copies [p, p + n) of the file's bytes to `out` without mapping its pages in
  // (MappedFile::CopyOut); a plain copy for a Parse()d buffer.
  void CopyOut(const uint8_t* p, size_t n, uint8_t* out) const;

 private:
  friend class GgufParser;
  GgufFile() = default;

  std::unique_ptr<MappedFile> mapping_;  // null for Parse()
  std::string path_;
  std::span<const uint8_t> bytes_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<KeyValue> metadata_;
  std::unordered_map<std::string_view, size_t> metadata_index_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
  std::vector<std::unique_ptr<ArrayData>> arrays_;  // storage behind array Values
};

}  // namespace corral::gguf
