#include "store/digest.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "base/check.h"
#include "base/strings.h"

namespace corral::store {
namespace {

constexpr std::string_view kAlgorithm = "sha256";
constexpr size_t kHexLength = 64;

// Shown in errors: the input, cut short and with control bytes escaped, so a hostile digest
// cannot flood or forge a log line.
std::string Printable(std::string_view s) { return QuoteForMessage(s, 80, /*ascii_only=*/true); }

// Builds a Digest from hex that was validated already (FromBytes is the only way in).
Digest MakeFromHex(std::string_view hex) {
  uint8_t bytes[32];
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (size_t i = 0; i < 32; ++i) {
    bytes[i] = static_cast<uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  }
  return Digest::FromBytes(bytes);
}

Result<Digest> ParseWithSeparator(std::string_view s, char sep, std::string_view what,
                                  Digest (*make)(std::string_view hex)) {
  std::string prefix = std::string(kAlgorithm) + sep;
  if (s.substr(0, prefix.size()) != prefix) {
    return InvalidArgumentError("invalid " + std::string(what) + " " + Printable(s) +
                                ": must start with \"" + prefix + "\"");
  }
  std::string_view hex = s.substr(prefix.size());
  if (hex.size() != kHexLength) {
    return InvalidArgumentError("invalid " + std::string(what) + " " + Printable(s) + ": " +
                                std::to_string(hex.size()) + " hex digits, want 64");
  }
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return InvalidArgumentError("invalid " + std::string(what) + " " + Printable(s) +
                                  ": only lowercase hex digits are allowed");
    }
  }
  return make(hex);
}

}  // namespace

Result<Digest> Digest::Parse(std::string_view s) {
  return ParseWithSeparator(s, ':', "digest", &MakeFromHex);
}

Result<Digest> Digest::FromFilename(std::string_view s) {
  return ParseWithSeparator(s, '-', "blob file name", &MakeFromHex);
}

Digest Digest::FromBytes(const uint8_t (&bytes)[32]) {
  static const char* kHex = "0123456789abcdef";
  Digest d;
  d.hex_.reserve(kHexLength);
  for (uint8_t b : bytes) {
    d.hex_ += kHex[b >> 4];
    d.hex_ += kHex[b & 15];
  }
  return d;
}

std::string Digest::String() const { return empty() ? "" : std::string(kAlgorithm) + ":" + hex_; }
std::string Digest::Filename() const { return empty() ? "" : std::string(kAlgorithm) + "-" + hex_; }

bool IsValidDigest(std::string_view s) { return Digest::Parse(s).ok(); }
bool IsValidBlobFilename(std::string_view name) { return Digest::FromFilename(name).ok(); }

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
  Impl() {
    ctx = EVP_MD_CTX_new();
    CHECK(ctx != nullptr) << "EVP_MD_CTX_new failed";
    Reset();
  }
  ~Impl() { EVP_MD_CTX_free(ctx); }
  void Reset() { CHECK(EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Update(const void* data, size_t size) {
  if (size == 0) return;
  CHECK(EVP_DigestUpdate(impl_->ctx, data, size) == 1);
}

Digest Sha256::Finish() {
  uint8_t bytes[32];
  unsigned int length = 0;
  CHECK(EVP_DigestFinal_ex(impl_->ctx, bytes, &length) == 1 && length == 32);
  impl_->Reset();
  return Digest::FromBytes(bytes);
}

Digest Sha256Of(std::string_view bytes) {
  Sha256 h;
  h.Update(bytes);
  return h.Finish();
}

Result<Digest> Sha256OfStream(std::istream& in) {
  Sha256 h;
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.Update(buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad() || !in.eof()) return IoError("reading stream for sha256 failed");
  return h.Finish();
}

Result<Digest> Sha256OfFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return NotFoundError("open " + path + ": no such file");
    return ErrnoError("open " + path, err);
  }
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (true) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return ErrnoError("read " + path, err);
    }
    if (n == 0) break;
    h.Update(buf.data(), static_cast<size_t>(n));
  }
  close(fd);
  return h.Finish();
}

}  // namespace corral::store
