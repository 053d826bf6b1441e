#include "gguf/gguf_reader.h"

#include <cstring>
#include <limits>

namespace corral::gguf {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32

std::string Quoted(std::string_view s) {
  std::string out = "'";
  for (unsigned char c : s.substr(0, 80)) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  out += s.size() > 80 ? "...'" : "'";
  return out;
}

bool MulOverflows(uint64_t a, uint64_t b, uint64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}
bool AddOverflows(uint64_t a, uint64_t b, uint64_t* out) {
  return __builtin_add_overflow(a, b, out);
}

}  // namespace

// Walks the bytes with a cursor; every read is checked against the end.
class GgufParser {
 public:
  GgufParser(GgufFile* file) : file_(file), bytes_(file->bytes_) {}

  Status Run() {
    RETURN_IF_ERROR(ParseHeader());
    RETURN_IF_ERROR(ParseMetadata());
    RETURN_IF_ERROR(ParseTensorInfos());
    return PlaceTensors();
  }

 private:
  uint64_t remaining() const { return bytes_.size() - pos_; }

  Status Truncated(std::string_view what) const {
    return CorruptionError("file is truncated: " + std::string(what) + " at byte " +
                           std::to_string(pos_) + " runs past the end of the file (" +
                           std::to_string(bytes_.size()) + " bytes)");
  }

  template <typename T>
  Status Read(T* out, std::string_view what) {
    if (remaining() < sizeof(T)) return Truncated(what);
    std::memcpy(out, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::Ok();
  }

  Status ReadString(std::string_view* out, std::string_view what) {
    uint64_t len = 0;
    RETURN_IF_ERROR(Read(&len, what));
    if (len > kMaxStringBytes) {
      return CorruptionError(std::string(what) + " declares a length of " + std::to_string(len) +
                             " bytes (the limit is 1 GiB)");
    }
    if (len > remaining())
      return Truncated(std::string(what) + " of " + std::to_string(len) + " bytes");
    *out = std::string_view(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    pos_ += len;
    return Status::Ok();
  }

  Status ParseHeader() {
    uint32_t magic = 0;
    if (remaining() < 4) {
      return CorruptionError("not a GGUF file: it is only " + std::to_string(bytes_.size()) +
                             " bytes long");
    }
    RETURN_IF_ERROR(Read(&magic, "magic"));
    if (magic != kMagic) {
      return CorruptionError(
          "not a GGUF file: the magic is " +
          Quoted(std::string_view(reinterpret_cast<const char*>(bytes_.data()), 4)) +
          ", expected 'GGUF'");
    }
    RETURN_IF_ERROR(Read(&file_->version_, "version"));
    uint32_t version = file_->version_;
    if ((version & 0xFFFF) == 0 && version != 0) {
      return UnsupportedError("GGUF file is big-endian (version field " + std::to_string(version) +
                              "); only little-endian files are supported");
    }
    if (version == 1) return UnsupportedError("GGUF version 1 is not supported (use v2 or v3)");
    if (version != 2 && version != 3) {
      return UnsupportedError("unknown GGUF version " + std::to_string(version) +
                              " (supported: 2, 3)");
    }
    RETURN_IF_ERROR(Read(&n_tensors_, "tensor count"));
    RETURN_IF_ERROR(Read(&n_kv_, "metadata count"));
    // Each metadata entry takes at least 13 bytes (key length, type, 1-byte value) and each
    // tensor info at least 24, so larger counts cannot be honest; checking now keeps a hostile
    // count from driving a huge reserve().
    uint64_t need = 0;
    if (MulOverflows(n_kv_, 13, &need) || need > remaining()) {
      return CorruptionError("the header declares " + std::to_string(n_kv_) +
                             " metadata entries, more than the file's " +
                             std::to_string(remaining()) + " remaining bytes can hold");
    }
    if (MulOverflows(n_tensors_, 24, &need) || need > remaining()) {
      return CorruptionError("the header declares " + std::to_string(n_tensors_) +
                             " tensors, more than the file's " + std::to_string(remaining()) +
                             " remaining bytes can hold");
    }
    return Status::Ok();
  }

  Status ParseValue(ValueType type, std::string_view key, int depth, Value* out) {
    if (type == ValueType::kString) {
      std::string_view s;
      RETURN_IF_ERROR(ReadString(&s, "the string value of key " + Quoted(key)));
      *out = Value::String(s);
      return Status::Ok();
    }
    if (type != ValueType::kArray) {
      uint32_t size = ScalarSize(type);
      if (remaining() < size) return Truncated("the value of key " + Quoted(key));
      *out = Value::Scalar(type, bytes_.data() + pos_);
      pos_ += size;
      return Status::Ok();
    }
    if (depth >= kMaxArrayNesting) {
      return CorruptionError("key " + Quoted(key) + ": arrays nested deeper than " +
                             std::to_string(kMaxArrayNesting) + " levels");
    }
    uint32_t tag = 0;
    uint64_t count = 0;
    RETURN_IF_ERROR(Read(&tag, "the array element type of key " + Quoted(key)));
    if (!IsKnownValueType(tag)) {
      return CorruptionError("key " + Quoted(key) + ": unknown array element type " +
                             std::to_string(tag) + " (known: 0..12)");
    }
    RETURN_IF_ERROR(Read(&count, "the array length of key " + Quoted(key)));
    if (count > kMaxArrayElements) {
      return CorruptionError("key " + Quoted(key) + ": array of " + std::to_string(count) +
                             " elements (the limit is 2^30)");
    }
    auto element_type = static_cast<ValueType>(tag);
    // Smallest possible encoding of one element: its fixed size, 8 bytes for a string length,
    // 12 for a nested array header.
    uint64_t min_element = element_type == ValueType::kString  ? 8
                           : element_type == ValueType::kArray ? 12
                                                               : ScalarSize(element_type);
    uint64_t need = 0;
    if (MulOverflows(count, min_element, &need) || need > remaining()) {
      return Truncated("the " + std::to_string(count) + "-element array of key " + Quoted(key));
    }
    auto array = std::make_unique<ArrayData>();
    array->element_type = element_type;
    array->count = count;
    if (element_type == ValueType::kString) {
      array->strings.resize(count);
      for (uint64_t i = 0; i < count; ++i) {
        RETURN_IF_ERROR(ReadString(&array->strings[i],
                                   "element " + std::to_string(i) + " of key " + Quoted(key)));
      }
    } else if (element_type == ValueType::kArray) {
      array->arrays.resize(count);
      for (uint64_t i = 0; i < count; ++i) {
        RETURN_IF_ERROR(ParseValue(ValueType::kArray, key, depth + 1, &array->arrays[i]));
      }
    } else {
      array->raw = bytes_.data() + pos_;
      pos_ += need;
    }
    *out = Value::Array(array.get());
    file_->arrays_.push_back(std::move(array));
    return Status::Ok();
  }

  Status ParseMetadata() {
    file_->metadata_.reserve(n_kv_);
    for (uint64_t i = 0; i < n_kv_; ++i) {
      std::string_view key;
      RETURN_IF_ERROR(ReadString(&key, "the key of metadata entry " + std::to_string(i)));
      if (key.empty()) {
        return CorruptionError("metadata entry " + std::to_string(i) + " has an empty key");
      }
      uint32_t tag = 0;
      RETURN_IF_ERROR(Read(&tag, "the value type of key " + Quoted(key)));
      if (!IsKnownValueType(tag)) {
        return CorruptionError("key " + Quoted(key) + ": unknown value type " +
                               std::to_string(tag) + " (known: 0..12)");
      }
      Value value;
      RETURN_IF_ERROR(ParseValue(static_cast<ValueType>(tag), key, 0, &value));
      if (!file_->metadata_index_.emplace(key, file_->metadata_.size()).second) {
        return CorruptionError("duplicate metadata key " + Quoted(key));
      }
      file_->metadata_.push_back({key, value});
    }
    if (const Value* align = file_->Find("general.alignment")) {
      std::optional<uint64_t> a = align->AsUint();
      if (!a || *a == 0 || (*a & (*a - 1)) != 0 || *a > (1u << 30)) {
        return CorruptionError("general.alignment must be a power of two integer, found " +
                               align->ToDisplayString());
      }
      file_->alignment_ = static_cast<uint32_t>(*a);
    }
    return Status::Ok();
  }

  Status ParseTensorInfos() {
    file_->tensors_.reserve(n_tensors_);
    for (uint64_t i = 0; i < n_tensors_; ++i) {
      TensorInfo t;
      RETURN_IF_ERROR(ReadString(&t.name, "the name of tensor " + std::to_string(i)));
      std::string label = "tensor " + Quoted(t.name);
      if (t.name.empty())
        return CorruptionError("tensor " + std::to_string(i) + " has an empty name");
      if (t.name.size() > kMaxTensorNameBytes) {
        return CorruptionError(label + ": name is " + std::to_string(t.name.size()) +
                               " bytes long (the limit is 63)");
      }
      RETURN_IF_ERROR(Read(&t.n_dims, "the dimension count of " + label));
      if (t.n_dims > kMaxDims) {
        return CorruptionError(label + " has " + std::to_string(t.n_dims) +
                               " dimensions (at most 4)");
      }
      for (uint32_t d = 0; d < t.n_dims; ++d) {
        RETURN_IF_ERROR(Read(&t.ne[d], "the dimensions of " + label));
        if (t.ne[d] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return CorruptionError(label + ": dimension " + std::to_string(d) + " is negative");
        }
      }
      uint32_t type_id = 0;
      RETURN_IF_ERROR(Read(&type_id, "the type of " + label));
      std::optional<GgmlTypeInfo> info = LookupType(type_id);
      if (!info) {
        return UnsupportedError(label + " has unknown tensor type " + std::to_string(type_id));
      }
      t.type = info->type;
      RETURN_IF_ERROR(Read(&t.offset, "the data offset of " + label));

      uint64_t n = 1;
      for (uint64_t ne : t.ne) {
        if (MulOverflows(n, ne, &n) ||
            n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return CorruptionError(label + " has " + t.ShapeString() +
                                 " elements, which overflows a 64-bit count");
        }
      }
      t.n_elements = n;
      if (t.ne[0] % info->block_size != 0) {
        return CorruptionError(label + ": its rows of " + std::to_string(t.ne[0]) +
                               " elements are not a multiple of the " + std::string(info->name) +
                               " block size " + std::to_string(info->block_size));
      }
      // Bytes = blocks * type_size; n / block_size blocks exactly since ne[0] divides.
      if (MulOverflows(n / info->block_size, info->type_size, &t.n_bytes)) {
        return CorruptionError(label + ": byte size overflows");
      }
      if (t.offset % file_->alignment_ != 0) {
        return CorruptionError(label + ": data offset " + std::to_string(t.offset) +
                               " is not a multiple of the alignment " +
                               std::to_string(file_->alignment_));
      }
      if (!file_->tensor_index_.emplace(t.name, file_->tensors_.size()).second) {
        return CorruptionError("duplicate tensor name " + Quoted(t.name));
      }
      file_->tensors_.push_back(t);
    }
    return Status::Ok();
  }

  Status PlaceTensors() {
    uint64_t a = file_->alignment_;
    uint64_t data_offset = pos_ + (a - pos_ % a) % a;
    file_->data_offset_ = data_offset;
    if (file_->tensors_.empty()) return Status::Ok();
    if (data_offset > bytes_.size()) {
      return CorruptionError("file is truncated: the tensor data section would start at byte " +
                             std::to_string(data_offset) + ", past the end of the file (" +
                             std::to_string(bytes_.size()) + " bytes)");
    }
    for (TensorInfo& t : file_->tensors_) {
      uint64_t start = 0, end = 0;
      if (AddOverflows(data_offset, t.offset, &start) || AddOverflows(start, t.n_bytes, &end) ||
          end > bytes_.size()) {
        return CorruptionError("tensor " + Quoted(t.name) + " (" + t.ShapeString() + " " +
                               std::string(TypeInfo(t.type).name) + ", " +
                               std::to_string(t.n_bytes) + " bytes at data offset " +
                               std::to_string(t.offset) + ") extends past the end of the file (" +
                               std::to_string(bytes_.size()) + " bytes)");
      }
      t.data = bytes_.data() + start;
      // Block structs hold f16/f32 fields: their data must be at least 4-byte aligned, which
      // GGUF's default 32-byte alignment gives every real file.
      if (reinterpret_cast<uintptr_t>(t.data) % 4 != 0) {
        return UnsupportedError(
            "tensor " + Quoted(t.name) + ": its data at byte " + std::to_string(start) +
            " is not 4-byte aligned (general.alignment " + std::to_string(file_->alignment_) + ")");
      }
    }
    return Status::Ok();
  }

  GgufFile* file_;
  std::span<const uint8_t> bytes_;
  uint64_t pos_ = 0;
  uint64_t n_tensors_ = 0;
  uint64_t n_kv_ = 0;
};

std::string TensorInfo::ShapeString() const {
  std::string out = "[";
  uint32_t dims = n_dims == 0 ? 1 : n_dims;
  for (uint32_t d = 0; d < dims; ++d) out += (d ? ", " : "") + std::to_string(ne[d]);
  return out + "]";
}

Result<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> mapping, MappedFile::Open(path));
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->bytes_ = mapping->bytes();
  file->mapping_ = std::move(mapping);
  file->path_ = path;
  GgufParser parser(file.get());
  if (Status s = parser.Run(); !s.ok()) return s.WithContext(path);
  return file;
}

Result<std::unique_ptr<GgufFile>> GgufFile::Parse(std::span<const uint8_t> bytes) {
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->bytes_ = bytes;
  GgufParser parser(file.get());
  RETURN_IF_ERROR(parser.Run());
  return file;
}

const Value* GgufFile::Find(std::string_view key) const {
  auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].value;
}

namespace {
Status WrongType(std::string_view key, std::string_view expected, const Value& v) {
  return InvalidArgumentError("metadata key '" + std::string(key) + "' should be " +
                              std::string(expected) + ", found " +
                              std::string(ValueTypeName(v.type())) + " " + v.ToDisplayString());
}
Status Missing(std::string_view key) {
  return NotFoundError("metadata key '" + std::string(key) + "' is missing");
}
}  // namespace

Result<std::string_view> GgufFile::GetString(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (auto s = v->AsString()) return *s;
  return WrongType(key, "a string", *v);
}

Result<uint64_t> GgufFile::GetUint(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (auto u = v->AsUint()) return *u;
  return WrongType(key, "a non-negative integer", *v);
}

Result<int64_t> GgufFile::GetInt(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (auto i = v->AsInt()) return *i;
  return WrongType(key, "an integer", *v);
}

Result<double> GgufFile::GetFloat(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (auto f = v->AsFloat()) return *f;
  return WrongType(key, "a float", *v);
}

Result<bool> GgufFile::GetBool(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (auto b = v->AsBool()) return *b;
  return WrongType(key, "a bool", *v);
}

Result<Value> GgufFile::GetArray(std::string_view key, ValueType element_type) const {
  const Value* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (!v->is_array() || v->element_type() != element_type) {
    return WrongType(key, "an array of " + std::string(ValueTypeName(element_type)), *v);
  }
  return *v;
}

const TensorInfo* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

void GgufFile::ReleasePages(const uint8_t* p, size_t n) const {
  if (mapping_ != nullptr) mapping_->ReleasePages(p, n);
}

void GgufFile::CopyOut(const uint8_t* p, size_t n, uint8_t* out) const {
  if (mapping_ != nullptr) {
    mapping_->CopyOut(p, n, out);
  } else {
    std::memcpy(out, p, n);
  }
}

}  // namespace corral::gguf
