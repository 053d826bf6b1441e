#include "base/strings.h"

#include <algorithm>
#include <cctype>

namespace corral {

std::string_view TrimSpace(std::string_view s) {
  auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.emplace_back(s.substr(start));
      return parts;
    }
    parts.emplace_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp > 0x10FFFF) cp = 0xFFFD;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string QuoteForMessage(std::string_view s, size_t max_shown, bool ascii_only) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s.substr(0, max_shown)) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f || (ascii_only && c > 0x7f)) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > max_shown) out += "...";
  out += '"';
  return out;
}

bool GoIsPrint(uint32_t r) {
  if (r < 0x80) return r >= 0x20 && r < 0x7F;
  if (r < 0xA0) return false;  // C1 controls
  switch (r) {
    case 0x00A0:
    case 0x00AD:
    case 0x061C:
    case 0x06DD:
    case 0x070F:
    case 0x08E2:
    case 0x1680:
    case 0x180E:
    case 0x202F:
    case 0x205F:
    case 0x3000:
    case 0xFEFF:
    case 0x110BD:
    case 0x110CD:
    case 0xE0001:
      return false;
    default:
      break;
  }
  if (r >= 0x0600 && r <= 0x0605) return false;
  if (r >= 0x0890 && r <= 0x0891) return false;
  if (r >= 0x2000 && r <= 0x200F) return false;  // spaces, ZWSP, ZWNJ, ZWJ, LRM, RLM
  if (r >= 0x2028 && r <= 0x202E) return false;  // line/paragraph separators, bidi embeddings
  if (r >= 0x2060 && r <= 0x206F) return false;
  if (r >= 0xD800 && r <= 0xF8FF) return false;  // surrogates, private use
  if (r >= 0xFDD0 && r <= 0xFDEF) return false;  // noncharacters
  if ((r & 0xFFFE) == 0xFFFE) return false;      // U+xxFFFE / U+xxFFFF
  if (r >= 0xFFF9 && r <= 0xFFFB) return false;
  if (r >= 0x13430 && r <= 0x1343F) return false;
  if (r >= 0x1BCA0 && r <= 0x1BCA3) return false;
  if (r >= 0x1D173 && r <= 0x1D17A) return false;
  if (r >= 0xE0020 && r <= 0xE007F) return false;
  if (r >= 0xF0000) return false;  // supplementary private use planes
  return r <= 0x10FFFF;
}

namespace {

// Go's utf8.DecodeRuneInString at s[i]: the rune and its width; invalid UTF-8 (a bad lead or
// continuation byte, overlong forms, surrogates, past U+10FFFF, truncation) is width 1 and
// *valid false.
size_t DecodeRune(std::string_view s, size_t i, uint32_t* r, bool* valid) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  *valid = true;
  const unsigned char b0 = b(0);
  if (b0 < 0x80) {
    *r = b0;
    return 1;
  }
  size_t n = b0 >= 0xC2 && b0 <= 0xDF   ? 2
             : b0 >= 0xE0 && b0 <= 0xEF ? 3
             : b0 >= 0xF0 && b0 <= 0xF4 ? 4
                                        : 0;
  if (n == 0 || i + n > s.size()) {
    *valid = false;
    return 1;
  }
  uint32_t cp = b0 & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) {
      *valid = false;
      return 1;
    }
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  const uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    *valid = false;
    return 1;
  }
  *r = cp;
  return n;
}

void AppendHexDigits(uint32_t value, int digits, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out->push_back(kHex[(value >> (4 * i)) & 0xF]);
}

}  // namespace

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    uint32_t r = 0;
    bool valid = true;
    const size_t width = DecodeRune(s, i, &r, &valid);
    if (!valid) {
      out += "\\x";
      AppendHexDigits(static_cast<unsigned char>(s[i]), 2, &out);
      ++i;
      continue;
    }
    i += width;
    if (r == '"' || r == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(r));
      continue;
    }
    if (GoIsPrint(r)) {
      AppendUtf8(r, &out);
      continue;
    }
    switch (r) {
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (r < ' ' || r == 0x7F) {
          out += "\\x";
          AppendHexDigits(r, 2, &out);
        } else if (r < 0x10000) {
          out += "\\u";
          AppendHexDigits(r, 4, &out);
        } else {
          out += "\\U";
          AppendHexDigits(r, 8, &out);
        }
    }
  }
  return out + "\"";
}

}  // namespace corral
