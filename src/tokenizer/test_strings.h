// Deterministic test strings for the tokenizer tests: source code, emoji, CJK, Arabic and other
// scripts, whitespace runs, control characters, digits, punctuation and the model's own special
// token texts, glued together by a fixed pseudo-random sequence.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace corral::tokenizer::testing {

inline const std::vector<std::string>& TextPool() {
  static const std::vector<std::string> pool = {
      // words and contractions
      "Hello",
      "world",
      "the",
      "The",
      "don't",
      "I'm",
      "we'll",
      "they've",
      "it's",
      "YOU'RE",
      "HE'S",
      "she'D",
      "Ünïcödé",
      "naïve",
      "café",
      "Straße",
      "İstanbul",
      "ǅemal",
      "résumé",
      "Ω",
      "µ",
      "ﬁne",
      "Ｆｕｌｌ",
      "ABC",
      "abc",
      "aBc",
      "camelCaseWord",
      "snake_case_word",
      // source code
      "int main() {\n  return 0;\n}",
      "for (int i = 0; i < 10; ++i) {",
      "def f(x):\n\treturn x**2",
      "#include <stdio.h>",
      "std::vector<int> v{1, 2, 3};",
      "x => x * 2",
      "SELECT * FROM t;",
      "<div class=\"x\">",
      "// comment",
      "/* block */",
      "a+b=c^d|e~f`g",
      "@user #tag",
      "~/path/to/file.txt",
      "https://example.com/?q=1&r=2",
      "$HOME",
      "if (a && b || !c)",
      "    indented",
      "\tcode();",
      "[1,2,3]",
      "{\"key\": \"value\"}",
      "__init__",
      // numbers
      "0",
      "7",
      "12",
      "123",
      "1234",
      "123456789",
      "3.14159",
      "0x1F",
      "1,000,000",
      "٣٤٥",
      "①②",
      "Ⅻ",
      "²³",
      "½",
      // emoji and symbols
      "😀",
      "👍🏽",
      "👨‍👩‍👧‍👦",
      "🇺🇸",
      "❤️",
      "🦙",
      "✓",
      "→",
      "€100",
      "©",
      "™",
      "∑∫√",
      // CJK and other scripts
      "你好，世界",
      "日本語のテキスト",
      "カタカナ",
      "한국어 문장",
      "漢字",
      "、。「」",
      "ｆｕｌｌ",
      "مرحبا بالعالم",
      "السلام عليكم",
      "١٢٣",
      "שלום",
      "नमस्ते",
      "สวัสดี",
      "Ελληνικά",
      "Привет мир",
      "Ёлка",
      "ğüşıöç",
      "Việt Nam",
      // punctuation
      "...",
      "!!!",
      "?!",
      "—",
      "–",
      "«quoted»",
      "“smart”",
      "‘single’",
      "'s",
      " 's",
      " ' ",
      "(",
      ")",
      "[]",
      ",",
      ".",
      "?",
      " ?",
      " !",
      " .",
      " ,",
      ":",
      ";",
      "''",
      "\"",
      // whitespace
      " ",
      "  ",
      "   ",
      "      ",
      "\t",
      "\t\t",
      "\n",
      "\n\n",
      "\n\n\n",
      "\r\n",
      " \n ",
      "\r",
      "\u00A0",
      "\u3000",
      "\u2003",
      "\u2028",
      "\u202F",
      "    \t\t  ",
      " \t\n\r ",
      // control and format characters
      "\x01",
      "\x07",
      "\x1B[31mred\x1B[0m",
      "\x1C",
      "\x1F",
      "\x7F",
      "\u0085",
      "\u200B",
      "\u200D",
      "\uFEFF",
      "\u00AD",
      "\u0301",
      "e\u0301",
      "\uFFFD",
      "\uE000",
  };
  return pool;
}

// A deterministic sequence of `count` strings built from the pool plus `extra` pieces (e.g. a
// vocabulary's special-token texts).
inline std::vector<std::string> GenerateStrings(size_t count, const std::vector<std::string>& extra,
                                                uint64_t seed) {
  std::vector<std::string> pool = TextPool();
  pool.insert(pool.end(), extra.begin(), extra.end());
  static const char* const kGlue[] = {"", " ", "  ", "\n", "", " ", "\t", " \n"};
  uint64_t state = seed * 6364136223846793005ull + 1442695040888963407ull;
  const auto next = [&](uint64_t bound) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<size_t>((state >> 33) % bound);
  };
  std::vector<std::string> out(extra.begin(), extra.end());
  // Pool entries alone alternate with random combinations of them.
  size_t next_alone = 0;
  while (out.size() < count) {
    if (out.size() % 2 == 0 && next_alone < pool.size()) {
      out.push_back(pool[next_alone++]);
      continue;
    }
    std::string s;
    const size_t parts = 1 + next(6);
    for (size_t p = 0; p < parts; ++p) {
      if (p > 0) s += kGlue[next(8)];
      s += pool[next(pool.size())];
    }
    out.push_back(std::move(s));
  }
  out.resize(count);
  return out;
}

}  // namespace corral::tokenizer::testing
