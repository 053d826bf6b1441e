// Test helper: writes GGUF bytes by hand, field by field, so tests can build files that our
// writer would refuse to produce (corrupt, hostile, or simply unusual).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace corral::gguf::testing {

class RawGguf {
 public:
  RawGguf& U8(uint8_t v) { return Put(v); }
  RawGguf& U32(uint32_t v) { return Put(v); }
  RawGguf& U64(uint64_t v) { return Put(v); }
  RawGguf& I32(int32_t v) { return Put(v); }
  RawGguf& F32(float v) { return Put(v); }
  RawGguf& Str(std::string_view s) {
    U64(s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }
  RawGguf& Bytes(size_t n, uint8_t fill = 0) {
    bytes_.insert(bytes_.end(), n, fill);
    return *this;
  }
  // "GGUF", version, tensor count, kv count.
  RawGguf& Header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    bytes_.insert(bytes_.end(), {'G', 'G', 'U', 'F'});
    return U32(version).U64(n_tensors).U64(n_kv);
  }
  // A tensor info: name, dims, type id, offset.
  RawGguf& Tensor(std::string_view name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
    Str(name).U32(static_cast<uint32_t>(ne.size()));
    for (uint64_t d : ne) U64(d);
    return U32(type).U64(offset);
  }
  RawGguf& PadTo(size_t alignment) {
    while (bytes_.size() % alignment != 0) bytes_.push_back(0);
    return *this;
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  template <typename T>
  RawGguf& Put(T v) {
    uint8_t buf[sizeof(T)];
    std::memcpy(buf, &v, sizeof v);
    bytes_.insert(bytes_.end(), buf, buf + sizeof v);
    return *this;
  }
  std::vector<uint8_t> bytes_;
};

}  // namespace corral::gguf::testing
