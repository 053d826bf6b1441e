// A read-only memory mapping of a whole file: the weights are used in place, never copied.
// Thread-safe to read from any thread once opened.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/status.h"

namespace corral {

class MappedFile {
 public:
  // Maps `path` read-only (MAP_PRIVATE). An empty file maps to an empty span.
  static Result<std::unique_ptr<MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }

  // Tells the kernel this process no longer needs the whole pages inside [p, p + n) (a range
  // of bytes()), so they leave its resident set; reading them again faults them back in from
  // the page cache. Used after a tensor was copied elsewhere (repacked) at load.
  void ReleasePages(const uint8_t* p, size_t n) const;

  // Copies [p, p + n) (a range of bytes()) to `out` with pread: the bytes come through the
  // page cache without being mapped into this process, so reading scattered rows of a large
  // released tensor (token embeddings) does not grow the resident set by whole folios per row.
  // Falls back to a copy from the mapping if the read fails.
  void CopyOut(const uint8_t* p, size_t n, uint8_t* out) const;
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, int fd, const uint8_t* data, size_t size)
      : path_(std::move(path)), fd_(fd), data_(data), size_(size) {}
  std::string path_;
  int fd_;               // kept open for CopyOut
  const uint8_t* data_;  // [size_]; nullptr when size_ is 0
  size_t size_;
};

}  // namespace corral
