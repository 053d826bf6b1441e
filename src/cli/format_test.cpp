// The client verbs' text, string for string as Ollama's CLI prints it.
#include "cli/format.h"

#include <gtest/gtest.h>

#include "cli/run_output.h"
#include "cli/terminal.h"

namespace corral::cli {
namespace {

using nlohmann::json;
using std::chrono::days;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

SystemTime Now() { return *ParseRfc3339("2025-06-01T12:00:00Z"); }

TEST(HumanBytesTest, DecimalUnitsWithOllamasRounding) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(999), "999 B");
  EXPECT_EQ(HumanBytes(1000), "1 KB");
  EXPECT_EQ(HumanBytes(1999), "2.0 KB");
  EXPECT_EQ(HumanBytes(807'414), "807 KB");
  EXPECT_EQ(HumanBytes(12'500'000), "12 MB");
  EXPECT_EQ(HumanBytes(1'300'000'000), "1.3 GB");
  EXPECT_EQ(HumanBytes(2'000'000'000), "2 GB");
  EXPECT_EQ(HumanBytes(4'661'224'676), "4.7 GB");
  EXPECT_EQ(HumanBytes(1'500'000'000'000), "1.5 TB");
}

TEST(HumanTimeTest, AgoAndFromNow) {
  const SystemTime now = Now();
  EXPECT_EQ(HumanTime(std::nullopt, now, "Never"), "Never");
  EXPECT_EQ(HumanTime(now - milliseconds(500), now, "Never"), "Less than a second ago");
  EXPECT_EQ(HumanTime(now - seconds(1), now, "Never"), "1 second ago");
  EXPECT_EQ(HumanTime(now - seconds(45), now, "Never"), "45 seconds ago");
  EXPECT_EQ(HumanTime(now - seconds(90), now, "Never"), "About a minute ago");
  EXPECT_EQ(HumanTime(now - minutes(2), now, "Never"), "2 minutes ago");
  EXPECT_EQ(HumanTime(now - minutes(89), now, "Never"), "About an hour ago");
  EXPECT_EQ(HumanTime(now - minutes(90), now, "Never"), "2 hours ago") << "hours are rounded";
  EXPECT_EQ(HumanTime(now - hours(47), now, "Never"), "47 hours ago");
  EXPECT_EQ(HumanTime(now - days(3), now, "Never"), "3 days ago");
  EXPECT_EQ(HumanTime(now - days(20), now, "Never"), "2 weeks ago");
  EXPECT_EQ(HumanTime(now - days(90), now, "Never"), "3 months ago");
  EXPECT_EQ(HumanTime(now - days(800), now, "Never"), "2 years ago");
  EXPECT_EQ(HumanTime(now + minutes(4) + seconds(30), now, "Never"), "4 minutes from now");
  // More than 20 years ahead (within the nanosecond clock, which ends in 2262).
  EXPECT_EQ(HumanTime(now + days(365 * 21 + 10), now, "Never"), "Forever");
  EXPECT_EQ(HumanTime(now + days(365 * 19), now, "Never"), "19 years from now");
}

TEST(GoDurationStringTest, MatchesGosDurationString) {
  EXPECT_EQ(GoDurationString(0), "0s");
  EXPECT_EQ(GoDurationString(850), "850ns");
  EXPECT_EQ(GoDurationString(1'500), "1.5\u00b5s");
  EXPECT_EQ(GoDurationString(12'345'678), "12.345678ms");
  EXPECT_EQ(GoDurationString(20'000'000), "20ms");
  EXPECT_EQ(GoDurationString(1'500'000'000), "1.5s");
  EXPECT_EQ(GoDurationString(90'000'000'000), "1m30s");
  EXPECT_EQ(GoDurationString(7'200'000'000'000), "2h0m0s");
  EXPECT_EQ(GoDurationString(3'723'500'000'000), "1h2m3.5s");
  EXPECT_EQ(GoDurationString(-1'500'000'000), "-1.5s");
}

TEST(ParseRfc3339Test, OffsetsFractionsAndZeroTime) {
  auto utc = ParseRfc3339("2024-09-12T03:54:03.516566Z");
  auto india = ParseRfc3339("2024-09-12T09:24:03.516566+05:30");
  auto pacific = ParseRfc3339("2024-09-11T20:54:03.516566-07:00");
  ASSERT_TRUE(utc && india && pacific);
  EXPECT_EQ(*utc, *india);
  EXPECT_EQ(*utc, *pacific);
  EXPECT_EQ(*ParseRfc3339("2024-09-12T03:54:04Z") - *utc, std::chrono::microseconds(483434));
  EXPECT_FALSE(ParseRfc3339("0001-01-01T00:00:00Z")) << "Go's zero time means none";
  EXPECT_FALSE(ParseRfc3339(""));
  EXPECT_FALSE(ParseRfc3339("2024-09-12 03:54:03"));
  EXPECT_FALSE(ParseRfc3339("2024-02-30T00:00:00Z"));
}

TEST(RenderTableTest, TablewriterLayoutWithFourSpacePadding) {
  std::string table = RenderTable(
      {"NAME", "ID"}, {{"a:latest", "0123456789ab"}, {"longer-name:7b", "ffffffffffff"}});
  EXPECT_EQ(table,
            "NAME              ID           \n"
            "a:latest          0123456789ab    \n"
            "longer-name:7b    ffffffffffff    \n");
  EXPECT_EQ(RenderTable({"NAME"}, {}), "NAME \n");
}

TEST(RenderTableTest, LongCellsWrap) {
  // A 30-column limit wraps the cell (the column keeps the full 30 columns, as tablewriter's
  // does); continuation lines of the other (empty) column are tablewriter's two-space filler.
  std::string table =
      RenderTable({}, {{"", "one two three four five six seven eight nine ten"}}, 30);
  EXPECT_EQ(table,
            "    one two three four five six       \n"
            "      seven eight nine ten              \n");
  EXPECT_EQ(RenderTable({}, {{"", "a   b", "c"}}), "    a   b    c    \n")
      << "tablewriter splits on single spaces, so runs of spaces stay";
}

TEST(WrapWordsTest, MinimumRaggedness) {
  EXPECT_EQ(WrapWords("aaa bbb ccc", 7), (std::vector<std::string>{"aaa bbb", "ccc"}));
  EXPECT_EQ(WrapWords("short", 30), (std::vector<std::string>{"short"}));
  EXPECT_EQ(WrapWords("", 30), (std::vector<std::string>{""}));
  // A word longer than the limit raises it instead of being cut.
  EXPECT_EQ(WrapWords("abcdefghij xy", 4), (std::vector<std::string>{"abcdefghij", "xy"}));
  // Greedy filling gives "aaa bb" / "cc" / "ddddd" (slack 0 + 16); the balanced break
  // "aaa" / "bb cc" / "ddddd" (slack 9 + 1) is chosen.
  EXPECT_EQ(WrapWords("aaa bb cc ddddd", 6), (std::vector<std::string>{"aaa", "bb cc", "ddddd"}));
}

TEST(FormatModelListTest, ColumnsAndPrefixFilter) {
  json tags = {{"models",
                {{{"name", "stories:latest"},
                  {"digest", "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72"},
                  {"size", 1'260'000},
                  {"modified_at", "2025-06-01T11:58:00Z"}},
                 {{"name", "Other:7b"},
                  {"digest", "0123456789abcdef"},
                  {"size", 4'661'224'676},
                  {"modified_at", "2025-05-31T12:00:00+02:00"}}}}};
  EXPECT_EQ(FormatModelList(tags, "", Now()),
            "NAME              ID              SIZE      MODIFIED      \n"
            "stories:latest    a80c4f17acd5    1.3 MB    2 minutes ago    \n"
            "Other:7b          0123456789ab    4.7 GB    26 hours ago     \n");
  EXPECT_EQ(FormatModelList(tags, "oth", Now()),
            "NAME        ID              SIZE      MODIFIED     \n"
            "Other:7b    0123456789ab    4.7 GB    26 hours ago    \n")
      << "the prefix is matched without regard to case";
  EXPECT_EQ(FormatModelList(json::object(), "", Now()), "NAME    ID    SIZE    MODIFIED \n");
}

TEST(FormatRunningListTest, ProcessorContextAndUntil) {
  json ps = {{"models",
              {{{"name", "a:latest"},
                {"digest", "1111111111111111"},
                {"size", 5'000'000},
                {"size_vram", 0},
                {"context_length", 4096},
                {"expires_at", "2025-06-01T12:04:30Z"}},
               {{"name", "b:latest"},
                {"digest", "2222222222222222"},
                {"size", 1000},
                {"size_vram", 480},
                {"context_length", 2048},
                {"expires_at", "2318-01-01T00:00:00Z"}},
               {{"name", "c:latest"},
                {"digest", "3333333333333333"},
                {"size", 1000},
                {"size_vram", 1000},
                {"context_length", 512},
                {"expires_at", "2025-06-01T11:59:00Z"}}}}};
  EXPECT_EQ(
      FormatRunningList(ps, Now()),
      "NAME        ID              SIZE    PROCESSOR          CONTEXT    UNTIL              \n"
      "a:latest    111111111111    5 MB    100% CPU           4096       4 minutes from now    \n"
      "b:latest    222222222222    1 KB    52%/48% CPU/GPU    2048       Forever               \n"
      "c:latest    333333333333    1 KB    100% GPU           512        Stopping...           \n");
}

TEST(FormatShowInfoTest, SectionsAsOllamaPrintsThem) {
  json show = {
      {"model_info",
       {{"general.architecture", "llama"},
        {"llama.context_length", 2048},
        {"llama.embedding_length", 64},
        {"tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a", "b", "c", "d"}}}},
      {"details", {{"parameter_size", "260K"}, {"quantization_level", "F32"}}},
      {"capabilities", {"completion"}},
      {"parameters", "temperature                    0\nstop                           \"<s>\""},
      {"system", "You are a storyteller.\n\n  Be brief.  \nThird line."},
      {"license", "MIT"},
      {"tensors", {{{"name", "output.weight"}, {"type", "F32"}, {"shape", {64, 512}}}}}};
  const std::string expected =
      "  Model\n"
      "    architecture        llama    \n"
      "    parameters          260K     \n"
      "    context length      2048     \n"
      "    embedding length    64       \n"
      "    quantization        F32      \n"
      "\n"
      "  Capabilities\n"
      "    completion    \n"
      "\n"
      "  Parameters\n"
      "    temperature    0        \n"
      "    stop           \"<s>\"    \n"
      "\n"
      "  System\n"
      "    You are a storyteller.    \n"
      "    Be brief.                 \n"
      "    ...                       \n"
      "\n"
      "  License\n"
      "    MIT    \n"
      "\n";
  EXPECT_EQ(FormatShowInfo(show, false), expected);
  EXPECT_EQ(FormatShowInfo(show, true), expected +
                                            "  Metadata\n"
                                            "    general.architecture      llama                 \n"
                                            "    llama.context_length      2048                  \n"
                                            "    llama.embedding_length    64                    \n"
                                            "    tokenizer.ggml.tokens     [<unk> ...+6 more]    \n"
                                            "\n"
                                            "  Tensors\n"
                                            "    output.weight    F32    [64 512]    \n"
                                            "\n");
}

TEST(FormatShowInfoTest, ParameterCountFallbackAndNoModelInfo) {
  json show = {
      {"model_info", {{"general.architecture", "bert"}, {"general.parameter_count", 22'565'376}}},
      {"details", {{"quantization_level", "F16"}}}};
  EXPECT_EQ(FormatShowInfo(show, false),
            "  Model\n"
            "    architecture    bert      \n"
            "    parameters      22.57M    \n"
            "    quantization    F16       \n"
            "\n");
  json bare = {{"details", {{"family", "llama"}, {"parameter_size", "7B"}}}};
  EXPECT_EQ(FormatShowInfo(bare, false),
            "  Model\n"
            "    architecture    llama    \n"
            "    parameters      7B       \n"
            "    quantization             \n"
            "\n");
}

TEST(FormatMetricsSummaryTest, OllamasStatisticsBlock) {
  json final_chunk = {{"done", true},
                      {"total_duration", 1'234'567'891},
                      {"load_duration", 12'345'678},
                      {"prompt_eval_count", 5},
                      {"prompt_eval_duration", 50'000'000},
                      {"eval_count", 42},
                      {"eval_duration", 1'000'000'000}};
  EXPECT_EQ(FormatMetricsSummary(final_chunk),
            "total duration:       1.234567891s\n"
            "load duration:        12.345678ms\n"
            "prompt eval count:    5 token(s)\n"
            "prompt eval duration: 50ms\n"
            "prompt eval rate:     100.00 tokens/s\n"
            "eval count:           42 token(s)\n"
            "eval duration:        1s\n"
            "eval rate:            42.00 tokens/s\n");
  EXPECT_EQ(FormatMetricsSummary({{"done", true}, {"eval_count", 3}}),
            "eval count:           3 token(s)\n");
}

TEST(ResponsePrinterTest, ThinkingBlockThenResponse) {
  ResponsePrinter printer(/*hide_thinking=*/false, /*color=*/false);
  std::string out;
  out += printer.OnChunk("Let me", "", false);
  out += printer.OnChunk(" think.", "", false);
  out += printer.OnChunk("", "Hello", false);
  out += printer.OnChunk("", " world", false);
  EXPECT_EQ(out, "Thinking...\nLet me think.\n...done thinking.\n\nHello world");

  ResponsePrinter ends_with_newline(false, false);
  out = ends_with_newline.OnChunk("hmm\n", "", false);
  out += ends_with_newline.OnChunk("", "ok", false);
  EXPECT_EQ(out, "Thinking...\nhmm\n...done thinking.\n\nok");

  ResponsePrinter hidden(/*hide_thinking=*/true, false);
  out = hidden.OnChunk("secret", "", false);
  out += hidden.OnChunk("", "answer", false);
  EXPECT_EQ(out, "answer");

  ResponsePrinter tool_call(false, false);
  out = tool_call.OnChunk("plan", "", false);
  out += tool_call.OnChunk("", "", /*has_tool_calls=*/true);
  EXPECT_EQ(out, "Thinking...\nplan\n...done thinking.\n\n") << "a tool call ends thinking";

  ResponsePrinter colored(false, /*color=*/true);
  EXPECT_EQ(colored.OnChunk("x", "", false),
            "\033[38;5;245m\033[1mThinking...\n\033[0m\033[38;5;245mx");
  EXPECT_EQ(colored.Finish(), "\033[0m") << "a thinking-only reply resets the colour";
  EXPECT_EQ(printer.Finish(), "") << "closed block, nothing to reset";
}

TEST(GoFloat32JsonTest, GoEncodingJsonForm) {
  EXPECT_EQ(GoFloat32Json(0.1f), "0.1");
  EXPECT_EQ(GoFloat32Json(-2.0f), "-2");
  EXPECT_EQ(GoFloat32Json(0.0f), "0");
  EXPECT_EQ(GoFloat32Json(1.5e-7f), "1.5e-7");
  EXPECT_EQ(GoFloat32Json(0.012345678f), "0.012345678");
}

}  // namespace
}  // namespace corral::cli
