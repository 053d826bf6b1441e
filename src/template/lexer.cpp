#include "template/lexer.h"

#include <cctype>

namespace corral::tmpl {
namespace {

constexpr std::string_view kLeftDelim = "{{";
constexpr std::string_view kRightDelim = "}}";

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsAlnum(char c) {
  return c == '_' || std::isalnum(static_cast<unsigned char>(c)) ||
         static_cast<unsigned char>(c) >= 0x80;  // Go accepts Unicode letters in names
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  std::vector<Token> Run() {
    while (true) {
      if (!LexText()) break;
      if (!LexAction()) break;
    }
    return std::move(tokens_);
  }

 private:
  void Emit(TokenKind kind, int start, std::string text) {
    tokens_.push_back(Token{kind, start, std::move(text)});
  }
  bool Error(std::string message) {
    Emit(TokenKind::kError, static_cast<int>(pos_), std::move(message));
    return false;
  }
  bool StartsWith(size_t at, std::string_view s) const { return src_.substr(at).starts_with(s); }

  // A right delimiter at `at`, possibly preceded by the " -" trim marker. Returns its length
  // (0 when there is none) and whether it trims.
  size_t RightDelimAt(size_t at, bool* trims) const {
    if (at + 3 < src_.size() && IsSpace(src_[at]) && src_[at + 1] == '-' &&
        StartsWith(at + 2, kRightDelim)) {
      *trims = true;
      return 4;
    }
    *trims = false;
    return StartsWith(at, kRightDelim) ? 2 : 0;
  }

  // Text up to the next "{{"; returns false at end of input.
  bool LexText() {
    size_t next = src_.find(kLeftDelim, pos_);
    size_t end = next == std::string_view::npos ? src_.size() : next;
    size_t text_end = end;
    if (next != std::string_view::npos && next + 3 < src_.size() && src_[next + 2] == '-' &&
        IsSpace(src_[next + 3])) {
      while (text_end > pos_ && IsSpace(src_[text_end - 1])) --text_end;
    }
    if (text_end > pos_) {
      Emit(TokenKind::kText, static_cast<int>(pos_),
           std::string(src_.substr(pos_, text_end - pos_)));
    }
    if (next == std::string_view::npos) {
      pos_ = src_.size();
      Emit(TokenKind::kEof, static_cast<int>(pos_), "");
      return false;
    }
    pos_ = next;
    return true;
  }

  void SkipTrimmedSpace() {
    while (pos_ < src_.size() && IsSpace(src_[pos_])) ++pos_;
  }

  // From "{{" to the matching "}}". Returns false after an error.
  bool LexAction() {
    size_t start = pos_;
    pos_ += 2;
    if (pos_ + 1 < src_.size() && src_[pos_] == '-' && IsSpace(src_[pos_ + 1])) pos_ += 2;
    size_t after_marker = pos_;
    // A comment must follow the delimiter (and trim marker) directly.
    if (StartsWith(pos_, "/*")) {
      size_t close = src_.find("*/", pos_ + 2);
      if (close == std::string_view::npos) return Error("unclosed comment");
      pos_ = close + 2;
      bool trims = false;
      size_t len = RightDelimAt(pos_, &trims);
      if (len == 0) return Error("comment ends before closing delimiter");
      pos_ += len;
      if (trims) SkipTrimmedSpace();
      return true;
    }
    Emit(TokenKind::kLeftDelim, static_cast<int>(start), "{{");
    pos_ = after_marker;
    int paren_depth = 0;
    while (true) {
      bool trims = false;
      size_t len = RightDelimAt(pos_, &trims);
      if (len > 0) {
        if (paren_depth > 0) return Error("unclosed left paren");
        Emit(TokenKind::kRightDelim, static_cast<int>(pos_), "}}");
        pos_ += len;
        if (trims) SkipTrimmedSpace();
        return true;
      }
      if (pos_ >= src_.size()) return Error("unclosed action");
      char c = src_[pos_];
      size_t begin = pos_;
      if (IsSpace(c)) {
        while (pos_ < src_.size() && IsSpace(src_[pos_])) {
          bool unused = false;
          if (RightDelimAt(pos_, &unused) == 4) break;  // " -}}" ends the action
          ++pos_;
        }
        if (pos_ > begin) Emit(TokenKind::kSpace, static_cast<int>(begin), " ");
      } else if (c == '=') {
        ++pos_;
        Emit(TokenKind::kAssign, static_cast<int>(begin), "=");
      } else if (c == ':') {
        if (!StartsWith(pos_, ":=")) return Error("expected :=");
        pos_ += 2;
        Emit(TokenKind::kDeclare, static_cast<int>(begin), ":=");
      } else if (c == '|') {
        ++pos_;
        Emit(TokenKind::kPipe, static_cast<int>(begin), "|");
      } else if (c == '"' || c == '\'') {
        if (!LexQuote(c)) return false;
      } else if (c == '`') {
        size_t close = src_.find('`', pos_ + 1);
        if (close == std::string_view::npos) return Error("unterminated raw quoted string");
        pos_ = close + 1;
        Emit(TokenKind::kRawString, static_cast<int>(begin),
             std::string(src_.substr(begin, pos_ - begin)));
      } else if (c == '$') {
        ++pos_;
        while (pos_ < src_.size() && IsAlnum(src_[pos_])) ++pos_;
        Emit(TokenKind::kVariable, static_cast<int>(begin),
             std::string(src_.substr(begin, pos_ - begin)));
        if (!CheckTerminator()) return false;
      } else if (c == '.' && !(pos_ + 1 < src_.size() &&
                               std::isdigit(static_cast<unsigned char>(src_[pos_ + 1])))) {
        ++pos_;
        while (pos_ < src_.size() && IsAlnum(src_[pos_])) ++pos_;
        if (pos_ == begin + 1) {
          Emit(TokenKind::kDot, static_cast<int>(begin), ".");
        } else {
          Emit(TokenKind::kField, static_cast<int>(begin),
               std::string(src_.substr(begin, pos_ - begin)));
        }
        if (!CheckTerminator()) return false;
      } else if (c == '+' || c == '-' || c == '.' || std::isdigit(static_cast<unsigned char>(c))) {
        if (!LexNumber()) return false;
      } else if (IsAlnum(c)) {
        while (pos_ < src_.size() && IsAlnum(src_[pos_])) ++pos_;
        std::string word(src_.substr(begin, pos_ - begin));
        TokenKind kind = TokenKind::kIdentifier;
        if (word == "true" || word == "false") {
          kind = TokenKind::kBool;
        } else if (word == "nil") {
          kind = TokenKind::kNil;
        } else if (word == "if" || word == "else" || word == "end" || word == "range" ||
                   word == "with" || word == "define" || word == "template" || word == "block" ||
                   word == "break" || word == "continue") {
          kind = TokenKind::kKeyword;
        }
        Emit(kind, static_cast<int>(begin), std::move(word));
        if (!CheckTerminator()) return false;
      } else if (c == '(') {
        ++pos_;
        ++paren_depth;
        Emit(TokenKind::kLeftParen, static_cast<int>(begin), "(");
      } else if (c == ')') {
        ++pos_;
        if (--paren_depth < 0) return Error("unexpected right paren");
        Emit(TokenKind::kRightParen, static_cast<int>(begin), ")");
      } else if (c == ',') {
        ++pos_;
        Emit(TokenKind::kComma, static_cast<int>(begin), ",");
      } else {
        return Error("unrecognized character in action: " + FormatChar(c));
      }
    }
  }

  static std::string FormatChar(char c) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned char>(c));
    return buf;
  }

  // After a word, Go requires a space, a delimiter or punctuation.
  bool CheckTerminator() {
    if (pos_ >= src_.size()) return true;
    char c = src_[pos_];
    bool unused = false;
    if (IsSpace(c) || c == '.' || c == ',' || c == '|' || c == ':' || c == ')' || c == '(' ||
        c == '=' || RightDelimAt(pos_, &unused) > 0) {
      return true;
    }
    return Error("bad character " + FormatChar(c));
  }

  bool LexQuote(char quote) {
    size_t begin = pos_++;
    while (true) {
      if (pos_ >= src_.size() || src_[pos_] == '\n') {
        return Error(quote == '"' ? "unterminated quoted string"
                                  : "unterminated character constant");
      }
      char c = src_[pos_++];
      if (c == '\\') {
        if (pos_ >= src_.size()) continue;
        ++pos_;
      } else if (c == quote) {
        break;
      }
    }
    Emit(quote == '"' ? TokenKind::kString : TokenKind::kChar, static_cast<int>(begin),
         std::string(src_.substr(begin, pos_ - begin)));
    return true;
  }

  bool LexNumber() {
    size_t begin = pos_;
    if (src_[pos_] == '+' || src_[pos_] == '-') ++pos_;
    // Accept the characters a Go number literal may contain; the parser validates the value.
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.') {
        ++pos_;
      } else if ((c == '+' || c == '-') && pos_ > begin &&
                 (src_[pos_ - 1] == 'e' || src_[pos_ - 1] == 'E' || src_[pos_ - 1] == 'p' ||
                  src_[pos_ - 1] == 'P') &&
                 !(src_.substr(begin, 2) == "0x" || src_.substr(begin, 2) == "0X")) {
        ++pos_;
      } else {
        break;
      }
    }
    std::string text(src_.substr(begin, pos_ - begin));
    if (text == "+" || text == "-") return Error("bad number syntax: \"" + text + "\"");
    Emit(TokenKind::kNumber, static_cast<int>(begin), std::move(text));
    return true;
  }

  std::string_view src_;
  size_t pos_ = 0;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> Lex(std::string_view source) { return Lexer(source).Run(); }

std::string_view TokenKindName(TokenKind kind) {
  switch (kind) {
    case TokenKind::kText:
      return "text";
    case TokenKind::kLeftDelim:
      return "left delim";
    case TokenKind::kRightDelim:
      return "right delim";
    case TokenKind::kSpace:
      return "space";
    case TokenKind::kIdentifier:
      return "identifier";
    case TokenKind::kKeyword:
      return "keyword";
    case TokenKind::kField:
      return "field";
    case TokenKind::kVariable:
      return "variable";
    case TokenKind::kString:
      return "string";
    case TokenKind::kRawString:
      return "raw string";
    case TokenKind::kChar:
      return "character constant";
    case TokenKind::kNumber:
      return "number";
    case TokenKind::kBool:
      return "bool";
    case TokenKind::kNil:
      return "nil";
    case TokenKind::kDot:
      return "dot";
    case TokenKind::kPipe:
      return "pipe";
    case TokenKind::kLeftParen:
      return "left paren";
    case TokenKind::kRightParen:
      return "right paren";
    case TokenKind::kDeclare:
      return ":=";
    case TokenKind::kAssign:
      return "=";
    case TokenKind::kComma:
      return "comma";
    case TokenKind::kEof:
      return "EOF";
    case TokenKind::kError:
      return "error";
  }
  return "token";
}

}  // namespace corral::tmpl
