#include "gguf/gguf_value.h"

#include <cstring>
#include <limits>

#include "base/check.h"

namespace corral::gguf {
namespace {

template <typename T>
T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

std::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kUint8:
      return "u8";
    case ValueType::kInt8:
      return "i8";
    case ValueType::kUint16:
      return "u16";
    case ValueType::kInt16:
      return "i16";
    case ValueType::kUint32:
      return "u32";
    case ValueType::kInt32:
      return "i32";
    case ValueType::kFloat32:
      return "f32";
    case ValueType::kBool:
      return "bool";
    case ValueType::kString:
      return "string";
    case ValueType::kArray:
      return "array";
    case ValueType::kUint64:
      return "u64";
    case ValueType::kInt64:
      return "i64";
    case ValueType::kFloat64:
      return "f64";
  }
  return "?";
}

bool IsKnownValueType(uint32_t tag) { return tag <= static_cast<uint32_t>(ValueType::kFloat64); }

uint32_t ScalarSize(ValueType type) {
  switch (type) {
    case ValueType::kUint8:
    case ValueType::kInt8:
    case ValueType::kBool:
      return 1;
    case ValueType::kUint16:
    case ValueType::kInt16:
      return 2;
    case ValueType::kUint32:
    case ValueType::kInt32:
    case ValueType::kFloat32:
      return 4;
    case ValueType::kUint64:
    case ValueType::kInt64:
    case ValueType::kFloat64:
      return 8;
    case ValueType::kString:
    case ValueType::kArray:
      return 0;
  }
  return 0;
}

bool IsIntegerType(ValueType type) {
  switch (type) {
    case ValueType::kUint8:
    case ValueType::kInt8:
    case ValueType::kUint16:
    case ValueType::kInt16:
    case ValueType::kUint32:
    case ValueType::kInt32:
    case ValueType::kUint64:
    case ValueType::kInt64:
      return true;
    default:
      return false;
  }
}

std::optional<int64_t> Value::AsInt() const {
  switch (type_) {
    case ValueType::kUint8:
      return Load<uint8_t>(raw_);
    case ValueType::kInt8:
      return Load<int8_t>(raw_);
    case ValueType::kUint16:
      return Load<uint16_t>(raw_);
    case ValueType::kInt16:
      return Load<int16_t>(raw_);
    case ValueType::kUint32:
      return Load<uint32_t>(raw_);
    case ValueType::kInt32:
      return Load<int32_t>(raw_);
    case ValueType::kInt64:
      return Load<int64_t>(raw_);
    case ValueType::kUint64: {
      uint64_t v = Load<uint64_t>(raw_);
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
      return static_cast<int64_t>(v);
    }
    default:
      return std::nullopt;
  }
}

std::optional<uint64_t> Value::AsUint() const {
  if (type_ == ValueType::kUint64) return Load<uint64_t>(raw_);
  std::optional<int64_t> v = AsInt();
  if (!v || *v < 0) return std::nullopt;
  return static_cast<uint64_t>(*v);
}

std::optional<double> Value::AsFloat() const {
  if (type_ == ValueType::kFloat32) return Load<float>(raw_);
  if (type_ == ValueType::kFloat64) return Load<double>(raw_);
  return std::nullopt;
}

std::optional<bool> Value::AsBool() const {
  if (type_ != ValueType::kBool) return std::nullopt;
  return Load<uint8_t>(raw_) != 0;
}

std::optional<std::string_view> Value::AsString() const {
  if (type_ != ValueType::kString) return std::nullopt;
  return string_;
}

ValueType Value::element_type() const {
  return array_ != nullptr ? array_->element_type : ValueType::kUint8;
}

uint64_t Value::array_size() const { return array_ != nullptr ? array_->count : 0; }

Value Value::Element(uint64_t index) const {
  CHECK(array_ != nullptr && index < array_->count) << "array index " << index << " out of range";
  switch (array_->element_type) {
    case ValueType::kString:
      return String(array_->strings[index]);
    case ValueType::kArray:
      return array_->arrays[index];
    default:
      return Scalar(array_->element_type, array_->raw + index * ScalarSize(element_type()));
  }
}

std::string Value::ToDisplayString(size_t max_chars) const {
  switch (type_) {
    case ValueType::kString: {
      std::string s(string_.substr(0, max_chars));
      std::string out = "\"";
      for (char c : s) {
        if (c == '\n') {
          out += "\\n";
        } else if (c == '"') {
          out += "\\\"";
        } else {
          out += c;
        }
      }
      out += string_.size() > max_chars ? "\"..." : "\"";
      return out;
    }
    case ValueType::kArray: {
      std::string out = "[" + std::to_string(array_size()) + " x " +
                        std::string(ValueTypeName(element_type())) + "]";
      uint64_t shown = std::min<uint64_t>(array_size(), 5);
      if (shown > 0) {
        out += " ";
        for (uint64_t i = 0; i < shown; ++i) {
          if (i > 0) out += ", ";
          out += Element(i).ToDisplayString(20);
        }
        if (array_size() > shown) out += ", ...";
      }
      return out;
    }
    case ValueType::kBool:
      return *AsBool() ? "true" : "false";
    case ValueType::kFloat32:
    case ValueType::kFloat64: {
      char buf[48];
      std::snprintf(buf, sizeof buf, "%.9g", *AsFloat());
      return buf;
    }
    case ValueType::kUint64:
      return std::to_string(*AsUint());
    default:
      return std::to_string(*AsInt());
  }
}

}  // namespace corral::gguf
