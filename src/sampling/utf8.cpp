#include "sampling/utf8.h"

#include <cstdint>

namespace corral::sampling {
namespace {

struct LeadInfo {
  size_t length = 0;  // 0: not a lead byte
  uint8_t second_lo = 0x80, second_hi = 0xBF;
};

// The sequence length a lead byte announces and the range its second byte must be in.
LeadInfo Lead(uint8_t b) {
  if (b < 0x80) return {1};
  if (b >= 0xC2 && b <= 0xDF) return {2};
  if (b == 0xE0) return {3, 0xA0, 0xBF};  // no overlongs
  if (b == 0xED) return {3, 0x80, 0x9F};  // no surrogates
  if (b >= 0xE1 && b <= 0xEF) return {3};
  if (b == 0xF0) return {4, 0x90, 0xBF};  // no overlongs
  if (b >= 0xF1 && b <= 0xF3) return {4};
  if (b == 0xF4) return {4, 0x80, 0x8F};  // nothing above U+10FFFF
  return {};
}

// Whether the bytes s[i+1 .. i+1+n) are valid continuation bytes of the lead `info`.
bool ContinuationsOk(std::string_view s, size_t i, const LeadInfo& info, size_t n) {
  for (size_t k = 1; k <= n; ++k) {
    const uint8_t b = static_cast<uint8_t>(s[i + k]);
    const uint8_t lo = k == 1 ? info.second_lo : 0x80;
    const uint8_t hi = k == 1 ? info.second_hi : 0xBF;
    if (b < lo || b > hi) return false;
  }
  return true;
}

}  // namespace

size_t Utf8SequenceLength(std::string_view s, size_t i) {
  if (i >= s.size()) return 0;
  const LeadInfo info = Lead(static_cast<uint8_t>(s[i]));
  if (info.length == 0 || i + info.length > s.size()) return 0;
  return ContinuationsOk(s, i, info, info.length - 1) ? info.length : 0;
}

size_t IncompleteUtf8Suffix(std::string_view s) {
  for (size_t k = 1; k <= 3 && k <= s.size(); ++k) {
    const size_t i = s.size() - k;
    const uint8_t b = static_cast<uint8_t>(s[i]);
    if (b >= 0x80 && b <= 0xBF) continue;  // a continuation byte: look further back
    const LeadInfo info = Lead(b);
    return info.length > k && ContinuationsOk(s, i, info, k - 1) ? k : 0;
  }
  return 0;
}

void AppendSanitizedUtf8(std::string_view s, std::string* out) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      out->append("\xEF\xBF\xBD");  // U+FFFD
      ++i;
    } else {
      out->append(s.substr(i, n));
      i += n;
    }
  }
}

std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  AppendSanitizedUtf8(s, &out);
  return out;
}

}  // namespace corral::sampling
