#include "jinja/lexer.h"

#include <cctype>
#include <charconv>
#include <cstdlib>

#include "jinja/value.h"

namespace corral::jinja {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string RStrip(std::string_view s) {
  size_t end = s.size();
  while (end > 0 && IsSpace(s[end - 1])) --end;
  return std::string(s.substr(0, end));
}

// Jinja2 reads templates with universal newlines and drops one final newline
// (keep_trailing_newline=False).
std::string NormalizeNewlines(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class Lexer {
 public:
  Lexer(std::string source, const LexOptions& options)
      : src_(std::move(source)), options_(options) {}

  Result<std::vector<Token>> Run() {
    while (pos_ < src_.size()) {
      size_t start = FindTagStart(pos_);
      if (start == std::string::npos) {
        Emit(TokenKind::kText, src_.substr(pos_));
        break;
      }
      char kind = src_[start + 1];
      char sign = start + 2 < src_.size() ? src_[start + 2] : '\0';
      if (sign != '-' && sign != '+') sign = '\0';
      std::string text = ControlText(src_.substr(pos_, start - pos_), sign, kind != '{');
      if (!text.empty()) Emit(TokenKind::kText, std::move(text));
      CountLines(pos_, start);
      size_t inner = start + 2 + (sign != '\0' ? 1 : 0);
      if (kind == '#') {
        RETURN_IF_ERROR(SkipComment(inner));
      } else if (kind == '%' && IsRawBegin(inner)) {
        RETURN_IF_ERROR(LexRaw(inner));
      } else {
        RETURN_IF_ERROR(LexTag(kind, inner));
      }
    }
    Emit(TokenKind::kEnd, "");
    return std::move(tokens_);
  }

 private:
  size_t FindTagStart(size_t from) const {
    for (size_t i = from; i + 1 < src_.size(); ++i) {
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) {
        return i;
      }
    }
    return std::string::npos;
  }

  // Applies the begin-tag side of whitespace control to the text before a tag.
  std::string ControlText(std::string_view text, char sign, bool lstrip_applies) const {
    if (sign == '-') return RStrip(text);
    if (sign == '+' || !options_.lstrip_blocks || !lstrip_applies) return std::string(text);
    size_t line_start = text.rfind('\n');
    line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
    if (line_start == 0 && !line_starting_) return std::string(text);
    std::string_view tail = text.substr(line_start);
    if (tail.empty()) return std::string(text);
    for (char c : tail) {
      if (!IsSpace(c)) return std::string(text);
    }
    return std::string(text.substr(0, line_start));
  }

  // After an end marker at `end_pos` (the index just past it): `-` eats following whitespace,
  // trim_blocks eats one newline after block and comment tags, `+` keeps everything.
  void FinishTag(size_t end_pos, char sign, bool is_block) {
    pos_ = end_pos;
    if (sign == '-') {
      while (pos_ < src_.size() && IsSpace(src_[pos_])) {
        if (src_[pos_] == '\n') ++line_;
        ++pos_;
      }
    } else if (sign != '+' && is_block && options_.trim_blocks && pos_ < src_.size() &&
               src_[pos_] == '\n') {
      ++pos_;
      ++line_;
    }
    line_starting_ = pos_ > 0 && src_[pos_ - 1] == '\n';
  }

  Status SkipComment(size_t inner) {
    size_t end = src_.find("#}", inner);
    if (end == std::string::npos) return Error("missing end of comment tag");
    char sign = end > inner && (src_[end - 1] == '-' || src_[end - 1] == '+') ? src_[end - 1] : 0;
    CountLines(inner, end);
    FinishTag(end + 2, sign, true);
    return Status::Ok();
  }

  size_t SkipSpaces(size_t i) const {
    while (i < src_.size() && IsSpace(src_[i])) ++i;
    return i;
  }

  // Matches `ws* name ws* [-+]?%}` at i; returns the index past `%}` or npos, and the sign.
  size_t MatchWordTag(size_t i, std::string_view word, char* sign) const {
    i = SkipSpaces(i);
    if (src_.compare(i, word.size(), word) != 0) return std::string::npos;
    i = SkipSpaces(i + word.size());
    *sign = 0;
    if (i < src_.size() && (src_[i] == '-' || src_[i] == '+')) *sign = src_[i++];
    if (src_.compare(i, 2, "%}") != 0) return std::string::npos;
    return i + 2;
  }

  bool IsRawBegin(size_t inner) const {
    char sign;
    return MatchWordTag(inner, "raw", &sign) != std::string::npos;
  }

  Status LexRaw(size_t inner) {
    char sign = 0;
    size_t body_start = MatchWordTag(inner, "raw", &sign);
    // The raw begin tag honours `-` but not trim_blocks, as in Jinja2.
    FinishTag(body_start, sign == '-' ? '-' : '+', true);
    for (size_t i = src_.find("{%", pos_); i != std::string::npos; i = src_.find("{%", i + 2)) {
      char open_sign = i + 2 < src_.size() ? src_[i + 2] : 0;
      if (open_sign != '-' && open_sign != '+') open_sign = 0;
      char close_sign = 0;
      size_t end = MatchWordTag(i + 2 + (open_sign ? 1 : 0), "endraw", &close_sign);
      if (end == std::string::npos) continue;
      std::string body = ControlText(src_.substr(pos_, i - pos_), open_sign, true);
      if (!body.empty()) Emit(TokenKind::kText, std::move(body));
      CountLines(pos_, end);
      FinishTag(end, close_sign, true);
      return Status::Ok();
    }
    return Error("missing end of raw directive");
  }

  Status LexTag(char kind, size_t inner) {
    const bool is_block = kind == '%';
    Emit(is_block ? TokenKind::kBlockBegin : TokenKind::kVariableBegin, "");
    const char close = is_block ? '%' : '}';
    size_t i = inner;
    int depth = 0;
    while (true) {
      while (i < src_.size() && IsSpace(src_[i])) {
        if (src_[i] == '\n') ++line_;
        ++i;
      }
      if (i >= src_.size()) {
        return Error(is_block ? "unexpected end of template, expected '%}'"
                              : "unexpected end of template, expected '}}'");
      }
      if (depth == 0) {
        char sign = 0;
        size_t j = i;
        if (src_[j] == '-' || (is_block && src_[j] == '+')) sign = src_[j++];
        if (j + 1 < src_.size() && src_[j] == close && src_[j + 1] == '}') {
          Emit(is_block ? TokenKind::kBlockEnd : TokenKind::kVariableEnd, "");
          FinishTag(j + 2, sign, is_block);
          return Status::Ok();
        }
      }
      char c = src_[i];
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t j = i;
        while (j < src_.size() &&
               (std::isalnum(static_cast<unsigned char>(src_[j])) || src_[j] == '_')) {
          ++j;
        }
        Emit(TokenKind::kName, src_.substr(i, j - i));
        i = j;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        ASSIGN_OR_RETURN(i, LexNumber(i));
      } else if (c == '\'' || c == '"') {
        ASSIGN_OR_RETURN(i, LexString(i));
      } else {
        static constexpr std::string_view kTwoChar[] = {"**", "//", "==", "!=", "<=", ">="};
        std::string op;
        for (std::string_view two : kTwoChar) {
          if (src_.compare(i, 2, two) == 0) op = std::string(two);
        }
        if (op.empty()) {
          if (std::string_view("+-*/%~<>=.,:|()[]{}").find(c) == std::string_view::npos) {
            return Error(std::string("unexpected char '") + c + "'");
          }
          op = std::string(1, c);
          if (c == '(' || c == '[' || c == '{') ++depth;
          if (c == ')' || c == ']' || c == '}') {
            if (depth == 0) return Error(std::string("unexpected '") + c + "'");
            --depth;
          }
        }
        Emit(TokenKind::kOperator, op);
        i += op.size();
      }
    }
  }

  Result<size_t> LexNumber(size_t i) {
    size_t j = i;
    auto digits = [&] {
      while (j < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[j])) ||
                                 (src_[j] == '_' && j + 1 < src_.size() &&
                                  std::isdigit(static_cast<unsigned char>(src_[j + 1]))))) {
        ++j;
      }
    };
    digits();
    bool is_float = false;
    if (j + 1 < src_.size() && src_[j] == '.' &&
        std::isdigit(static_cast<unsigned char>(src_[j + 1]))) {
      is_float = true;
      ++j;
      digits();
    }
    if (j < src_.size() && (src_[j] == 'e' || src_[j] == 'E')) {
      size_t k = j + 1;
      if (k < src_.size() && (src_[k] == '+' || src_[k] == '-')) ++k;
      if (k < src_.size() && std::isdigit(static_cast<unsigned char>(src_[k]))) {
        is_float = true;
        j = k;
        digits();
      }
    }
    std::string text;
    for (size_t k = i; k < j; ++k) {
      if (src_[k] != '_') text += src_[k];
    }
    Token token;
    token.line = line_;
    token.text = text;
    if (is_float) {
      token.kind = TokenKind::kFloat;
      token.float_value = std::strtod(text.c_str(), nullptr);
    } else {
      token.kind = TokenKind::kInteger;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), token.int_value);
      if (ec != std::errc()) return Error("integer literal too large: " + text);
    }
    tokens_.push_back(std::move(token));
    return j;
  }

  // Decodes Python-style escapes, as Jinja2 does for string literals.
  Result<size_t> LexString(size_t i) {
    const char quote = src_[i];
    std::string value;
    size_t j = i + 1;
    auto hex = [&](size_t count) -> Result<char32_t> {
      if (j + count > src_.size()) return Error("truncated escape in string literal");
      char32_t cp = 0;
      for (size_t k = 0; k < count; ++k) {
        char h = src_[j + k];
        if (!std::isxdigit(static_cast<unsigned char>(h))) {
          return Error("bad escape in string literal");
        }
        cp = cp * 16 + static_cast<char32_t>(std::isdigit(static_cast<unsigned char>(h))
                                                 ? h - '0'
                                                 : std::tolower(h) - 'a' + 10);
      }
      j += count;
      return cp;
    };
    while (true) {
      if (j >= src_.size()) return Error("unterminated string literal");
      char c = src_[j];
      if (c == quote) break;
      if (c == '\n') ++line_;
      if (c != '\\' || j + 1 >= src_.size()) {
        value += c;
        ++j;
        continue;
      }
      char e = src_[j + 1];
      j += 2;
      switch (e) {
        case 'n':
          value += '\n';
          break;
        case 't':
          value += '\t';
          break;
        case 'r':
          value += '\r';
          break;
        case 'b':
          value += '\b';
          break;
        case 'f':
          value += '\f';
          break;
        case 'v':
          value += '\v';
          break;
        case 'a':
          value += '\a';
          break;
        case '\\':
          value += '\\';
          break;
        case '\'':
          value += '\'';
          break;
        case '"':
          value += '"';
          break;
        case '\n':
          ++line_;
          break;  // line continuation
        case 'x':
        case 'u':
        case 'U': {
          ASSIGN_OR_RETURN(char32_t cp, hex(e == 'x' ? 2 : e == 'u' ? 4 : 8));
          value += Utf8Encode(std::u32string(1, cp));
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            char32_t cp = static_cast<char32_t>(e - '0');
            for (int k = 0; k < 2 && j < src_.size() && src_[j] >= '0' && src_[j] <= '7'; ++k) {
              cp = cp * 8 + static_cast<char32_t>(src_[j++] - '0');
            }
            value += Utf8Encode(std::u32string(1, cp));
          } else {
            value += '\\';  // unknown escapes stay as written
            value += e;
          }
      }
    }
    Emit(TokenKind::kString, std::move(value));
    return j + 1;
  }

  void Emit(TokenKind kind, std::string text) {
    Token token;
    token.kind = kind;
    token.text = std::move(text);
    token.line = line_;
    tokens_.push_back(std::move(token));
  }

  void CountLines(size_t from, size_t to) {
    for (size_t k = from; k < to && k < src_.size(); ++k) {
      if (src_[k] == '\n') ++line_;
    }
  }

  Status Error(const std::string& message) const {
    return InvalidArgumentError("template syntax error at line " + std::to_string(line_) + ": " +
                                message);
  }

  std::string src_;
  LexOptions options_;
  size_t pos_ = 0;
  int line_ = 1;
  bool line_starting_ = true;  // the text about to be scanned begins a line
  std::vector<Token> tokens_;
};

}  // namespace

Result<std::vector<Token>> Tokenize(std::string_view source, const LexOptions& options) {
  return Lexer(NormalizeNewlines(source), options).Run();
}

}  // namespace corral::jinja
