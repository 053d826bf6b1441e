#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode.h"

namespace corral::tokenizer {
namespace internal {

std::string ReplaceAll(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (true) {
    const size_t hit = text.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(text.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace internal

namespace {

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The byte of a "<0xXX>" token (strtol semantics: stops at the first non-hex digit).
char ByteOfToken(std::string_view text) {
  int value = 0;
  for (size_t i = 3; i < 5 && i < text.size(); ++i) {
    const int digit = HexValue(text[i]);
    if (digit < 0) break;
    value = value * 16 + digit;
  }
  return static_cast<char>(value);
}

// llama.cpp's three clean-up passes over detokenized BPE/WPM text: no space before ?!., , no
// spaces around a lone apostrophe, and no space before 's 'm 're 've.
void CleanSpaces(std::string* s) {
  std::string& text = *s;
  size_t n = text.size();
  size_t total = n ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {
    const char x = text[i];
    if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) --total;
    text[total++] = x;
  }
  n = total;
  total = n ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {
    const char x = text[i];
    if (x == '\'' && i + 1 < n && text[i - 1] == ' ' && text[i + 1] == ' ') {
      --total;
      text[++i] = '\0';
    }
    text[total++] = x;
  }
  n = total;
  total = n ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {
    const char x = text[i];
    if (text[i - 1] == ' ' && x == '\'' && i + 1 < n) {
      const char x1 = text[i + 1];
      if (x1 == 's' || x1 == 'm') {
        --total;
      } else if (x1 != 't' && x1 != 'd' && i + 2 < n) {
        const char x2 = text[i + 2];
        if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) --total;
      }
    }
    text[total++] = x;
  }
  text.resize(total);
}

}  // namespace

Tokenizer::Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {}

Result<std::unique_ptr<Tokenizer>> Tokenizer::FromGguf(const gguf::GgufFile& file) {
  ASSIGN_OR_RETURN(Vocab vocab, Vocab::FromGguf(file));
  return Create(std::move(vocab));
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::Create(Vocab vocab) {
  switch (vocab.kind) {
    case TokenizerKind::kSpm:
      return internal::MakeSpmTokenizer(std::move(vocab));
    case TokenizerKind::kBpe:
      return internal::MakeBpeTokenizer(std::move(vocab));
    case TokenizerKind::kWpm:
      return internal::MakeWpmTokenizer(std::move(vocab));
  }
  return InternalError("unhandled tokenizer kind");
}

void Tokenizer::BuildPieceCache() {
  const int32_t n = vocab_.n_tokens();
  const auto piece = [&](int32_t id, std::string* scratch) -> std::string_view {
    const uint32_t attr = vocab_.attr(id);
    const std::string_view text = vocab_.text(id);
    if (attr & (kAttrUnknown | kAttrControl | kAttrUserDefined)) return text;
    if (attr & kAttrNormal) return *scratch = NormalPiece(text);
    if (attr & kAttrByte) return *scratch = std::string(1, ByteOfToken(text));
    return {};
  };
  // Two passes, the first only to size the arena exactly: a reserve-then-shrink or a growing
  // buffer would briefly hold up to twice the pieces.
  std::string scratch;
  size_t bytes = 0;
  for (int32_t id = 0; id < n; ++id) bytes += piece(id, &scratch).size();
  pieces_ = StringArena();
  pieces_.Reserve(static_cast<size_t>(n), bytes);
  for (int32_t id = 0; id < n; ++id) pieces_.Append(piece(id, &scratch));
}

std::vector<Tokenizer::Fragment> Tokenizer::SplitSpecialTokens(std::string_view text,
                                                               bool parse_special) const {
  std::vector<Fragment> fragments;
  if (text.empty()) return fragments;
  fragments.push_back({0, text.size(), kNoToken});
  std::vector<Fragment> next;
  for (int32_t id : vocab_.special_tokens) {
    const uint32_t attr = vocab_.attr(id);
    // Without parse_special only user-defined tokens are split out (as Hugging Face does).
    if (!parse_special && (attr & (kAttrControl | kAttrUnknown))) continue;
    const std::string_view needle = vocab_.text(id);
    next.clear();
    bool changed = false;
    for (const Fragment& fragment : fragments) {
      if (fragment.token != kNoToken) {
        next.push_back(fragment);
        continue;
      }
      size_t base = fragment.offset, length = fragment.length;
      while (true) {
        const size_t match = text.substr(0, base + length).find(needle, base);
        if (match == std::string_view::npos) {
          if (length > 0) next.push_back({base, length, kNoToken});
          break;
        }
        changed = true;
        size_t left_length = match - base;
        if (attr & kAttrLstrip) {
          while (left_length > 0 && IsAsciiSpace(text[base + left_length - 1])) --left_length;
        }
        if (left_length > 0) next.push_back({base, left_length, kNoToken});
        next.push_back({0, 0, id});
        size_t right = match + needle.size();
        size_t right_length = base + length - right;
        if (attr & kAttrRstrip) {
          while (right_length > 0 && IsAsciiSpace(text[right])) ++right, --right_length;
        }
        base = right;
        length = right_length;
      }
    }
    if (changed) fragments.swap(next);
  }
  return fragments;
}

std::vector<int32_t> Tokenizer::Encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  std::vector<int32_t> out;
  const std::vector<Fragment> fragments = SplitSpecialTokens(text, parse_special);
  const bool wpm = vocab_.kind == TokenizerKind::kWpm;
  // WordPiece always brackets with [CLS] ... [SEP] when asked for special tokens.
  if (add_special && (vocab_.add_bos || wpm) && vocab_.bos != kNoToken) out.push_back(vocab_.bos);
  bool after_special = true;
  for (const Fragment& fragment : fragments) {
    if (fragment.token != kNoToken) {
      out.push_back(fragment.token);
      after_special = true;
    } else {
      EncodeText(text.substr(fragment.offset, fragment.length), after_special, &out);
      after_special = false;
    }
  }
  if (add_special) {
    if (wpm) {
      if (vocab_.sep != kNoToken) out.push_back(vocab_.sep);
    } else if (vocab_.add_eos && vocab_.eos != kNoToken) {
      out.push_back(vocab_.eos);
    }
  }
  return out;
}

std::string Tokenizer::TokenToPiece(int32_t id, bool special) const {
  if (id < 0 || id >= vocab_.n_tokens()) return {};
  if (!special && vocab_.HasAttr(id, kAttrUnknown | kAttrControl)) return {};
  return std::string(pieces_[static_cast<size_t>(id)]);
}

std::string Tokenizer::Decode(std::span<const int32_t> ids, bool special) const {
  std::string text;
  bool strip_space = vocab_.add_space_prefix;
  for (int32_t id : ids) {
    std::string_view piece;
    if (id >= 0 && id < vocab_.n_tokens() &&
        (special || !vocab_.HasAttr(id, kAttrUnknown | kAttrControl))) {
      piece = pieces_[static_cast<size_t>(id)];
    }
    if (strip_space && !piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
    strip_space = false;
    text.append(piece);
  }
  if (vocab_.clean_spaces) CleanSpaces(&text);
  return text;
}

bool Tokenizer::IsEndOfGeneration(int32_t id) const {
  return std::binary_search(vocab_.end_of_generation.begin(), vocab_.end_of_generation.end(), id);
}

std::string StreamingDecoder::Push(int32_t id) {
  std::string piece = tokenizer_.TokenToPiece(id, special_);
  if (first_ && tokenizer_.vocab().add_space_prefix && !piece.empty() && piece.front() == ' ') {
    piece.erase(0, 1);
  }
  first_ = false;
  pending_ += piece;
  const size_t complete = unicode::CompleteUtf8Prefix(pending_);
  std::string out = pending_.substr(0, complete);
  pending_.erase(0, complete);
  return out;
}

std::string StreamingDecoder::Flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace corral::tokenizer
