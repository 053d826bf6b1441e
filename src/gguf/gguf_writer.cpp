#include "gguf/gguf_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "gguf/gguf_reader.h"

namespace corral::gguf {
namespace {

template <typename T>
void Append(std::string* out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof v);
  out->append(buf, sizeof v);
}

void AppendString(std::string* out, std::string_view s) {
  Append<uint64_t>(out, s.size());
  out->append(s);
}

uint64_t AlignUp(uint64_t x, uint64_t a) { return x + (a - x % a) % a; }

template <typename T>
MetaValue ScalarArray(ValueType element_type, const std::vector<T>& v, MetaValue (*make)(T)) {
  std::vector<MetaValue> elements;
  elements.reserve(v.size());
  for (T x : v) elements.push_back(make(x));
  return MetaValue::Array(element_type, elements);
}

}  // namespace

#define CORRAL_SCALAR_META(Name, CType, Tag) \
  MetaValue MetaValue::Name(CType v) {       \
    MetaValue m;                             \
    m.type_ = ValueType::Tag;                \
    Append<CType>(&m.encoded_, v);           \
    return m;                                \
  }
CORRAL_SCALAR_META(U8, uint8_t, kUint8)
CORRAL_SCALAR_META(I8, int8_t, kInt8)
CORRAL_SCALAR_META(U16, uint16_t, kUint16)
CORRAL_SCALAR_META(I16, int16_t, kInt16)
CORRAL_SCALAR_META(U32, uint32_t, kUint32)
CORRAL_SCALAR_META(I32, int32_t, kInt32)
CORRAL_SCALAR_META(U64, uint64_t, kUint64)
CORRAL_SCALAR_META(I64, int64_t, kInt64)
CORRAL_SCALAR_META(F32, float, kFloat32)
CORRAL_SCALAR_META(F64, double, kFloat64)
#undef CORRAL_SCALAR_META

MetaValue MetaValue::Bool(bool v) {
  MetaValue m;
  m.type_ = ValueType::kBool;
  Append<uint8_t>(&m.encoded_, v ? 1 : 0);
  return m;
}

MetaValue MetaValue::String(std::string_view v) {
  MetaValue m;
  m.type_ = ValueType::kString;
  AppendString(&m.encoded_, v);
  return m;
}

MetaValue MetaValue::StringArray(const std::vector<std::string>& v) {
  MetaValue m;
  m.type_ = ValueType::kArray;
  Append<uint32_t>(&m.encoded_, static_cast<uint32_t>(ValueType::kString));
  Append<uint64_t>(&m.encoded_, v.size());
  for (const std::string& s : v) AppendString(&m.encoded_, s);
  return m;
}

MetaValue MetaValue::F32Array(const std::vector<float>& v) {
  return ScalarArray<float>(ValueType::kFloat32, v, &MetaValue::F32);
}
MetaValue MetaValue::I32Array(const std::vector<int32_t>& v) {
  return ScalarArray<int32_t>(ValueType::kInt32, v, &MetaValue::I32);
}
MetaValue MetaValue::U32Array(const std::vector<uint32_t>& v) {
  return ScalarArray<uint32_t>(ValueType::kUint32, v, &MetaValue::U32);
}

MetaValue MetaValue::Array(ValueType element_type, const std::vector<MetaValue>& elements) {
  MetaValue m;
  m.type_ = ValueType::kArray;
  Append<uint32_t>(&m.encoded_, static_cast<uint32_t>(element_type));
  Append<uint64_t>(&m.encoded_, elements.size());
  for (const MetaValue& e : elements) {
    CHECK(e.type_ == element_type) << "array element of type " << ValueTypeName(e.type_)
                                   << " in an array of " << ValueTypeName(element_type);
    m.encoded_ += e.encoded_;
  }
  return m;
}

MetaValue MetaValue::From(const Value& value) {
  if (value.is_array()) {
    MetaValue m;
    m.type_ = ValueType::kArray;
    const ArrayData* a = value.array();
    Append<uint32_t>(&m.encoded_, static_cast<uint32_t>(a->element_type));
    Append<uint64_t>(&m.encoded_, a->count);
    if (a->element_type == ValueType::kString) {
      for (std::string_view s : a->strings) AppendString(&m.encoded_, s);
    } else if (a->element_type == ValueType::kArray) {
      for (const Value& nested : a->arrays) m.encoded_ += From(nested).encoded_;
    } else {
      m.encoded_.append(reinterpret_cast<const char*>(a->raw),
                        a->count * ScalarSize(a->element_type));
    }
    return m;
  }
  if (value.type() == ValueType::kString) return String(*value.AsString());
  MetaValue m;
  m.type_ = value.type();
  // Scalars: re-encode from the typed accessors (the raw bytes are little-endian already).
  switch (value.type()) {
    case ValueType::kFloat32:
      Append<float>(&m.encoded_, static_cast<float>(*value.AsFloat()));
      break;
    case ValueType::kFloat64:
      Append<double>(&m.encoded_, *value.AsFloat());
      break;
    case ValueType::kBool:
      Append<uint8_t>(&m.encoded_, *value.AsBool() ? 1 : 0);
      break;
    case ValueType::kUint64:
      Append<uint64_t>(&m.encoded_, *value.AsUint());
      break;
    default: {
      int64_t v = *value.AsInt();
      m.encoded_.append(reinterpret_cast<const char*>(&v), ScalarSize(value.type()));
    }
  }
  return m;
}

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
  CHECK(alignment > 0 && (alignment & (alignment - 1)) == 0) << "alignment " << alignment;
}

Status GgufWriter::Set(std::string_view key, MetaValue value) {
  if (key.empty()) return InvalidArgumentError("metadata key must not be empty");
  if (key == "general.alignment") {
    return InvalidArgumentError("general.alignment is set by the writer's alignment");
  }
  for (auto& [k, v] : metadata_) {
    if (k == key) {
      v = std::move(value);
      return Status::Ok();
    }
  }
  metadata_.emplace_back(std::string(key), std::move(value));
  return Status::Ok();
}

Status GgufWriter::AddTensor(std::string_view name, GgmlType type, std::vector<uint64_t> shape,
                             TensorFill fill) {
  std::string label = "tensor '" + std::string(name) + "'";
  if (name.empty() || name.size() > kMaxTensorNameBytes) {
    return InvalidArgumentError(label + ": names must be 1 to 63 bytes long");
  }
  for (const PendingTensor& t : tensors_) {
    if (t.name == name) return InvalidArgumentError("duplicate " + label);
  }
  if (shape.empty() || shape.size() > kMaxDims) {
    return InvalidArgumentError(label + ": 1 to 4 dimensions, got " + std::to_string(shape.size()));
  }
  const GgmlTypeInfo& info = TypeInfo(type);
  if (shape[0] % info.block_size != 0) {
    return InvalidArgumentError(label + ": rows of " + std::to_string(shape[0]) +
                                " elements are not a multiple of the " + std::string(info.name) +
                                " block size " + std::to_string(info.block_size));
  }
  uint64_t n = 1;
  for (uint64_t d : shape) {
    if (__builtin_mul_overflow(n, d, &n)) return InvalidArgumentError(label + ": shape overflows");
  }
  uint64_t n_bytes = n / info.block_size * info.type_size;
  PendingTensor t{std::string(name), type, std::move(shape), n_bytes, data_size_, std::move(fill)};
  data_size_ = AlignUp(data_size_ + n_bytes, alignment_);
  tensors_.push_back(std::move(t));
  return Status::Ok();
}

Status GgufWriter::AddTensor(std::string_view name, GgmlType type, std::vector<uint64_t> shape,
                             std::span<const uint8_t> data) {
  return AddTensor(
      name, type, std::move(shape), [data, name = std::string(name)](std::span<uint8_t> out) {
        if (out.size() != data.size()) {
          return InvalidArgumentError("tensor '" + name + "' needs " + std::to_string(out.size()) +
                                      " bytes of data, got " + std::to_string(data.size()));
        }
        std::memcpy(out.data(), data.data(), data.size());
        return Status::Ok();
      });
}

std::string GgufWriter::EncodeHeader() const {
  std::string out;
  out.append("GGUF", 4);
  Append<uint32_t>(&out, 3);
  Append<uint64_t>(&out, tensors_.size());
  bool custom_alignment = alignment_ != kDefaultAlignment;
  Append<uint64_t>(&out, metadata_.size() + (custom_alignment ? 1 : 0));
  auto append_kv = [&](std::string_view key, const MetaValue& v) {
    AppendString(&out, key);
    Append<uint32_t>(&out, static_cast<uint32_t>(v.type()));
    out += v.encoded();
  };
  for (const auto& [key, value] : metadata_) append_kv(key, value);
  if (custom_alignment) append_kv("general.alignment", MetaValue::U32(alignment_));
  for (const PendingTensor& t : tensors_) {
    AppendString(&out, t.name);
    Append<uint32_t>(&out, static_cast<uint32_t>(t.shape.size()));
    for (uint64_t d : t.shape) Append<uint64_t>(&out, d);
    Append<uint32_t>(&out, static_cast<uint32_t>(t.type));
    Append<uint64_t>(&out, t.offset);
  }
  out.append(AlignUp(out.size(), alignment_) - out.size(), '\0');
  return out;
}

Status GgufWriter::WriteAll(const std::function<Status(std::string_view)>& sink,
                            const std::function<void(size_t, size_t)>& progress) const {
  RETURN_IF_ERROR(sink(EncodeHeader()));
  std::vector<uint8_t> buffer;
  uint64_t written = 0;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const PendingTensor& t = tensors_[i];
    CHECK(written == t.offset);
    buffer.assign(t.n_bytes, 0);
    if (Status s = t.fill(std::span<uint8_t>(buffer)); !s.ok()) {
      return s.WithContext("tensor '" + t.name + "'");
    }
    RETURN_IF_ERROR(
        sink(std::string_view(reinterpret_cast<const char*>(buffer.data()), buffer.size())));
    uint64_t padded = AlignUp(t.n_bytes, alignment_);
    RETURN_IF_ERROR(sink(std::string(padded - t.n_bytes, '\0')));
    written += padded;
    if (progress) progress(i + 1, tensors_.size());
  }
  return Status::Ok();
}

Result<std::vector<uint8_t>> GgufWriter::WriteToBuffer() const {
  std::vector<uint8_t> out;
  RETURN_IF_ERROR(WriteAll(
      [&](std::string_view bytes) {
        out.insert(out.end(), bytes.begin(), bytes.end());
        return Status::Ok();
      },
      nullptr));
  return out;
}

Status GgufWriter::Write(const std::string& path,
                         const std::function<void(size_t, size_t)>& progress) const {
  std::filesystem::path target(path);
  std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  std::string temp = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  int fd = mkstemp(temp.data());
  if (fd < 0) return ErrnoError("create a temporary file in " + dir.string(), errno);
  auto fail = [&](Status s) {
    ::close(fd);
    ::unlink(temp.c_str());
    return s;
  };
  Status s = WriteAll(
      [&](std::string_view bytes) {
        while (!bytes.empty()) {
          ssize_t n = ::write(fd, bytes.data(), bytes.size());
          if (n < 0) {
            if (errno == EINTR) continue;
            return ErrnoError("write " + temp, errno);
          }
          bytes.remove_prefix(static_cast<size_t>(n));
        }
        return Status::Ok();
      },
      progress);
  if (!s.ok()) return fail(s);
  if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) return fail(ErrnoError("fsync " + temp, errno));
  if (::close(fd) != 0) {
    ::unlink(temp.c_str());
    return ErrnoError("close " + temp, errno);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return ErrnoError("rename " + temp + " to " + path, err);
  }
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {  // make the rename itself durable
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return Status::Ok();
}

}  // namespace corral::gguf
