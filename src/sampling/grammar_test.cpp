#include "sampling/grammar.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace corral::sampling {
namespace {

// llama.cpp's grammars/json.gbnf, but with the exponent bounded to 2 digits: its
// `[0-9] [1-9]{0,15}` admits numbers such as 1e99999 that overflow a double, which
// nlohmann::json::accept refuses.
constexpr const char* kJsonGrammar = R"(root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null") ws

object ::=
  "{" ws (
            string ":" ws value
    ("," ws string ":" ws value)*
  )? "}" ws

array  ::=
  "[" ws (
            value
    ("," ws value)*
  )? "]" ws

string ::=
  "\"" (
    [^"\\\x7F\x00-\x1F] |
    "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) # escapes
  )* "\"" ws

number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9]{1,2})? ws

# Optional space: by convention, applied in this grammar after literal chars when allowed
ws ::= | " " | "\n" [ \t]{0,20}
)";

std::shared_ptr<const Grammar> MustParse(std::string_view text) {
  auto g = Grammar::Parse(text);
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return g.ok() ? *g : nullptr;
}

std::string ParseError(std::string_view text, const GrammarLimits& limits = {}) {
  auto g = Grammar::Parse(text, limits);
  return g.ok() ? "OK" : g.status().message();
}

// The whole text is a sentence of the grammar.
bool Matches(const std::shared_ptr<const Grammar>& g, std::string_view text) {
  GrammarMatcher m(g);
  return m.Accept(text) && m.IsComplete();
}

// The text is a prefix of some sentence.
bool IsPrefix(const std::shared_ptr<const Grammar>& g, std::string_view text) {
  GrammarMatcher m(g);
  return m.Accept(text);
}

TEST(GrammarParseTest, ErrorsNameLineAndColumn) {
  EXPECT_EQ(ParseError("root ::= foo\n"), "grammar 1:10: undefined rule 'foo'");
  EXPECT_EQ(ParseError("a ::= \"x\"\n"), "grammar 2:1: grammar has no 'root' rule");
  EXPECT_EQ(ParseError("root ::= (\"a\"\n"), "grammar 1:10: unbalanced '(': expecting ')'");
  EXPECT_EQ(ParseError("root ::= \"a\")\n"), "grammar 1:13: unbalanced ')'");
  EXPECT_EQ(ParseError("root ::= \"a\"]"), "grammar 1:13: unbalanced ']'");
  EXPECT_EQ(ParseError("root ::= \"\\q\"\n"), "grammar 1:11: unknown escape '\\q'");
  EXPECT_EQ(ParseError("root ::= \"\\x4\"\n"), "grammar 1:14: expecting 2 hex digits after \\x");
  EXPECT_EQ(ParseError("root ::= [a-c\n"), "grammar 1:10: unterminated character class");
  EXPECT_EQ(ParseError("root ::= \"abc\n"), "grammar 1:10: unterminated string literal");
  EXPECT_EQ(ParseError("root ::= a\n\na ::= \"x\" | [z-a]\n"),
            "grammar 3:15: character range is backwards");
  EXPECT_EQ(ParseError("root ::= \"a\"{3,2}\n"), "grammar 1:13: repetition {m,n} with n < m");
  EXPECT_EQ(ParseError("root ::= \"a\"{2\n"), "grammar 1:13: unbalanced '{': expecting '}'");
  EXPECT_EQ(ParseError("root ::= * \"a\"\n"), "grammar 1:10: repetition with nothing before it");
  EXPECT_EQ(ParseError("root ::= \"a\"\nroot ::= \"b\"\n"),
            "grammar 2:1: rule 'root' is defined twice");
  EXPECT_EQ(ParseError("root = \"a\"\n"), "grammar 1:6: expecting '::=' after rule name");
  EXPECT_EQ(ParseError("root ::= \"a\" <eos>\n"),
            "grammar 1:14: token terminals <...> are not supported");
  EXPECT_EQ(ParseError("root ::= []\n"), "grammar 1:10: empty character class");
}

TEST(GrammarParseTest, RefusesLeftRecursion) {
  EXPECT_EQ(ParseError("root ::= root \"a\" | \"b\"\n"),
            "grammar 1:1: left recursion in rule 'root'");
  // Through another rule, behind a nullable prefix ("b"? can be empty).
  EXPECT_EQ(ParseError("root ::= x \"a\"\nx ::= \"b\"? root\n"),
            "grammar 1:1: left recursion in rule 'root'");
  EXPECT_EQ(ParseError("root ::= x\nx ::= y | \"c\"\ny ::= \"\" x\n"),
            "grammar 2:1: left recursion in rule 'x'");
  // An empty loop body is left recursion of the generated rule.
  EXPECT_NE(ParseError("root ::= (\"\")*\n"), "OK");
  // Right recursion is fine.
  EXPECT_EQ(ParseError("root ::= \"a\" root | \"b\"\n"), "OK");
}

TEST(GrammarParseTest, CapsHostileSizes) {
  GrammarLimits limits;
  limits.max_repetition = 100;
  EXPECT_EQ(ParseError("root ::= \"a\"{101}\n", limits),
            "grammar 1:14: repetition bound above the limit of 100");
  std::string deep = "root ::= " + std::string(100, '(') + "\"a\"" + std::string(100, ')') + "\n";
  EXPECT_EQ(ParseError(deep).find("groups nested deeper than 64") != std::string::npos, true);
  limits = {};
  limits.max_elements = 1000;
  EXPECT_NE(ParseError("root ::= \"ab\"{600}\n", limits).find("more than 1000 elements"),
            std::string::npos);
  // Nested repetition repeats a reference to the group, not its expansion: 60 + 30 elements.
  EXPECT_EQ(ParseError("root ::= (\"ab\"{30}){30}\n", limits), "OK");
  limits = {};
  limits.max_rules = 3;
  EXPECT_NE(ParseError("root ::= a b c d\na ::= \"a\"\n", limits).find("more than 3 rules"),
            std::string::npos);
  limits = {};
  limits.max_text_bytes = 8;
  EXPECT_NE(ParseError("root ::= \"abc\"\n", limits), "OK");
}

// Hostile input: random strings assembled from GBNF fragments either parse or fail with a
// positioned error, and whatever parses can be matched without crashing (run under ASan too).
TEST(GrammarParseTest, RandomFragmentsNeverCrash) {
  const std::vector<std::string> fragments = {
      "root", " ::= ", "a",  "b", " ",    "\n",       "|",       "(",      ")",     "[", "]",
      "^",    "-",     "\"", "x", "\\",   "\\x4",     "\\u00e9", "*",      "+",     "?", "{",
      "}",    "2",     ",",  ".", "#c\n", "\xC3\xA9", "\xFF",    "a ::= ", "b ::= "};
  std::mt19937 rng(7);
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = "root ::= ";
    int n = 1 + static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k) text += fragments[rng() % fragments.size()];
    auto g = Grammar::Parse(text);
    if (!g.ok()) {
      EXPECT_EQ(g.status().message().rfind("grammar ", 0), 0u) << g.status().message();
      continue;
    }
    ++parsed;
    GrammarMatcher m(*g);
    for (const char* piece : {"a", "x", "\xC3", "\xA9", "ab", "\"", "-"}) {
      if (m.CanAccept(piece)) {
        EXPECT_TRUE(m.Accept(piece));
      }
    }
    (void)m.IsComplete();
  }
  EXPECT_GT(parsed, 10);
}

TEST(GrammarMatchTest, CapsAmbiguousExpansion) {
  // r0 ::= r1 | r1, ... : 2^40 expansions to one stack. Refused within the budget, not hung.
  std::string text = "root ::= r0\n";
  for (int i = 0; i < 40; ++i) {
    text += "r" + std::to_string(i) + " ::= r" + std::to_string(i + 1) + " | r" +
            std::to_string(i + 1) + "\n";
  }
  text += "r40 ::= \"x\"\n";
  GrammarLimits limits;
  limits.max_expansions = 10000;
  auto g = Grammar::Parse(text, limits);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  GrammarMatcher m(*g);
  EXPECT_TRUE(m.IsDead());
  EXPECT_FALSE(m.Accept("x"));
  // Too many live stacks: 5 at the start (one per alternative), 10 after "a" (b, c, d, e, the
  // end, and the loop's 5 alternatives again).
  limits = {};
  limits.max_stacks = 5;
  g = Grammar::Parse("root ::= (\"a\" | \"a\" \"b\" | \"a\" \"c\" | \"a\" \"d\" | \"a\" \"e\")+\n",
                     limits);
  ASSERT_TRUE(g.ok());
  GrammarMatcher m2(*g);
  EXPECT_FALSE(m2.IsDead());
  EXPECT_FALSE(m2.Accept("a"));
  limits.max_stacks = 10;
  g = Grammar::Parse("root ::= (\"a\" | \"a\" \"b\" | \"a\" \"c\" | \"a\" \"d\" | \"a\" \"e\")+\n",
                     limits);
  ASSERT_TRUE(g.ok());
  GrammarMatcher m3(*g);
  EXPECT_TRUE(m3.Accept("a"));
  EXPECT_TRUE(m3.IsComplete());
}

TEST(GrammarMatchTest, LiteralsAlternativesAndComments) {
  auto g = MustParse(
      "# a comment\n"
      "root ::= greeting \" \" name   # trailing comment\n"
      "greeting ::= \"hi\" | \"hello\"\n"
      "name ::= \"bob\" |\n"
      "  \"al\\\"ice\"\n");
  EXPECT_TRUE(Matches(g, "hi bob"));
  EXPECT_TRUE(Matches(g, "hello al\"ice"));
  EXPECT_FALSE(Matches(g, "hello"));
  EXPECT_TRUE(IsPrefix(g, "hel"));
  EXPECT_FALSE(IsPrefix(g, "hex"));
  EXPECT_FALSE(Matches(g, "hi bobb"));
}

TEST(GrammarMatchTest, RepetitionBounds) {
  auto g = MustParse("root ::= \"a\"{2,4}\n");
  EXPECT_FALSE(Matches(g, "a"));
  EXPECT_TRUE(Matches(g, "aa"));
  EXPECT_TRUE(Matches(g, "aaa"));
  EXPECT_TRUE(Matches(g, "aaaa"));
  EXPECT_FALSE(IsPrefix(g, "aaaaa"));
  g = MustParse("root ::= \"ab\"{3}\n");
  EXPECT_TRUE(Matches(g, "ababab"));
  EXPECT_FALSE(Matches(g, "abab"));
  EXPECT_FALSE(IsPrefix(g, "abababa"));
  g = MustParse("root ::= \"x\"{2,} \"y\"{0,1}\n");
  EXPECT_FALSE(Matches(g, "x"));
  EXPECT_TRUE(Matches(g, "xx"));
  EXPECT_TRUE(Matches(g, std::string(50, 'x') + "y"));
  EXPECT_FALSE(IsPrefix(g, "xxyy"));
  g = MustParse("root ::= \"a\"* \"b\"+ \"c\"? \"d\"{0}\n");
  EXPECT_TRUE(Matches(g, "b"));
  EXPECT_TRUE(Matches(g, "aaabbc"));
  EXPECT_FALSE(Matches(g, "aaa"));
  EXPECT_FALSE(IsPrefix(g, "abcc"));
  EXPECT_FALSE(IsPrefix(g, "abd"));
  g = MustParse("root ::= (\"a\" | \"bc\"){1,3} \".\"\n");
  EXPECT_TRUE(Matches(g, "bca."));
  EXPECT_TRUE(Matches(g, "abcbc."));
  EXPECT_FALSE(IsPrefix(g, "aaaa"));
  EXPECT_FALSE(Matches(g, "."));
}

TEST(GrammarMatchTest, CharacterClasses) {
  auto g = MustParse("root ::= [a-cx]+ [^0-9a-f] [\\]\\-] .\n");
  EXPECT_TRUE(Matches(g, "abxcz]!"));
  EXPECT_TRUE(Matches(g, "a - "));
  EXPECT_TRUE(Matches(g, "aG-\xE6\x97\xA5"));  // '.' is any code point
  EXPECT_FALSE(IsPrefix(g, "d"));
  EXPECT_FALSE(IsPrefix(g, "a5"));
  EXPECT_FALSE(IsPrefix(g, "ae"));
  EXPECT_FALSE(IsPrefix(g, "ag["));
  g = MustParse("root ::= [^\\x00-\\x1F\"]* \"\\\"\"\n");
  EXPECT_TRUE(Matches(g, "abc\""));
  EXPECT_FALSE(IsPrefix(g, "ab\ncd"));
}

TEST(GrammarMatchTest, Utf8CodePoints) {
  // Greek lower-case letters, then an escaped U+00E9 or a literal 'é' (same code point).
  auto g = MustParse("root ::= [\xCE\xB1-\xCF\x89]+ (\"\\u00e9\" | \"\\U0001F600\")\n");
  EXPECT_TRUE(Matches(g, "\xCE\xB1\xCE\xB2\xC3\xA9"));  // αβé
  EXPECT_TRUE(Matches(g, "\xCF\x89\xF0\x9F\x98\x80"));  // ω😀
  EXPECT_FALSE(IsPrefix(g, "a"));
  EXPECT_FALSE(IsPrefix(g, "\xCE\xB1\xCE\xB1\xC3\xA8"));  // è
  // A code point split between two Accept calls stays pending.
  GrammarMatcher m(g);
  EXPECT_TRUE(m.Accept("\xCE"));
  EXPECT_FALSE(m.IsComplete());
  EXPECT_TRUE(m.Accept("\xB1\xC3"));
  EXPECT_FALSE(m.IsComplete());       // half of é read
  EXPECT_FALSE(m.CanAccept("\xA8"));  // completes è: rejected, state unchanged
  EXPECT_TRUE(m.Accept("\xA9"));
  EXPECT_TRUE(m.IsComplete());
  // A partial byte that cannot begin anything the grammar allows is refused at once: 0xE2 starts
  // U+2000..U+2FFF, none of which is Greek, é or 😀.
  GrammarMatcher m2(g);
  EXPECT_TRUE(m2.Accept("\xCE\xB1"));
  EXPECT_FALSE(m2.CanAccept("\xE2"));
  EXPECT_TRUE(m2.CanAccept("\xF0"));
  // Invalid UTF-8 never matches, not even '.'.
  auto any = MustParse("root ::= .*\n");
  EXPECT_TRUE(Matches(any, "x\xC3\xA9"));
  EXPECT_FALSE(IsPrefix(any, "\xC0\x80"));      // overlong
  EXPECT_FALSE(IsPrefix(any, "\xED\xA0\x80"));  // surrogate
  // ED A0 can only become a surrogate: refused at its second byte, never a dead end later.
  EXPECT_TRUE(IsPrefix(any, "\xED"));
  EXPECT_TRUE(IsPrefix(any, "\xED\x9F"));
  EXPECT_FALSE(IsPrefix(any, "\xED\xA0"));
  EXPECT_FALSE(IsPrefix(any, "\xFF"));
}

TEST(GrammarMatchTest, JsonGrammar) {
  auto g = MustParse(kJsonGrammar);
  EXPECT_TRUE(Matches(g, "{}"));
  EXPECT_TRUE(Matches(g, "{\"a\": [1, 2.5e+3, -0, true, null, \"x\\n\\u00e9\"], \"b\": {}}"));
  EXPECT_TRUE(Matches(g, "{\n  \"k\":\"caf\xC3\xA9\"\n}"));
  EXPECT_FALSE(Matches(g, "{\"a\": 1"));
  EXPECT_TRUE(IsPrefix(g, "{\"a\": 1"));
  EXPECT_FALSE(IsPrefix(g, "{\"a\": 01"));
  EXPECT_FALSE(IsPrefix(g, "{\"a\" 1"));
  EXPECT_FALSE(IsPrefix(g, "{\"a\": tru "));
  EXPECT_FALSE(IsPrefix(g, "{\"a\\q"));
  EXPECT_FALSE(IsPrefix(g, "{\"a\x01"));
  EXPECT_FALSE(IsPrefix(g, "[1]"));  // root is an object
  EXPECT_FALSE(IsPrefix(g, "{,}"));
}

// A tiny vocabulary whose allowed sets are worked out by hand.
class TinyVocabTest : public ::testing::Test {
 protected:
  //                                 0    1    2     3     4    5   6        7       8       9
  std::vector<std::string> pieces = {"a",     "b",    "ab",   "ba",       "c",     "",
                                     "<eos>", "\xC3", "\xA9", "\xC3\xA9", "bb\xC3"};
  std::vector<int32_t> eog = {6};
  GrammarVocab vocab = GrammarVocab::Build(pieces, eog);

  // Ids left finite by FilterLogits, checked against AllowsToken for every id.
  std::vector<int32_t> Allowed(const GrammarMatcher& m) {
    std::vector<float> logits(pieces.size(), 1.0f);
    m.FilterLogits(vocab, logits);
    std::vector<int32_t> out;
    for (int32_t id = 0; id < static_cast<int32_t>(pieces.size()); ++id) {
      EXPECT_EQ(std::isfinite(logits[id]), m.AllowsToken(vocab, id)) << "token " << id;
      if (std::isfinite(logits[id])) out.push_back(id);
    }
    return out;
  }
};

TEST_F(TinyVocabTest, AllowedSetsByHand) {
  // "a", then any number of "b", then an optional "é".
  GrammarMatcher m(MustParse("root ::= \"a\" \"b\"* \"\\u00e9\"?\n"));
  EXPECT_EQ(Allowed(m), (std::vector<int32_t>{0, 2}));  // a, ab
  ASSERT_TRUE(m.AcceptToken(vocab, 0));
  // b, bb\xC3 (b b then half of é), \xC3, é, <eos> (complete); not "ba", "", "c", lone \xA9.
  EXPECT_EQ(Allowed(m), (std::vector<int32_t>{1, 6, 7, 9, 10}));
  ASSERT_TRUE(m.AcceptToken(vocab, 10));
  EXPECT_FALSE(m.IsComplete());
  EXPECT_EQ(Allowed(m), (std::vector<int32_t>{8}));  // only the rest of é
  EXPECT_FALSE(m.AcceptToken(vocab, 6));             // <eos> refused mid code point
  ASSERT_TRUE(m.AcceptToken(vocab, 8));
  EXPECT_EQ(Allowed(m), (std::vector<int32_t>{6}));  // only <eos>
  EXPECT_TRUE(m.AcceptToken(vocab, 6));
  EXPECT_FALSE(m.AcceptToken(vocab, 5));  // empty text: never
  EXPECT_FALSE(m.AcceptToken(vocab, 1));
}

TEST(GrammarVocabTest, DuplicatePiecesAndPrefixes) {
  std::vector<std::string> pieces = {"ab", "a", "ab", "abc", "b"};
  GrammarVocab vocab = GrammarVocab::Build(pieces, {});
  EXPECT_EQ(vocab.node_count(), 5u);  // root, a, ab, abc, b
  GrammarMatcher m(MustParse("root ::= \"ab\" \"c\"?\n"));
  std::vector<float> logits(pieces.size(), 0.0f);
  m.FilterLogits(vocab, logits);
  EXPECT_TRUE(std::isfinite(logits[0]) && std::isfinite(logits[1]) && std::isfinite(logits[2]) &&
              std::isfinite(logits[3]));
  EXPECT_FALSE(std::isfinite(logits[4]));
}

// Random walks over a small JSON-ish vocabulary: every step's allowed set (FilterLogits) agrees
// with AllowsToken, and every walk that ends with <eos> is valid JSON. Run with the transition
// cache and with one so small that every filter falls back to the uncached walk.
class GrammarRandomWalkTest : public ::testing::TestWithParam<size_t> {};

TEST_P(GrammarRandomWalkTest, JsonWalksParse) {
  std::vector<std::string> pieces = {"{",    "}",     "[",
                                     "]",    ",",     ":",
                                     "\"",   "\"a\"", "\":",
                                     "a",    "bc",    "\\",
                                     "\\n",  "\\u00", "e9",
                                     "1",    "0",     "-",
                                     ".",    "5e",    "E+",
                                     "true", "false", "null",
                                     " ",    "\n",    "\t",
                                     "\n  ", "{\"",   "\"}",
                                     "\xC3", "\xA9",  "\xE6\x97\xA5",
                                     "\x7F", "\x01",  "},{",
                                     "[1",   ", \"",  "tru",
                                     "e",    "nul",   "l",
                                     "<eos>"};
  const int32_t eos = static_cast<int32_t>(pieces.size()) - 1;
  GrammarVocab vocab = GrammarVocab::Build(pieces, std::vector<int32_t>{eos});
  GrammarLimits limits;
  limits.max_cached_states = GetParam();
  auto parsed = Grammar::Parse(kJsonGrammar, limits);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  auto g = *parsed;
  std::mt19937 rng(1234);
  int completed = 0;
  for (int walk = 0; walk < 300; ++walk) {
    GrammarMatcher m(g);
    std::string text;
    for (int step = 0; step < 400; ++step) {
      std::vector<float> logits(pieces.size(), 0.0f);
      m.FilterLogits(vocab, logits);
      std::vector<int32_t> allowed;
      std::vector<double> weights;
      for (int32_t id = 0; id <= eos; ++id) {
        bool ok = std::isfinite(logits[id]);
        ASSERT_EQ(ok, m.AllowsToken(vocab, id)) << "after '" << text << "' token " << id;
        if (!ok) continue;
        allowed.push_back(id);
        // Favour closing tokens so walks end.
        const std::string& p = pieces[id];
        bool closes = p == "}" || p == "]" || p == "\"" || p == "\"}" || id == eos;
        weights.push_back(closes ? 6.0 : 1.0);
      }
      ASSERT_FALSE(allowed.empty()) << "dead end after '" << text << "'";
      int32_t id = allowed[std::discrete_distribution<size_t>(weights.begin(), weights.end())(rng)];
      ASSERT_TRUE(m.AcceptToken(vocab, id));
      if (id == eos) {
        EXPECT_TRUE(nlohmann::json::accept(text)) << text;
        ++completed;
        break;
      }
      text += pieces[id];
    }
  }
  EXPECT_GE(completed, 100);
}

INSTANTIATE_TEST_SUITE_P(CacheSizes, GrammarRandomWalkTest, ::testing::Values(4096, 2));

}  // namespace
}  // namespace corral::sampling
