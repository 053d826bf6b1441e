// Unicode helpers with llama.cpp's exact semantics where tokenization depends on them: its
// lenient UTF-8 decoder (an invalid byte becomes U+FFFD, overlong forms decode), its whitespace
// set, its coarse categories (from utf8proc) and GPT-2's byte <-> printable code point mapping.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace corral::tokenizer::unicode {

inline constexpr uint32_t kReplacementChar = 0xFFFD;

// Bytes of the UTF-8 sequence that starts with `lead`, judged from its top four bits only
// (continuation bytes count as 1), as llama.cpp's symbol splitter does.
inline size_t SequenceLength(char lead) {
  static constexpr uint8_t kLengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLengths[static_cast<uint8_t>(lead) >> 4];
}

// Decodes one code point at `*offset` and advances it; a malformed sequence yields U+FFFD and
// advances one byte. Overlong forms and surrogates decode like llama.cpp (no range checks).
uint32_t DecodeOne(std::string_view text, size_t* offset);

// All code points of `text`, decoded with DecodeOne.
std::vector<uint32_t> Decode(std::string_view text);

// Appends the UTF-8 of `cpt` (code points above U+10FFFF become U+FFFD).
void AppendUtf8(uint32_t cpt, std::string* out);
std::string ToUtf8(uint32_t cpt);

// llama.cpp's whitespace set (Unicode White_Space).
bool IsWhitespace(uint32_t cpt);

enum class Category : uint8_t {
  kLetter,
  kNumber,
  kMark,
  kPunctuation,
  kSymbol,
  kSeparator,
  kOther,  // control, format, surrogate, private use, unassigned
};
Category CategoryOf(uint32_t cpt);

// Python's str.lower()[0] for the code point (simple case mapping).
uint32_t ToLower(uint32_t cpt);
// The first code point of the canonical decomposition (llama.cpp's NFD table keeps only it).
uint32_t NfdFirst(uint32_t cpt);

// GPT-2's byte-level alphabet: byte -> UTF-8 of its printable stand-in, and back (-1 when the
// code point is not a stand-in).
const std::string& ByteToUnicode(uint8_t byte);
int UnicodeToByte(uint32_t cpt);

// The index of the last byte boundary of `text` that does not split a UTF-8 sequence, judged
// from lead bytes; bytes past it may be the start of an incomplete character.
size_t CompleteUtf8Prefix(std::string_view text);

}  // namespace corral::tokenizer::unicode
