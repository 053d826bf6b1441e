#include "sampling/stop.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sampling/utf8.h"

namespace corral::sampling {
namespace {

// Pushes pieces one by one; returns what each step emitted.
std::vector<std::string> PushAll(TextStream& s, const std::vector<std::string>& pieces) {
  std::vector<std::string> out;
  for (const std::string& p : pieces) out.push_back(s.Push(p).text);
  return out;
}

using Steps = std::vector<std::string>;
constexpr int64_t kMany = 1000;

TEST(TokenBudgetTest, OllamasNumPredict) {
  EXPECT_EQ(TokenBudget(5, 2048, 10), 5);
  EXPECT_EQ(TokenBudget(-1, 2048, 10), 20480);      // 10 * num_ctx
  EXPECT_EQ(TokenBudget(0, 2048, 10), 20480);       // no limit of its own
  EXPECT_EQ(TokenBudget(100000, 2048, 10), 20480);  // llm/server.go caps N too
  EXPECT_EQ(TokenBudget(-2, 2048, 100), 1948);      // fill the context: 2048 - 100
  EXPECT_EQ(TokenBudget(-2, 2048, 4000), 0);
}

TEST(DoneReasonTest, Strings) {
  EXPECT_EQ(DoneReasonString(DoneReason::kStop), "stop");
  EXPECT_EQ(DoneReasonString(DoneReason::kLength), "length");
  EXPECT_EQ(DoneReasonString(DoneReason::kNone), "");
}

TEST(TextStreamTest, NoStopsEmitsAtOnce) {
  TextStream s({}, kMany);
  EXPECT_EQ(PushAll(s, {"Hel", "lo", " world"}), (Steps{"Hel", "lo", " world"}));
  EXPECT_FALSE(s.done());
}

TEST(TextStreamTest, StopSpanningTokensNeverAppears) {
  // "a#" -> "a" out, "#" could start "###"; "#" -> "##" held; "#b" -> "###" found at 1: the
  // text before it ("") is the last output; "b" after it is dropped.
  TextStream s({"###"}, kMany);
  EXPECT_EQ(s.Push("a#").text, "a");
  EXPECT_EQ(s.held(), "#");
  EXPECT_EQ(s.Push("#").text, "");
  const StreamStep last = s.Push("#b");
  EXPECT_EQ(last.text, "");
  EXPECT_EQ(last.done, DoneReason::kStop);
  EXPECT_TRUE(s.done());
  EXPECT_EQ(s.done_reason(), DoneReason::kStop);
  // Later pushes do nothing.
  const StreamStep after = s.Push("more");
  EXPECT_EQ(after.text, "");
  EXPECT_EQ(after.done, DoneReason::kStop);
}

TEST(TextStreamTest, FalseStartIsReleased) {
  // "xab": "ab" could start "abc" -> "x" out; "d": "abd" cannot -> all of it out.
  TextStream s({"abc"}, kMany);
  EXPECT_EQ(PushAll(s, {"xab", "d"}), (Steps{"x", "abd"}));
  EXPECT_FALSE(s.done());
}

TEST(TextStreamTest, OverlappingPrefix) {
  // Stop "aab": "aa" is held whole; "aab" makes "aaaab", where the stop starts at 2: "aa" out.
  TextStream s({"aab"}, kMany);
  EXPECT_EQ(s.Push("aa").text, "");
  const StreamStep last = s.Push("aab");
  EXPECT_EQ(last.text, "aa");
  EXPECT_EQ(last.done, DoneReason::kStop);
}

TEST(TextStreamTest, HoldsOnlyTheLongestPossibleStart) {
  // Stops "cat", "xyzw". "abcxy": "xy" starts "xyzw" (the longest held suffix); "c" before it
  // no longer starts "cat" since "cx" does not -> "abc" out.
  TextStream s({"cat", "xyzw"}, kMany);
  EXPECT_EQ(s.Push("abcxy").text, "abc");
  EXPECT_EQ(s.held(), "xy");
}

TEST(TextStreamTest, EarliestStopWins) {
  // "abcde" holds "bcde" at 1 and "cd" at 2: cut at 1 whatever the list order.
  TextStream s({"cd", "bcde"}, kMany);
  const StreamStep step = s.Push("abcde");
  EXPECT_EQ(step.text, "a");
  EXPECT_EQ(step.done, DoneReason::kStop);
}

TEST(TextStreamTest, StopInsideOnePieceWithTextBefore) {
  TextStream s({"\n\n"}, kMany);
  EXPECT_EQ(s.Push("Hi").text, "Hi");
  const StreamStep step = s.Push(" there\n\nUser:");
  EXPECT_EQ(step.text, " there");
  EXPECT_EQ(step.done, DoneReason::kStop);
}

TEST(TextStreamTest, StopOverManySingleCharacterTokens) {
  TextStream s({"</s>"}, kMany);
  EXPECT_EQ(PushAll(s, {"ok", "<", "/", "s"}), (Steps{"ok", "", "", ""}));
  const StreamStep step = s.Push(">");
  EXPECT_EQ(step.text, "");
  EXPECT_EQ(step.done, DoneReason::kStop);
}

TEST(TextStreamTest, EmptyStopStringsAreIgnored) {
  TextStream s({"", "zz"}, kMany);
  EXPECT_EQ(s.Push("abc").text, "abc");
  EXPECT_FALSE(s.done());
}

TEST(TextStreamTest, Utf8SplitAcrossTokens) {
  // "é" = C3 A9: "caf\xC3" -> "caf", the lead byte held; "\xA9!" -> "é!".
  TextStream s({}, kMany);
  EXPECT_EQ(PushAll(s, {"caf\xC3", "\xA9!"}), (Steps{"caf", "\xC3\xA9!"}));
  // U+1F600 = F0 9F 98 80 over three tokens.
  TextStream e({}, kMany);
  EXPECT_EQ(PushAll(e, {"\xF0\x9F", "\x98", "\x80"}), (Steps{"", "", "\xF0\x9F\x98\x80"}));
}

TEST(TextStreamTest, StopWithASplitCharacter) {
  // Stop "é." (C3 A9 2E): "x\xC3" -> "x"; "\xA9" -> "é" could start the stop: held; "." stop.
  TextStream s({"\xC3\xA9."}, kMany);
  EXPECT_EQ(PushAll(s, {"x\xC3", "\xA9"}), (Steps{"x", ""}));
  const StreamStep step = s.Push(".");
  EXPECT_EQ(step.text, "");
  EXPECT_EQ(step.done, DoneReason::kStop);
  // "é" followed by something else is released whole.
  TextStream t({"\xC3\xA9."}, kMany);
  EXPECT_EQ(PushAll(t, {"x\xC3", "\xA9", "!"}), (Steps{"x", "", "\xC3\xA9!"}));
}

TEST(TextStreamTest, InvalidBytesBecomeReplacementCharacters) {
  // FF never starts a sequence; C3 followed by 'b' is not a character: one U+FFFD each.
  TextStream s({}, kMany);
  EXPECT_EQ(s.Push("a\xFF"
                   "b")
                .text,
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(s.Push("\xC3"
                   "b")
                .text,
            "\xEF\xBF\xBD"
            "b");
}

TEST(TextStreamTest, LengthReleasesHeldTextAndCountsTokens) {
  // Budget 3: the third piece ends generation ("length"); "x" held for "xyz" is released.
  TextStream s({"xyz"}, 3);
  EXPECT_EQ(s.Push("a").text, "a");
  EXPECT_EQ(s.Push("b").text, "b");
  const StreamStep last = s.Push("x");
  EXPECT_EQ(last.text, "x");
  EXPECT_EQ(last.done, DoneReason::kLength);
  EXPECT_EQ(s.n_tokens(), 3);
}

TEST(TextStreamTest, StopOnTheLastAllowedTokenIsStop) {
  TextStream s({"xyz"}, 2);
  EXPECT_EQ(s.Push("ax").text, "a");
  const StreamStep last = s.Push("yz");
  EXPECT_EQ(last.text, "");
  EXPECT_EQ(last.done, DoneReason::kStop);
}

TEST(TextStreamTest, EndOfGenerationIsStopAndFlushes) {
  // The EOG token's own text is not output; held text is.
  TextStream s({"xyz"}, kMany);
  EXPECT_EQ(s.Push("ax").text, "a");
  const StreamStep last = s.Push("</s>", /*end_of_generation=*/true);
  EXPECT_EQ(last.text, "x");
  EXPECT_EQ(last.done, DoneReason::kStop);
}

TEST(TextStreamTest, FinishFromOutside) {
  // Context full: "length"; an unfinished character (E2 82 of U+20AC) is two U+FFFD.
  TextStream s({}, kMany);
  EXPECT_EQ(s.Push("a\xE2\x82").text, "a");
  const StreamStep last = s.Finish(DoneReason::kLength);
  EXPECT_EQ(last.text, "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(last.done, DoneReason::kLength);
  EXPECT_EQ(s.Finish(DoneReason::kStop).done, DoneReason::kLength);  // already done
}

TEST(TextStreamTest, ZeroBudgetIsDoneAtOnce) {
  TextStream s({}, 0);
  EXPECT_TRUE(s.done());
  EXPECT_EQ(s.done_reason(), DoneReason::kLength);
}

TEST(Utf8Test, SequenceLengthsAndIncompleteSuffixes) {
  EXPECT_EQ(Utf8SequenceLength("a", 0), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xC3\xA9", 0), 2u);
  EXPECT_EQ(Utf8SequenceLength("\xE2\x82\xAC", 0), 3u);
  EXPECT_EQ(Utf8SequenceLength("\xF0\x9F\x98\x80", 0), 4u);
  EXPECT_EQ(Utf8SequenceLength("\xC0\x80", 0), 0u);          // overlong
  EXPECT_EQ(Utf8SequenceLength("\xED\xA0\x80", 0), 0u);      // surrogate D800
  EXPECT_EQ(Utf8SequenceLength("\xF4\x90\x80\x80", 0), 0u);  // above U+10FFFF
  EXPECT_EQ(IncompleteUtf8Suffix("ab"), 0u);
  EXPECT_EQ(IncompleteUtf8Suffix("a\xE2"), 1u);
  EXPECT_EQ(IncompleteUtf8Suffix("a\xE2\x82"), 2u);
  EXPECT_EQ(IncompleteUtf8Suffix("a\xE2\x82\xAC"), 0u);  // complete
  EXPECT_EQ(IncompleteUtf8Suffix("\xF0\x9F\x98"), 3u);
  EXPECT_EQ(IncompleteUtf8Suffix("a\x82"), 0u);     // stray continuation: invalid
  EXPECT_EQ(IncompleteUtf8Suffix("\xE0\x80"), 0u);  // can never be valid (overlong)
  EXPECT_EQ(SanitizeUtf8("\xE2\x82"
                         "a"),
            "\xEF\xBF\xBD\xEF\xBF\xBD"
            "a");
}

}  // namespace
}  // namespace corral::sampling
