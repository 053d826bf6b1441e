#include "tokenizer/unicode.h"
#include "base/strings.h"

#include <utf8proc.h>

#include <array>

namespace corral::tokenizer::unicode {

uint32_t DecodeOne(std::string_view text, size_t* offset) {
  const size_t i = *offset;
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[i + k]); };
  const auto is_continuation = [&](size_t k) {
    return i + k < text.size() && (byte(k) & 0xC0) == 0x80;
  };
  const uint8_t lead = byte(0);
  if (!(lead & 0x80)) {
    *offset += 1;
    return lead;
  }
  if ((lead & 0x40) && !(lead & 0x20)) {
    if (is_continuation(1)) {
      *offset += 2;
      return ((lead & 0x1F) << 6) | (byte(1) & 0x3F);
    }
  } else if ((lead & 0x40) && !(lead & 0x10)) {
    if (is_continuation(1) && is_continuation(2)) {
      *offset += 3;
      return ((lead & 0x0F) << 12) | ((byte(1) & 0x3F) << 6) | (byte(2) & 0x3F);
    }
  } else if ((lead & 0x40) && !(lead & 0x08)) {
    if (is_continuation(1) && is_continuation(2) && is_continuation(3)) {
      *offset += 4;
      return ((lead & 0x07) << 18) | ((byte(1) & 0x3F) << 12) | ((byte(2) & 0x3F) << 6) |
             (byte(3) & 0x3F);
    }
  }
  *offset += 1;
  return kReplacementChar;
}

std::vector<uint32_t> Decode(std::string_view text) {
  std::vector<uint32_t> cpts;
  cpts.reserve(text.size());
  for (size_t offset = 0; offset < text.size();) cpts.push_back(DecodeOne(text, &offset));
  return cpts;
}

void AppendUtf8(uint32_t cpt, std::string* out) { corral::AppendUtf8(cpt, out); }

std::string ToUtf8(uint32_t cpt) {
  std::string out;
  AppendUtf8(cpt, &out);
  return out;
}

bool IsWhitespace(uint32_t cpt) {
  if (cpt < 0x80) return (cpt >= 0x09 && cpt <= 0x0D) || cpt == 0x20;
  switch (cpt) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cpt >= 0x2000 && cpt <= 0x200A;
  }
}

Category CategoryOf(uint32_t cpt) {
  if (cpt > 0x10FFFF) return Category::kOther;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cpt))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return Category::kLetter;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
      return Category::kMark;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return Category::kNumber;
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return Category::kPunctuation;
    case UTF8PROC_CATEGORY_SM:
    case UTF8PROC_CATEGORY_SC:
    case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
      return Category::kSymbol;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
      return Category::kSeparator;
    default:
      return Category::kOther;
  }
}

uint32_t ToLower(uint32_t cpt) {
  if (cpt > 0x10FFFF) return cpt;
  return static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cpt)));
}

uint32_t NfdFirst(uint32_t cpt) {
  if (cpt < 0xC0 || cpt > 0x10FFFF) return cpt;
  utf8proc_int32_t buffer[8];
  int last_boundclass = 0;
  utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cpt), buffer, 8,
                                               UTF8PROC_DECOMPOSE, &last_boundclass);
  return n > 0 ? static_cast<uint32_t>(buffer[0]) : cpt;
}

namespace {

struct ByteTables {
  std::array<std::string, 256> byte_to_utf8;
  std::array<int16_t, 512> cpt_to_byte;  // stand-ins are all below U+0200
};

const ByteTables& Tables() {
  static const ByteTables tables = [] {
    ByteTables t;
    t.cpt_to_byte.fill(-1);
    const auto printable = [](int b) {
      return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const uint32_t cpt = printable(b) ? b : next++;
      t.byte_to_utf8[b] = ToUtf8(cpt);
      t.cpt_to_byte[cpt] = static_cast<int16_t>(b);
    }
    return t;
  }();
  return tables;
}

}  // namespace

const std::string& ByteToUnicode(uint8_t byte) { return Tables().byte_to_utf8[byte]; }

int UnicodeToByte(uint32_t cpt) { return cpt < 512 ? Tables().cpt_to_byte[cpt] : -1; }

size_t CompleteUtf8Prefix(std::string_view text) {
  // Look back at most 3 bytes for a lead byte whose sequence runs past the end.
  const size_t n = text.size();
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    const auto byte = static_cast<uint8_t>(text[n - back]);
    if ((byte & 0xC0) == 0x80) continue;  // continuation: keep looking for the lead
    const size_t need = SequenceLength(static_cast<char>(byte));
    return need > back ? n - back : n;
  }
  return n;
}

}  // namespace corral::tokenizer::unicode
