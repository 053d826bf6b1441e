// Output splitting (thinking / content / tool calls) as Ollama's generic parsers do it, on
// hand-written model outputs in the formats of the library templates, plus the property every
// streamed parse needs: the result does not depend on where the text is cut.
#include "prompt/output_parser.h"

#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <set>
#include <type_traits>

#include "template/library.h"

namespace corral::prompt {
namespace {

struct Collected {
  std::string content;
  std::string thinking;
  std::vector<ToolCall> calls;
};

bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80             ? 1
               : (c & 0xE0) == 0xC0 ? 2
               : (c & 0xF0) == 0xE0 ? 3
               : (c & 0xF8) == 0xF0 ? 4
                                    : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

void Add(Collected* c, OutputDelta d, bool check_utf8) {
  if (check_utf8) {
    EXPECT_TRUE(ValidUtf8(d.content)) << d.content;
    EXPECT_TRUE(ValidUtf8(d.thinking)) << d.thinking;
  }
  c->content += d.content;
  c->thinking += d.thinking;
  for (ToolCall& t : d.tool_calls) c->calls.push_back(std::move(t));
}

Collected Feed(const OutputFormat& f, bool think, bool tools,
               const std::vector<std::string_view>& pieces, bool check_utf8 = true) {
  OutputParser p(f, think, tools);
  Collected c;
  for (std::string_view piece : pieces) Add(&c, p.Push(piece), check_utf8);
  Add(&c, p.Finish(), check_utf8);
  return c;
}

Collected Whole(const OutputFormat& f, bool think, bool tools, std::string_view text) {
  return Feed(f, think, tools, {text});
}

std::string CallsText(const std::vector<ToolCall>& calls) {
  std::string s;
  for (const ToolCall& t : calls) {
    s += std::to_string(t.index) + ":" + t.name + ":" + t.arguments.dump() + ";";
  }
  return s;
}

// The same text cut at every byte position (two pieces), and byte by byte, gives the same
// content, thinking and calls (ids aside) as in one piece.
void ExpectSplitInvariant(const OutputFormat& f, bool think, bool tools, std::string_view text) {
  Collected whole = Whole(f, think, tools, text);
  for (size_t i = 1; i < text.size(); ++i) {
    Collected two = Feed(f, think, tools, {text.substr(0, i), text.substr(i)});
    ASSERT_EQ(two.content, whole.content) << "split at " << i << " of: " << text;
    ASSERT_EQ(two.thinking, whole.thinking) << "split at " << i << " of: " << text;
    ASSERT_EQ(CallsText(two.calls), CallsText(whole.calls)) << "split at " << i << ": " << text;
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < text.size(); ++i) bytes.push_back(text.substr(i, 1));
  Collected each = Feed(f, think, tools, bytes);
  EXPECT_EQ(each.content, whole.content) << text;
  EXPECT_EQ(each.thinking, whole.thinking) << text;
  EXPECT_EQ(CallsText(each.calls), CallsText(whole.calls)) << text;
}

OutputFormat Qwen3() { return {"<think>", "</think>", "<tool_call>", "</tool_call>", false}; }

OutputFormat Library(std::string_view name) {
  const tmpl::LibraryTemplate* t = tmpl::FindLibraryTemplate(name);
  EXPECT_NE(t, nullptr) << name;
  return t ? OutputFormatForGoTemplate(t->text) : OutputFormat{};
}

// --- tags from templates ---

TEST(OutputFormatTest, LibraryTemplates) {
  OutputFormat qwen3 = Library("qwen3");
  EXPECT_EQ(qwen3.think_open, "<think>");
  EXPECT_EQ(qwen3.think_close, "</think>");
  EXPECT_EQ(qwen3.tool_open, "<tool_call>");
  EXPECT_EQ(qwen3.tool_close, "</tool_call>");

  OutputFormat qwen25 = Library("qwen2.5");
  EXPECT_EQ(qwen25.think_open, "");
  EXPECT_EQ(qwen25.tool_open, "<tool_call>");
  EXPECT_EQ(qwen25.tool_close, "</tool_call>");

  // Only a newline before the JSON: bare JSON calls.
  OutputFormat llama32 = Library("llama3.2");
  EXPECT_EQ(llama32.think_open, "");
  EXPECT_EQ(llama32.tool_open, "{");
  EXPECT_EQ(llama32.tool_close, "");

  // Ollama keeps the array's bracket in the tag.
  OutputFormat mistral = Library("mistral");
  EXPECT_EQ(mistral.tool_open, "[TOOL_CALLS] [");
  EXPECT_EQ(mistral.tool_close, "");

  // The thinking block's tags are indented text around {{ .Thinking }}; the tool block starts
  // with an action ({{ "\n" }}), so no tag is found and bare JSON is assumed.
  OutputFormat r1 = Library("deepseek-r1");
  EXPECT_EQ(r1.think_open, "<think>");
  EXPECT_EQ(r1.think_close, "</think>");
  EXPECT_EQ(r1.tool_open, "{");

  OutputFormat command_r = Library("command-r");
  EXPECT_EQ(command_r.tool_open, "Action: ```json\n[");
  EXPECT_EQ(command_r.tool_close, "```");

  OutputFormat chatml = Library("chatml");
  EXPECT_EQ(chatml.think_open, "");
  EXPECT_EQ(chatml.think_close, "");
  EXPECT_EQ(chatml.tool_open, "{");
}

TEST(OutputFormatTest, ToolTagRules) {
  auto tag = [](std::string_view t) { return OutputFormatForGoTemplate(t).tool_open; };
  EXPECT_EQ(tag(""), "{");
  EXPECT_EQ(tag("{{if .ToolCalls}}{{end}}"), "{");
  EXPECT_EQ(tag("{{if .ToolCalls}}[{{range .ToolCalls}}{{ . }}{{end}}]{{end}}"), "[");
  EXPECT_EQ(tag("{{if .ToolCalls}}\n [ {{range .ToolCalls}}{{ . }}{{end}}]{{end}}"), "[");
  EXPECT_EQ(tag("{{if .ToolCalls}}{{range .ToolCalls}}{{ . }}{{end}}]{{end}}"), "{");
  EXPECT_EQ(tag("{{if .ToolCalls}}{{range .ToolCalls}}<tool_call>{{.}}</tool_call>{{end}}{{end}}"),
            "<tool_call>");
  EXPECT_EQ(tag("{{if .ToolCalls}}{{range .ToolCalls}}<fn>{\"name\": \"{{.Function.Name}}\"}"
                "{{end}}{{end}}"),
            "<fn>");
  EXPECT_EQ(tag("{{if .ToolCalls}}First{{if .X}}inner{{end}}Second{{end}}"), "First");
  EXPECT_EQ(tag("{{if .X}}{{if .Y}}text{{end}}{{end}}"), "{");
  EXPECT_EQ(tag("{{if .ToolCalls}}\r\nfunctools[{{end}}"), "functools[");
  // The tag is found inside a range over the messages and behind an else-if chain.
  EXPECT_EQ(tag("{{range .Messages}}{{if .Content}}{{.Content}}{{else if .ToolCalls}}"
                "[TOOL_CALLS]{{range .ToolCalls}}{{.}}{{end}}{{end}}{{end}}"),
            "[TOOL_CALLS]");
  OutputFormat square =
      OutputFormatForGoTemplate("{{if .ToolCalls}}[TOOL_CALLS]{{.}}[/TOOL_CALLS]{{end}}");
  EXPECT_EQ(square.tool_close, "[/TOOL_CALLS]");
  // Broken template: defaults.
  OutputFormat broken = OutputFormatForGoTemplate("{{ if .ToolCalls }}<x>");
  EXPECT_EQ(broken.tool_open, "{");
  EXPECT_EQ(broken.think_open, "");
}

TEST(OutputFormatTest, ThinkTagRules) {
  auto tags = [](std::string_view t) {
    OutputFormat f = OutputFormatForGoTemplate(t);
    return f.think_open + "|" + f.think_close;
  };
  EXPECT_EQ(tags("{{range .Messages}}<think>{{.Thinking}}</think>{{.Content}}{{end}}"), "|");
  EXPECT_EQ(tags("{{range .Messages}}{{if .Thinking}}<think> {{.Thinking}} </think>\n{{end}}"
                 "{{.Content}}{{end}}"),
            "<think>|</think>");
  EXPECT_EQ(tags("{{range .Messages}}{{with .Thinking}}[THINK]{{.}}[/THINK]{{end}}{{end}}"),
            "|");  // no .Thinking field inside the with body
  EXPECT_EQ(tags("{{range .Messages}}{{if .Thinking}}<r>{{.Thinking}}</r>{{end}}{{end}}"),
            "<r>|</r>");
  // Not a range over .Messages.
  EXPECT_EQ(tags("{{range .Other}}{{if .Thinking}}<think>{{.Thinking}}</think>{{end}}{{end}}"),
            "|");
  EXPECT_EQ(tags("{{if .Thinking}}<think>{{.Thinking}}</think>{{end}}"), "|");
}

TEST(OutputFormatTest, Jinja) {
  OutputFormat q = OutputFormatForJinja(
      "{% if enable_thinking %}<think>\n\n</think>{% endif %}<tool_call>{{ tool }}</tool_call>");
  EXPECT_EQ(q.think_open, "<think>");
  EXPECT_EQ(q.think_close, "</think>");
  EXPECT_EQ(q.tool_open, "<tool_call>");
  EXPECT_EQ(q.tool_close, "</tool_call>");
  OutputFormat half = OutputFormatForJinja("<think> only opens");
  EXPECT_EQ(half.think_open, "");
  EXPECT_EQ(half.tool_open, "{");
  EXPECT_EQ(OutputFormatForJinja("[TOOL_CALLS]{{ calls }}").tool_open, "[TOOL_CALLS]");
}

TEST(OutputFormatTest, PromptOpensThinking) {
  OutputFormat f = Qwen3();
  EXPECT_TRUE(PromptOpensThinking("<|im_start|>assistant\n<think>\n", f));
  EXPECT_FALSE(PromptOpensThinking("<|im_start|>assistant\n<think>\n\n</think>\n\n", f));
  EXPECT_FALSE(PromptOpensThinking("<|im_start|>assistant\n", f));
  EXPECT_FALSE(PromptOpensThinking("<think>", OutputFormat{}));
}

// --- thinking ---

TEST(OutputParserTest, QwenThinking) {
  Collected c = Whole(Qwen3(), true, false,
                      "<think>\nThe user wants 2+2.\nThat is 4.\n</think>\n\nThe answer is 4.");
  EXPECT_EQ(c.thinking, "The user wants 2+2.\nThat is 4.\n");
  EXPECT_EQ(c.content, "The answer is 4.");
  EXPECT_TRUE(c.calls.empty());
}

TEST(OutputParserTest, SpacesAroundThinkTags) {
  Collected c = Whole(Qwen3(), true, false, " \n <think>  \n hmm </think> \n\t answer \n");
  EXPECT_EQ(c.thinking, "hmm ");
  EXPECT_EQ(c.content, "answer \n");
  // Spaces after the close tag arriving in their own pieces are still dropped.
  c = Feed(Qwen3(), true, false, {"<think>a</think>", "\n", "\n", "b"});
  EXPECT_EQ(c.thinking, "a");
  EXPECT_EQ(c.content, "b");
  // An empty thinking block (qwen3 with /no_think).
  c = Whole(Qwen3(), true, false, "<think>\n\n</think>\n\nHi");
  EXPECT_EQ(c.thinking, "");
  EXPECT_EQ(c.content, "Hi");
}

TEST(OutputParserTest, OutputNotOpeningWithTagIsContent) {
  Collected c = Whole(Qwen3(), true, false, "  Hello <think>x</think> there");
  EXPECT_EQ(c.thinking, "");
  EXPECT_EQ(c.content, "  Hello <think>x</think> there");
  c = Whole(Qwen3(), true, false, "<thi");  // a tag prefix, then the end
  EXPECT_EQ(c.content, "<thi");
  c = Whole(Qwen3(), true, false, "<thinking>no</thinking>");
  EXPECT_EQ(c.thinking, "");
  EXPECT_EQ(c.content, "<thinking>no</thinking>");
}

TEST(OutputParserTest, ThinkingOffLeavesTagsInContent) {
  std::string text = "<think>\nreasoning\n</think>\n\nanswer";
  Collected c = Whole(Qwen3(), false, false, text);
  EXPECT_EQ(c.thinking, "");
  EXPECT_EQ(c.content, text);
  // No tags known: nothing to separate even with thinking on.
  c = Whole(OutputFormat{}, true, false, text);
  EXPECT_EQ(c.content, text);
}

TEST(OutputParserTest, PrefilledOpeningTag) {
  OutputFormat f = Qwen3();
  f.starts_in_thinking = true;
  Collected c = Whole(f, true, false, "\nOkay, let me see.\n</think>\n\nDone.");
  EXPECT_EQ(c.thinking, "Okay, let me see.\n");
  EXPECT_EQ(c.content, "Done.");
  ExpectSplitInvariant(f, true, false, "\nOkay, let me see.\n</think>\n\nDone.");
  // Without the flag the same text is all content.
  c = Whole(Qwen3(), true, false, "Okay.\n</think>\n\nDone.");
  EXPECT_EQ(c.thinking, "");
  EXPECT_EQ(c.content, "Okay.\n</think>\n\nDone.");
}

TEST(OutputParserTest, UnclosedThinkingEndsAsThinking) {
  Collected c = Feed(Qwen3(), true, false, {"<think>still going</th"});
  EXPECT_EQ(c.thinking, "still going</th");
  EXPECT_EQ(c.content, "");
}

TEST(OutputParserTest, HoldsBackOnlyWhatMayBeATag) {
  OutputParser p(Qwen3(), true, false);
  OutputDelta d = p.Push("<think>abc</");
  EXPECT_EQ(d.thinking, "abc");
  d = p.Push("b>def");  // "</b>" is not the close tag
  EXPECT_EQ(d.thinking, "</b>def");
  d = p.Push("</think>x");
  EXPECT_EQ(d.thinking, "");
  EXPECT_EQ(d.content, "x");
  d = p.Finish();
  EXPECT_TRUE(d.empty());
}

// --- tool calls ---

TEST(OutputParserTest, QwenToolCall) {
  Collected c = Whole(Qwen3(), true, true,
                      "<think>\nNeed the weather.\n</think>\n\n<tool_call>\n{\"name\": "
                      "\"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 3}}\n"
                      "</tool_call>");
  EXPECT_EQ(c.thinking, "Need the weather.\n");
  EXPECT_EQ(c.content, "");
  ASSERT_EQ(c.calls.size(), 1u);
  EXPECT_EQ(c.calls[0].name, "get_weather");
  EXPECT_EQ(c.calls[0].index, 0);
  EXPECT_EQ(c.calls[0].arguments, nlohmann::ordered_json::parse(R"({"city": "Paris", "days": 3})"));
  EXPECT_TRUE(std::regex_match(c.calls[0].id, std::regex("call_[a-z0-9]{8}"))) << c.calls[0].id;
}

// Ollama keeps the arguments in the order the model wrote them (clients show them that way).
TEST(OutputParserTest, ToolCallArgumentsKeepTheModelsKeyOrder) {
  Collected c = Whole(Qwen3(), false, true,
                      "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"zeta\": 1, \"alpha\": "
                      "{\"y\": 2, \"b\": 3}, \"mid\": null}}\n</tool_call>");
  ASSERT_EQ(c.calls.size(), 1u);
  EXPECT_EQ(c.calls[0].arguments.dump(), R"({"zeta":1,"alpha":{"y":2,"b":3},"mid":null})");
}

TEST(OutputParserTest, SeveralTaggedCallsWithTextAround) {
  std::string text =
      "Let me check both.\n<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": 1}}\n"
      "</tool_call>\n<tool_call>\n{\"name\": \"b\", \"arguments\": \"{\\\"y\\\": [1, 2]}\"}\n"
      "</tool_call>\nDone.";
  Collected c = Whole(Qwen3(), false, true, text);
  EXPECT_EQ(c.content, "Let me check both.\nDone.");
  ASSERT_EQ(c.calls.size(), 2u);
  EXPECT_EQ(c.calls[0].name, "a");
  EXPECT_EQ(c.calls[0].index, 0);
  EXPECT_EQ(c.calls[1].name, "b");
  EXPECT_EQ(c.calls[1].index, 1);
  // Arguments sent as a JSON string are decoded (as Ollama's findMap does).
  EXPECT_EQ(c.calls[1].arguments, nlohmann::ordered_json::parse(R"({"y": [1, 2]})"));
  EXPECT_NE(c.calls[0].id, c.calls[1].id);
  ExpectSplitInvariant(Qwen3(), false, true, text);
}

TEST(OutputParserTest, ToolsOffLeavesCallsInContent) {
  std::string text = "<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n</tool_call>";
  Collected c = Whole(Qwen3(), false, false, text);
  EXPECT_EQ(c.content, text);
  EXPECT_TRUE(c.calls.empty());
}

TEST(OutputParserTest, MalformedTaggedCallsBecomeContent) {
  for (std::string text : {
           // trailing comma: not JSON
           std::string("<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": 1,}}\n</tool_call>"),
           // no arguments
           std::string("<tool_call>\n{\"name\": \"a\"}\n</tool_call>"),
           // name not a string
           std::string("<tool_call>{\"name\": 3, \"arguments\": {}}</tool_call>"),
           // not JSON after the tag
           std::string("Use <tool_call> tags\nlike this."),
           // unfinished when the output ends
           std::string("<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": \"}"),
           // only the tag
           std::string("text <tool_call>\n"),
           std::string("<tool_call>[]</tool_call>"),
       }) {
    Collected c = Whole(Qwen3(), false, true, text);
    EXPECT_EQ(c.content, text);
    EXPECT_TRUE(c.calls.empty()) << text;
    ExpectSplitInvariant(Qwen3(), false, true, text);
  }
  // A bad call does not stop a later good one.
  Collected c = Whole(Qwen3(), false, true,
                      "<tool_call>{\"oops\": 1}</tool_call><tool_call>{\"name\": \"b\", "
                      "\"arguments\": {}}</tool_call>");
  EXPECT_EQ(c.content, "<tool_call>{\"oops\": 1}</tool_call>");
  ASSERT_EQ(c.calls.size(), 1u);
  EXPECT_EQ(c.calls[0].name, "b");
  EXPECT_EQ(c.calls[0].index, 0);
}

TEST(OutputParserTest, LlamaBareJsonCalls) {
  OutputFormat f = Library("llama3.2");
  Collected c =
      Whole(f, false, true, "\n{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}");
  EXPECT_EQ(c.content, "");
  ASSERT_EQ(c.calls.size(), 1u);
  EXPECT_EQ(c.calls[0].name, "get_weather");
  EXPECT_EQ(c.calls[0].arguments, nlohmann::ordered_json::parse(R"({"city": "Oslo"})"));

  // Several calls: one after another, ";"-separated, or in an array.
  c = Whole(f, false, true,
            "{\"name\": \"a\", \"parameters\": {}}; {\"name\": \"b\", \"parameters\": {}}\n"
            "[{\"name\": \"c\", \"arguments\": {}}, {\"type\": \"function\", \"function\": "
            "{\"name\": \"d\", \"arguments\": {\"k\": null}}}]");
  EXPECT_EQ(c.content, "");
  EXPECT_EQ(CallsText(c.calls), "0:a:{};1:b:{};2:c:{};3:d:{\"k\":null};");

  // Output that does not start with JSON is content, JSON later in it included.
  std::string text = "Sure! {\"name\": \"a\", \"parameters\": {}}";
  c = Whole(f, false, true, text);
  EXPECT_EQ(c.content, text);
  EXPECT_TRUE(c.calls.empty());

  // JSON that is not a call (format: json answers) is content.
  text = " {\"answer\": 42, \"unit\": \"m\"} and more";
  c = Whole(f, false, true, text);
  EXPECT_EQ(c.content, text);
  EXPECT_TRUE(c.calls.empty());
  text = "[1, 2, {\"name\": \"x\", \"arguments\": {}}]";
  EXPECT_EQ(Whole(f, false, true, text).content, text);

  // Text after a call is content.
  c = Whole(f, false, true, "{\"name\": \"a\", \"parameters\": {}}\n\nCalling a.");
  EXPECT_EQ(c.content, "Calling a.");
  ASSERT_EQ(c.calls.size(), 1u);
}

TEST(OutputParserTest, BracketsAndQuotesInsideStrings) {
  // Escaped quotes and brackets inside strings do not end the JSON early.
  std::string text =
      "<tool_call>{\"name\": \"say\", \"arguments\": {\"s\": \"a \\\"}]\\\" b\", \"t\": "
      "\"\\\\\"}}</tool_call>";
  Collected c = Whole(Qwen3(), false, true, text);
  EXPECT_EQ(c.content, "");
  ASSERT_EQ(c.calls.size(), 1u);
  EXPECT_EQ(c.calls[0].arguments["s"], "a \"}]\" b");
  EXPECT_EQ(c.calls[0].arguments["t"], "\\");
  ExpectSplitInvariant(Qwen3(), false, true, text);
}

TEST(OutputParserTest, BareModeStreamsPlainText) {
  OutputParser p(Library("llama3.2"), false, true);
  // Spaces are held (they may precede a call); the first other character settles it.
  EXPECT_EQ(p.Push("\n ").content, "");
  EXPECT_EQ(p.Push("Sure").content, "\n Sure");
  EXPECT_EQ(p.Push(", {\"a\": 1}").content, ", {\"a\": 1}");
  EXPECT_TRUE(p.Finish().empty());
  // Output that is only spaces comes out at the end.
  EXPECT_EQ(Whole(Library("llama3.2"), false, true, " \n").content, " \n");
  // A call's JSON is held until it closes.
  OutputParser q(Library("llama3.2"), false, true);
  EXPECT_TRUE(q.Push("{\"name\": \"f\", ").empty());
  OutputDelta d = q.Push("\"parameters\": {}}");
  ASSERT_EQ(d.tool_calls.size(), 1u);
  EXPECT_EQ(d.content, "");
}

TEST(OutputParserTest, MistralToolCalls) {
  OutputFormat f = Library("mistral");
  std::string text =
      "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Rome\"}}, "
      "{\"name\": \"get_time\", \"arguments\": {\"tz\": \"CET\"}}]";
  Collected c = Whole(f, false, true, text);
  EXPECT_EQ(c.content, "");
  EXPECT_EQ(CallsText(c.calls), "0:get_weather:{\"city\":\"Rome\"};1:get_time:{\"tz\":\"CET\"};");
  ExpectSplitInvariant(f, false, true, text);
  // Without the space Mistral sometimes leaves out.
  c = Whole(f, false, true, "[TOOL_CALLS][{\"name\": \"a\", \"arguments\": {}}]");
  EXPECT_EQ(CallsText(c.calls), "0:a:{};");
  // Plain text with brackets is content.
  text = "The [TOOL_CALLS] marker and [1, 2].";
  EXPECT_EQ(Whole(f, false, true, text).content, text);
}

TEST(OutputParserTest, CommandRActions) {
  OutputFormat f = Library("command-r");
  std::string text =
      "I will search.\nAction: ```json\n[\n    {\n        \"tool_name\": \"internet_search\",\n"
      "        \"parameters\": {\"query\": \"weather\"}\n    }\n]```";
  Collected c = Whole(f, false, true, text);
  EXPECT_EQ(c.content, "I will search.\n");
  EXPECT_EQ(CallsText(c.calls), "0:internet_search:{\"query\":\"weather\"};");
  ExpectSplitInvariant(f, false, true, text);
}

TEST(OutputParserTest, ArgumentKeyOrder) {
  Collected c = Whole(Qwen3(), false, true,
                      "<tool_call>{\"name\": \"f\", \"arguments\": {\"zeta\": 1, \"alpha\": "
                      "{\"y\": 2, \"b\": 3}, \"mid\": [3, 1]}}</tool_call>");
  ASSERT_EQ(c.calls.size(), 1u);
  if constexpr (std::is_same_v<decltype(ToolCall::arguments), nlohmann::ordered_json>) {
    EXPECT_EQ(c.calls[0].arguments.dump(), R"({"zeta":1,"alpha":{"y":2,"b":3},"mid":[3,1]})");
  } else {
    // prompt::ToolCall holds a map-backed json: the keys come out sorted.
    EXPECT_EQ(c.calls[0].arguments.dump(), R"({"alpha":{"b":3,"y":2},"mid":[3,1],"zeta":1})");
  }
}

TEST(OutputParserTest, CallIdsAreDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    Collected c =
        Whole(Qwen3(), false, true, "<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>");
    ASSERT_EQ(c.calls.size(), 1u);
    ids.insert(c.calls[0].id);
  }
  EXPECT_EQ(ids.size(), 50u);
}

TEST(OutputParserTest, PassthroughWithoutTagsOrTools) {
  std::string text = "  <think>{\"name\": \"a\", \"arguments\": {}}</think>\n<tool_call>[é]";
  Collected c = Whole(OutputFormat{}, false, false, text);
  EXPECT_EQ(c.content, text);
  EXPECT_EQ(c.thinking, "");
  ExpectSplitInvariant(OutputFormat{}, true, true, text);
  // Each piece comes straight back when nothing can be a tag.
  OutputParser p(Qwen3(), false, true);
  EXPECT_EQ(p.Push("Hello ").content, "Hello ");
  EXPECT_EQ(p.Push("world").content, "world");
  EXPECT_EQ(p.Push(" <tool").content, " ");
  EXPECT_EQ(p.Push("box>").content, "<toolbox>");
}

TEST(OutputParserTest, SplitInvariance) {
  OutputFormat llama = Library("llama3.2");
  OutputFormat mistral = Library("mistral");
  OutputFormat r1 = Library("deepseek-r1");
  const std::string texts[] = {
      "<think>\nStep 1 — café.\n</think>\n\n<tool_call>\n{\"name\": \"f\", \"arguments\": "
      "{\"s\": \"a}b]\\\"c\", \"n\": {\"m\": [1, {\"k\": \"\\\\\"}]}}}\n</tool_call>\ntail",
      " \t<think> </think>  Only “content” here.\u00a0",
      "<think>a</think>b<think>c</think>",
      "<tool_call><tool_call>{\"name\": \"x\", \"parameters\": {}}</tool_call></tool_c",
      "x</think><tool_call>{\"name\": \"x\", \"arguments\": {}} {\"name\": \"y\", "
      "\"arguments\": {}}</tool_call>",
  };
  for (const std::string& t : texts) {
    for (bool think : {false, true}) {
      for (bool tools : {false, true}) {
        ExpectSplitInvariant(Qwen3(), think, tools, t);
        ExpectSplitInvariant(llama, think, tools, t);
        ExpectSplitInvariant(mistral, think, tools, t);
        ExpectSplitInvariant(r1, think, tools, t);
      }
    }
  }
  ExpectSplitInvariant(llama, false, true,
                       "\n[{\"name\": \"a\", \"parameters\": {\"q\": \"[{\"}}]; {\"name\": \"b\", "
                       "\"parameters\": {}} then text");
}

// Random mixes of tag pieces, JSON fragments and multi-byte text: any two ways of cutting the
// output give the same result, and nothing crashes.
TEST(OutputParserTest, RandomOutputsAreSplitInvariant) {
  const std::vector<std::string> atoms = {
      "<think>",
      "</think>",
      "<tool_call>",
      "</tool_call>",
      "<",
      "</",
      "{",
      "}",
      "[",
      "]",
      "\"",
      "\\",
      " ",
      "\n",
      ";",
      ",",
      ":",
      "a",
      "é",
      "\u3000",
      "[TOOL_CALLS] ",
      "\"name\": \"f\", ",
      "\"arguments\": {\"k\": 1}",
      "{\"name\": \"g\", \"parameters\": {}}",
      "<think>hm</think>",
      "<tool_call>{\"name\": \"h\", \"arguments\": {\"a\": [1]}}</tool_call>",
      "[TOOL_CALLS] [{\"name\": \"i\", \"arguments\": {}}]"};
  // Openings that put the parsers in their thinking and tool-call states.
  const std::vector<std::string> starts = {"",  " ", "<think>",     "\n<think>\n",
                                           "{", "[", "<tool_call>", "[TOOL_CALLS] ["};
  std::mt19937 rng(1234);
  std::vector<OutputFormat> formats = {Qwen3(), Library("llama3.2"), Library("mistral")};
  int with_calls = 0, with_thinking = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    std::string text = starts[rng() % starts.size()];
    int n = 1 + static_cast<int>(rng() % 24);
    for (int i = 0; i < n; ++i) text += atoms[rng() % atoms.size()];
    const OutputFormat& f = formats[iter % formats.size()];
    bool think = rng() % 2 == 0;
    bool tools = rng() % 4 != 0;
    Collected whole = Whole(f, think, tools, text);
    with_calls += !whole.calls.empty();
    with_thinking += !whole.thinking.empty();
    // Random cuts.
    std::vector<std::string_view> pieces;
    for (size_t at = 0; at < text.size();) {
      size_t len = 1 + rng() % 7;
      pieces.push_back(std::string_view(text).substr(at, len));
      at += len;
    }
    Collected cut = Feed(f, think, tools, pieces);
    ASSERT_EQ(cut.content, whole.content) << text;
    ASSERT_EQ(cut.thinking, whole.thinking) << text;
    ASSERT_EQ(CallsText(cut.calls), CallsText(whole.calls)) << text;
    // Nothing is lost or invented apart from tags, spaces and call JSON: with both parsers
    // off the text comes back unchanged.
    ASSERT_EQ(Whole(f, false, false, text).content, text);
  }
  // The mixes do reach the interesting states.
  EXPECT_GT(with_calls, 10);
  EXPECT_GT(with_thinking, 10);
}

TEST(OutputParserTest, HostileInput) {
  // Deep nesting after a tag is released as content, without deep recursion.
  std::string deep = "<tool_call>" + std::string(100000, '[') + std::string(100000, ']');
  Collected c = Whole(Qwen3(), true, true, deep);
  EXPECT_EQ(c.content, deep);
  EXPECT_TRUE(c.calls.empty());
  std::string deep_obj = "{\"a\":";
  for (int i = 0; i < 5000; ++i) deep_obj += "{\"a\":";
  c = Whole(Library("llama3.2"), false, true, deep_obj);
  EXPECT_EQ(c.content, deep_obj);
  // Invalid UTF-8 passes through; incomplete sequences are kept until Finish.
  std::string bad = "\xff\xfe<think>\xc3</think>\xe2\x82";
  c = Feed(Qwen3(), true, true, {bad}, /*check_utf8=*/false);
  EXPECT_EQ(c.content, bad);
  c = Feed(Qwen3(), true, true, {"<think>\xc3", "\xa9</think>ok\xe2\x82"}, false);
  EXPECT_EQ(c.thinking, "é");
  EXPECT_EQ(c.content, "ok\xe2\x82");
  // Invalid UTF-8 inside JSON strings: not a call, and no exception.
  std::string bad_json = "<tool_call>{\"name\": \"\xff\", \"arguments\": {}}</tool_call>";
  c = Feed(Qwen3(), false, true, {bad_json}, false);
  EXPECT_EQ(c.content, bad_json);
  // Finish twice, Push after Finish: no crash.
  OutputParser p(Qwen3(), true, true);
  p.Push("<think>x");
  p.Finish();
  p.Finish();
  p.Push("<tool_call>{");
  p.Finish();
}

}  // namespace
}  // namespace corral::prompt
