// Tokenizer for Go text/template source: splits text from {{actions}}, applies the "{{- " and
// " -}}" trim markers, drops comments and returns every token up front.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace corral::tmpl {

enum class TokenKind {
  kText,
  kLeftDelim,
  kRightDelim,
  kSpace,
  kIdentifier,
  kKeyword,   // if else end range with define template block break continue
  kField,     // ".Name"
  kVariable,  // "$name" or "$"
  kString,    // quoted, text kept with its quotes
  kRawString,
  kChar,  // 'x'
  kNumber,
  kBool,
  kNil,
  kDot,
  kPipe,
  kLeftParen,
  kRightParen,
  kDeclare,  // :=
  kAssign,   // =
  kComma,
  kEof,
  kError,  // text is the message
};

struct Token {
  TokenKind kind;
  int pos;  // byte offset in the source
  std::string text;
};

// Never fails: a lexical error ends the list with one kError token.
std::vector<Token> Lex(std::string_view source);

std::string_view TokenKindName(TokenKind kind);

}  // namespace corral::tmpl
