#include "base/strings.h"

#include <gtest/gtest.h>

namespace corral {
namespace {

TEST(StringsTest, TrimSpace) {
  EXPECT_EQ(TrimSpace("  a b \t\n"), "a b");
  EXPECT_EQ(TrimSpace("   "), "");
  EXPECT_EQ(TrimSpace(""), "");
}

TEST(StringsTest, SplitKeepsEmptyFields) {
  EXPECT_EQ(Split("a,,b", ','), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(Split("", ','), (std::vector<std::string>{""}));
  EXPECT_EQ(Split("x,", ','), (std::vector<std::string>{"x", ""}));
}

TEST(StringsTest, PrefixSuffixLower) {
  EXPECT_TRUE(StartsWith("sha256-abc", "sha256-"));
  EXPECT_FALSE(StartsWith("sha", "sha256-"));
  EXPECT_TRUE(EndsWith("model.gguf", ".gguf"));
  EXPECT_FALSE(EndsWith("gguf", ".gguf"));
  EXPECT_EQ(ToLower("Q4_K_M"), "q4_k_m");
}

TEST(StringsTest, AppendUtf8) {
  std::string out;
  for (uint32_t cp : {0x41u, 0xE9u, 0x20ACu, 0x1F600u, 0x110000u}) AppendUtf8(cp, &out);
  EXPECT_EQ(out, "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xEF\xBF\xBD");
}

TEST(StringsTest, EditDistance) {
  EXPECT_EQ(EditDistance("serve", "serve"), 0u);
  EXPECT_EQ(EditDistance("serv", "serve"), 1u);
  EXPECT_EQ(EditDistance("srvee", "serve"), 2u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

TEST(StringsTest, HtmlEscapeTheFiveCharacters) {
  EXPECT_EQ(HtmlEscape("a<b>&\"c'd"), "a&lt;b&gt;&amp;&#34;c&#39;d");
  EXPECT_EQ(HtmlEscape("plain é"), "plain é");
}

TEST(StringsTest, QuoteForMessageEscapesAndCuts) {
  EXPECT_EQ(QuoteForMessage("a\"b\\c", 100, false), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(QuoteForMessage(std::string("x\n\x7f", 3), 100, false), "\"x\\x0a\\x7f\"");
  EXPECT_EQ(QuoteForMessage("é", 100, false), "\"é\"");
  EXPECT_EQ(QuoteForMessage("é", 100, true), "\"\\xc3\\xa9\"");
  EXPECT_EQ(QuoteForMessage("abcdef", 3, false), "\"abc...\"");
}

}  // namespace
}  // namespace corral

namespace corral {
namespace {

// Expected values are what Go's strconv.Quote returns for the same bytes.
TEST(GoQuoteTest, MatchesStrconvQuote) {
  EXPECT_EQ(GoQuote(""), "\"\"");
  EXPECT_EQ(GoQuote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(GoQuote(std::string("\0\x7f\x1b", 3)), R"("\x00\x7f\x1b")");
  EXPECT_EQ(GoQuote("\a\b\f\n\r\t\v"), R"("\a\b\f\n\r\t\v")");
  EXPECT_EQ(GoQuote("caf\xc3\xa9 \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
  EXPECT_EQ(GoQuote("\xc2\xa0"), R"("\u00a0")");              // no-break space: not printable
  EXPECT_EQ(GoQuote("\xe2\x80\x8b"), R"("\u200b")");          // zero-width space
  EXPECT_EQ(GoQuote("\xee\x80\x80"), R"("\ue000")");          // private use
  EXPECT_EQ(GoQuote("\xf3\xb0\x80\x80"), R"("\U000f0000")");  // supplementary private use
  EXPECT_EQ(GoQuote("\xef\xbf\xbd"), "\"\xef\xbf\xbd\"");     // a real U+FFFD prints
  EXPECT_EQ(GoQuote("\xff"), R"("\xff")");                    // invalid bytes one by one
  EXPECT_EQ(GoQuote("\xed\xa0\x80"), R"("\xed\xa0\x80")");    // a surrogate is invalid UTF-8
  EXPECT_EQ(GoQuote("\xc0\xaf"), R"("\xc0\xaf")");            // overlong '/'
  EXPECT_EQ(GoQuote("\xe2\x82"), R"("\xe2\x82")");            // truncated
}

}  // namespace
}  // namespace corral
