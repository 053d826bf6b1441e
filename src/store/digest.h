// Blob digests: `sha256:<64 lowercase hex>` in JSON and in the API, `sha256-<hex>` as a file name
// under `blobs/`. A Digest can only be built from a string that passed validation (or from a
// hash we computed), so a path built from one can never leave the blobs directory: this is
// the check whose absence was CVE-2024-37032 (a registry manifest with `../` digests).
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace corral::store {

class Digest {
 public:
  Digest() = default;  // empty: "no digest" (e.g. a manifest without a config blob)

  // "sha256:<64 lowercase hex>" and nothing else: no uppercase, no other algorithm, no
  // whitespace, no '-' form. InvalidArgument says what is wrong.
  static Result<Digest> Parse(std::string_view s);
  // A blob file name, "sha256-<64 lowercase hex>".
  static Result<Digest> FromFilename(std::string_view s);
  // From the 32 raw bytes of a SHA-256.
  static Digest FromBytes(const uint8_t (&bytes)[32]);

  bool empty() const { return hex_.empty(); }
  const std::string& hex() const { return hex_; }  // 64 lowercase hex digits
  std::string String() const;                      // "sha256:<hex>" ("" when empty)
  std::string Filename() const;                    // "sha256-<hex>" ("" when empty)

  friend bool operator==(const Digest& a, const Digest& b) = default;
  friend auto operator<=>(const Digest& a, const Digest& b) = default;

 private:
  std::string hex_;
};

bool IsValidDigest(std::string_view s);           // Digest::Parse(s).ok()
bool IsValidBlobFilename(std::string_view name);  // Digest::FromFilename(name).ok()

// Incremental SHA-256 (OpenSSL's EVP interface; the header stays free of OpenSSL).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void Update(const void* data, size_t size);
  void Update(std::string_view bytes) { Update(bytes.data(), bytes.size()); }
  // The digest of everything given so far; the object is reset afterwards.
  Digest Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Digest Sha256Of(std::string_view bytes);
// Reads to the end; IoError when the stream fails before EOF.
Result<Digest> Sha256OfStream(std::istream& in);
// IoError/NotFound naming the path when it cannot be read.
Result<Digest> Sha256OfFile(const std::string& path);

}  // namespace corral::store
