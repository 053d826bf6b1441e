// GGUF metadata values as read from a file. A Value is a small handle into storage owned by
// the GgufFile it came from (strings and numeric arrays point into the mapped file); it is
// valid as long as that GgufFile lives.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corral::gguf {

// Metadata value type tags as stored (u32).
enum class ValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

std::string_view ValueTypeName(ValueType type);  // "u32", "string", "array", ...
bool IsKnownValueType(uint32_t tag);
// Bytes of one scalar of a fixed-size type; 0 for string and array.
uint32_t ScalarSize(ValueType type);
bool IsIntegerType(ValueType type);

class Value;

// Storage of one array; owned by the GgufFile.
struct ArrayData {
  ValueType element_type = ValueType::kUint8;
  uint64_t count = 0;
  const uint8_t* raw = nullptr;           // [count * ScalarSize] for fixed-size elements
  std::vector<std::string_view> strings;  // [count] for string elements
  std::vector<Value> arrays;              // [count] for nested arrays
};

class Value {
 public:
  Value() = default;
  static Value Scalar(ValueType type, const uint8_t* raw) {  // raw: [ScalarSize(type)]
    Value v;
    v.type_ = type;
    v.raw_ = raw;
    return v;
  }
  static Value String(std::string_view s) {
    Value v;
    v.type_ = ValueType::kString;
    v.string_ = s;
    return v;
  }
  static Value Array(const ArrayData* array) {
    Value v;
    v.type_ = ValueType::kArray;
    v.array_ = array;
    return v;
  }

  ValueType type() const { return type_; }
  bool is_array() const { return type_ == ValueType::kArray; }

  // Scalars. AsUint/AsInt accept every integer width (converters write u32 where the spec says
  // u64) and fail on a value that does not fit; AsFloat accepts f32 and f64.
  std::optional<uint64_t> AsUint() const;
  std::optional<int64_t> AsInt() const;
  std::optional<double> AsFloat() const;
  std::optional<bool> AsBool() const;  // any non-zero byte is true, as llama.cpp reads it
  std::optional<std::string_view> AsString() const;

  // Arrays (array_size() is 0 for non-arrays).
  ValueType element_type() const;
  uint64_t array_size() const;
  Value Element(uint64_t index) const;  // CHECKs the index
  const ArrayData* array() const { return array_; }

  // A short human-readable rendering: scalars in full, strings quoted (cut at `max_chars`),
  // arrays as "[N x type]" with their first few elements.
  std::string ToDisplayString(size_t max_chars = 60) const;

 private:
  ValueType type_ = ValueType::kUint8;
  const uint8_t* raw_ = nullptr;  // scalar bytes, little-endian, possibly unaligned
  std::string_view string_;
  const ArrayData* array_ = nullptr;
};

}  // namespace corral::gguf
