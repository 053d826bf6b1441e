// Expected strings are worked out by hand from the Go text/template documentation.
#include "template/template.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace corral::tmpl {
namespace {

using nlohmann::json;

std::string Render(std::string_view text, const json& data = json::object(),
                   const ExecOptions& options = {}) {
  Result<Template> parsed = Template::Parse("t", text);
  if (!parsed.ok()) return "PARSE ERROR: " + parsed.status().message();
  Result<std::string> out = parsed->Execute(data, options);
  if (!out.ok()) return "EXEC ERROR: " + out.status().message();
  return *out;
}

Status ExecStatus(std::string_view text, const json& data, const ExecOptions& options) {
  Result<Template> parsed = Template::Parse("t", text);
  if (!parsed.ok()) return parsed.status();
  return parsed->Execute(data, options).status();
}

TEST(TemplateTest, TextAndFields) {
  json data = {{"A", {{"B", {{"C", "deep"}}}}}, {"S", "str"}, {"I", 3}, {"F", 2.5}};
  EXPECT_EQ(Render("plain text", data), "plain text");
  EXPECT_EQ(Render("[{{.S}}|{{.I}}|{{.F}}|{{.A.B.C}}]", data), "[str|3|2.5|deep]");
  EXPECT_EQ(Render("{{.A.B}}", data), "map[C:deep]");
  EXPECT_EQ(Render("{{.}}", json::array({1, "a", nullptr})), "[1 a <nil>]");
}

TEST(TemplateTest, MissingKeysBehaveLikeGoMaps) {
  json data = {{"Null", nullptr}, {"A", json::object()}};
  EXPECT_EQ(Render("{{.Nope}}", data), "<no value>");
  EXPECT_EQ(Render("{{.Null}}", data), "<no value>");
  EXPECT_EQ(Render("{{.A.Nope}}", data), "<no value>");
  EXPECT_EQ(Render("{{if .Nope}}y{{else}}n{{end}}", data), "n");
  EXPECT_EQ(Render("{{$x := .Nope}}{{$x.Foo}}", data), "<no value>");
  // A field of a nil interface is an error in Go (missingkey=zero yields a nil interface).
  EXPECT_EQ(Render("{{.Nope.Foo}}", data),
            "EXEC ERROR: template: t:1:2: executing \"t\" at <.Nope.Foo>: nil pointer "
            "evaluating interface {}.Foo");
  EXPECT_EQ(Render("{{.S.X}}", {{"S", "s"}}),
            "EXEC ERROR: template: t:1:2: executing \"t\" at <.S.X>: can't evaluate field X in "
            "type string");
}

TEST(TemplateTest, TrimMarkersAndComments) {
  EXPECT_EQ(Render("a  \n {{- 1 -}} \n\t b"), "a1b");
  EXPECT_EQ(Render("a {{- 1}} b"), "a1 b");
  EXPECT_EQ(Render("a {{1 -}} b"), "a 1b");
  EXPECT_EQ(Render("a {{-3}} b"), "a -3 b");  // "-3" is a number, not a trim marker
  EXPECT_EQ(Render("a {{/* note */}} b"), "a  b");
  EXPECT_EQ(Render("a {{- /* note */ -}} b"), "ab");
  EXPECT_EQ(Render("x\n{{- if true }}\ny\n{{- end }}\n"), "x\ny\n");
  EXPECT_EQ(Render("{{ 1 }}{{\n2\n}}"), "12");  // actions may span lines
}

TEST(TemplateTest, Literals) {
  EXPECT_EQ(Render(R"({{"a\tb\u00e9\x41\101\"q\""}})"),
            "a\tb\xc3\xa9"
            "AA\"q\"");
  EXPECT_EQ(Render("{{`raw\\n`}}"), "raw\\n");
  EXPECT_EQ(Render("{{'a'}} {{'\\n'}}"), "97 10");
  EXPECT_EQ(Render("{{0x1F}} {{0o17}} {{017}} {{0b101}} {{1_000}} {{-7}} {{+4}}"),
            "31 15 15 5 1000 -7 4");
  EXPECT_EQ(Render("{{1.5}} {{1.0}} {{1e3}} {{1e6}} {{123456.0}} {{0.000012}} {{.5}}"),
            "1.5 1 1000 1e+06 123456 1.2e-05 0.5");
  EXPECT_EQ(Render("{{true}} {{false}}"), "true false");
  EXPECT_EQ(Render("{{nil}}"),
            "EXEC ERROR: template: t:1:2: executing \"t\" at <nil>: nil is not a command");
}

TEST(TemplateTest, Variables) {
  EXPECT_EQ(Render("{{$x := 1}}{{$x}}{{$x = 2}}{{$x}}"), "12");
  EXPECT_EQ(Render("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}"), "2");
  EXPECT_EQ(Render("{{$x := \"a\"}}{{with $x := \"b\"}}{{$x}}{{end}}{{$x}}"), "ba");
  EXPECT_EQ(Render("{{range .L}}{{$.N}}{{end}}", {{"L", {1, 2}}, {"N", "n"}}), "nn");
  EXPECT_EQ(Render("{{$}}", json(5)), "5");
  EXPECT_EQ(Render("{{if true}}{{$y := 1}}{{end}}{{$y}}"),
            "PARSE ERROR: template: t:1: undefined variable \"$y\"");
}

TEST(TemplateTest, IfElseAndWith) {
  const char* chain = "{{if eq .N 1}}one{{else if eq .N 2}}two{{else}}many{{end}}";
  EXPECT_EQ(Render(chain, {{"N", 1}}), "one");
  EXPECT_EQ(Render(chain, {{"N", 2}}), "two");
  EXPECT_EQ(Render(chain, {{"N", 3}}), "many");
  const char* with = "{{with .X}}[{{.}}]{{else}}none{{end}}";
  EXPECT_EQ(Render(with, {{"X", 0}}), "none");
  EXPECT_EQ(Render(with, {{"X", "a"}}), "[a]");
  EXPECT_EQ(Render(with, {{"X", json::array()}}), "none");
  EXPECT_EQ(Render(with, {{"X", json::object({{"k", 1}})}}), "[map[k:1]]");
  EXPECT_EQ(Render("{{with .A}}a{{else with .B}}b={{.}}{{else}}c{{end}}", {{"A", ""}, {"B", 2}}),
            "b=2");
  EXPECT_EQ(Render("{{with $v := .X}}{{$v}}{{.}}{{end}}", {{"X", 7}}), "77");
  // Truthiness of every kind.
  EXPECT_EQ(Render("{{if 0.0}}t{{else}}f{{end}}{{if \"\"}}t{{else}}f{{end}}{{if .E}}t{{else}}f"
                   "{{end}}{{if .O}}t{{else}}f{{end}}{{if false}}t{{else}}f{{end}}{{if 2}}t{{end}}",
                   {{"E", json::array()}, {"O", json::object()}}),
            "fffff"
            "t");
}

TEST(TemplateTest, Range) {
  json data = {{"L", {10, 20, 30}}, {"M", {{"b", 2}, {"a", 1}}}, {"E", json::array()}};
  EXPECT_EQ(Render("{{range $i, $v := .L}}{{$i}}={{$v}};{{end}}", data), "0=10;1=20;2=30;");
  EXPECT_EQ(Render("{{range $v := .L}}{{$v}}{{end}}", data), "102030");
  EXPECT_EQ(Render("{{range .M}}{{.}},{{end}}", data), "1,2,");  // sorted keys, like Go maps
  EXPECT_EQ(Render("{{range $k, $v := .M}}{{$k}}{{$v}}{{end}}", data), "a1b2");
  EXPECT_EQ(Render("{{range .E}}x{{else}}empty{{end}}", data), "empty");
  EXPECT_EQ(Render("{{range .Missing}}x{{else}}empty{{end}}", data), "empty");
  EXPECT_EQ(Render("{{range .L}}{{if eq . 20}}{{break}}{{end}}{{.}}{{end}}", data), "10");
  EXPECT_EQ(Render("{{range .L}}{{if eq . 20}}{{continue}}{{end}}{{.}}{{end}}", data), "1030");
  EXPECT_EQ(Render("{{range 3}}{{.}}{{end}}"), "012");
  EXPECT_EQ(Render("{{range .L}}{{range $.E}}{{else}}{{continue}}{{end}}x{{end}}", data), "");
  EXPECT_EQ(Render("{{range $i, $v := .L}}{{range $.L}}{{if eq . 20}}{{break}}{{end}}{{$i}}{{end}}"
                   "{{end}}",
                   data),
            "012");
  EXPECT_EQ(Render("{{range $i, $v := .L}}{{$i = 9}}{{end}}", data), "");
  EXPECT_EQ(Render("{{range \"abc\"}}{{end}}"),
            "EXEC ERROR: template: t:1:8: executing \"t\" at <\"abc\">: range can't iterate "
            "over abc");
}

TEST(TemplateTest, DefineTemplateBlock) {
  EXPECT_EQ(Render("{{define \"x\"}}[{{.}}]{{end}}{{template \"x\" 5}}{{template \"x\"}}"),
            "[5][<no value>]");
  EXPECT_EQ(Render("{{block \"b\" .}}def{{.}}{{end}}", json("!")), "def!");
  // Within one Parse a block may not redefine a template (Go redefines only across Parse calls).
  EXPECT_EQ(Render("{{define \"b\"}}override{{end}}{{block \"b\" .}}def{{end}}"),
            "PARSE ERROR: template: t:1: template: multiple definition of template \"b\"");
  EXPECT_EQ(Render("{{define \"b\"}} {{end}}{{block \"b\" .}}def{{end}}"), "def");
  EXPECT_EQ(Render("{{template \"nope\"}}"),
            "EXEC ERROR: template: t:1:2: executing \"t\" at <{{template \"nope\"}}>: template "
            "\"nope\" not defined");
  // A called template sees only its own $.
  EXPECT_EQ(Render("{{define \"x\"}}{{$}}{{end}}{{$v := 1}}{{template \"x\" 2}}"), "2");
  EXPECT_EQ(Render("{{define \"a\"}}x{{end}}{{define \"a\"}}y{{end}}"),
            "PARSE ERROR: template: t:1: template: multiple definition of template \"a\"");
}

TEST(TemplateTest, PipelinesAndParentheses) {
  json data = {{"L", {1, 2, 3}}, {"Msgs", {{{"Role", "system"}}, {{"Role", "user"}}}}};
  EXPECT_EQ(Render("{{ \"x\" | printf \"%s-%s\" \"a\" }}"), "a-x");
  EXPECT_EQ(Render("{{ .L | len }}", data), "3");
  EXPECT_EQ(Render("{{ (index .Msgs 1).Role }}", data), "user");
  EXPECT_EQ(Render("{{ len (slice .L 1) | printf \"%d!\" }}", data), "2!");
  EXPECT_EQ(Render("{{ 1 | 2 }}"),
            "EXEC ERROR: template: t:1:7: executing \"t\" at <2>: can't give argument to "
            "non-function 2");
}

TEST(TemplateTest, LogicFunctions) {
  EXPECT_EQ(Render("{{and 1 0 2}}|{{and 1 2}}|{{or 0 \"\" \"x\"}}|{{or 0 \"\"}}|{{not 0}}"),
            "0|2|x||true");
  // and/or stop evaluating at the deciding argument: the bad index never runs.
  EXPECT_EQ(Render("{{or 1 (index .L 99)}}", {{"L", json::array()}}), "1");
  EXPECT_EQ(Render("{{and}}"),
            "EXEC ERROR: template: t:1:2: executing \"t\" at <and>: wrong number of args for "
            "and: want at least 1 got 0");
}

TEST(TemplateTest, Comparisons) {
  EXPECT_EQ(Render("{{eq 2 1 2}} {{eq 1 2 3}} {{eq \"a\" \"a\"}} {{ne 1 2}} {{eq true true}}"),
            "true false true true true");
  EXPECT_EQ(Render("{{lt 1 2}} {{lt \"b\" \"a\"}} {{le 2 2}} {{gt 3 2}} {{ge 1 2}} {{lt 1.5 2.5}}"),
            "true false true true false true");
  EXPECT_EQ(Render("{{eq .Missing \"x\"}}"), "false");  // nil compares unequal, no error
  EXPECT_EQ(Render("{{eq 1 \"a\"}}"),
            "EXEC ERROR: template: t:1:2: executing \"t\" at <eq 1 \"a\">: error calling eq: "
            "incompatible types for comparison");
  EXPECT_EQ(Render("{{lt 1 1.5}}"),
            "EXEC ERROR: template: t:1:2: executing \"t\" at <lt 1 1.5>: error calling lt: "
            "incompatible types for comparison");
  EXPECT_EQ(Render("{{lt true false}}"),
            "EXEC ERROR: template: t:1:2: executing \"t\" at <lt true false>: error calling lt: "
            "invalid type for comparison");
  EXPECT_EQ(Render("{{ne 1}}"),
            "EXEC ERROR: template: t:1:2: executing \"t\" at <ne>: wrong number of args for ne: "
            "want 2 got 1");
}

TEST(TemplateTest, IndexSliceLen) {
  json data = {{"L", {10, 20, 30}}, {"M", {{"k", "v"}}}, {"N", {{1, 2}, {3}}}};
  EXPECT_EQ(Render("{{index .L 1}} {{index .M \"k\"}} {{index .M \"zz\"}} {{index .N 0 1}} "
                   "{{index \"abc\" 1}} {{index .L}}",
                   data),
            "20 v <no value> 2 98 [10 20 30]");
  EXPECT_EQ(Render("{{slice .L 1}} {{slice .L 1 2}} {{slice \"hello\" 1 3}} {{slice .L}}", data),
            "[20 30] [20] el [10 20 30]");
  EXPECT_EQ(Render("{{len .L}} {{len \"h\xc3\xa9\"}} {{len .M}}", data), "3 3 1");
  EXPECT_EQ(Render("{{index .L 3}}", data),
            "EXEC ERROR: template: t:1:2: executing \"t\" at <index .L 3>: error calling index: "
            "reflect: slice index out of range");
  EXPECT_EQ(Render("{{index .L 4}}", data),
            "EXEC ERROR: template: t:1:2: executing \"t\" at <index .L 4>: error calling index: "
            "index out of range: 4");
  EXPECT_EQ(Render("{{slice .L 2 1}}", data),
            "EXEC ERROR: template: t:1:2: executing \"t\" at <slice .L 2 1>: error calling "
            "slice: invalid slice index: 2 > 1");
  EXPECT_EQ(Render("{{len 3}}"),
            "EXEC ERROR: template: t:1:2: executing \"t\" at <len 3>: error calling len: len of "
            "type int");
}

TEST(TemplateTest, PrintFunctions) {
  EXPECT_EQ(Render("{{print 1 2 \"a\" 3 .X}}|{{println 1 \"a\"}}|{{print}}"),
            "1 2a3<no value>|1 a\n|");
  EXPECT_EQ(Render("{{printf \"%5.2f|%-4d|%04d|%x|%X|%q|%v|%s|%t\" 3.14159 7 42 255 255 \"hi\" "
                   "true \"s\" false}}"),
            " 3.14|7   |0042|ff|FF|\"hi\"|true|s|false");
  EXPECT_EQ(Render("{{printf \"%d %s\" \"x\"}}"), "%!d(string=x) %!s(MISSING)");
  EXPECT_EQ(Render("{{printf \"%d\" 1 2}}"), "1%!(EXTRA int=2)");
  EXPECT_EQ(Render("{{printf \"%v|%d\" .L .L}}", {{"L", {1, 2}}}), "[1 2]|[1 2]");
  EXPECT_EQ(Render("{{printf \"%.3s|%8s|%-3s|\" \"abcdef\" \"ab\" \"x\"}}"), "abc|      ab|x  |");
  EXPECT_EQ(Render("{{printf \"%g %e %.1f %+d %c %%\" 1e6 1.5 2.25 5 65}}"),
            "1e+06 1.500000e+00 2.2 +5 A %");
  EXPECT_EQ(Render("{{printf \"%v %s\" .Nope .Nope}}"), "<nil> %!s(<nil>)");
  EXPECT_EQ(Render("{{printf \"%q\" \"a\\nb\"}}"), "\"a\\nb\"");
  EXPECT_EQ(Render("{{printf 3}}"),
            "EXEC ERROR: template: t:1:9: executing \"t\" at <3>: wrong type for value; "
            "expected string; got int");
}

TEST(TemplateTest, EscapingFunctions) {
  EXPECT_EQ(Render("{{html \"<a href=\\\"x\\\">&'\"}}"), "&lt;a href=&#34;x&#34;&gt;&amp;&#39;");
  EXPECT_EQ(Render("{{js \"it's <b>\"}}"), "it\\'s \\x3Cb\\x3E");
  EXPECT_EQ(Render("{{urlquery \"a b&c=d/\xc3\xa9\"}}"), "a+b%26c%3Dd%2F%C3%A9");
}

TEST(TemplateTest, OllamaJson) {
  json data = {{"V", {{"a", "<b>&"}, {"n", {1, 2.5, nullptr, 1e21, 0.0000001}}, {"t", true}}}};
  EXPECT_EQ(Render("{{json .V}}", data),
            R"({"a":"\u003cb\u003e\u0026","n":[1,2.5,null,1e+21,1e-7],"t":true})");
  EXPECT_EQ(Render("{{json \"line\\n\\\"q\\\"\"}} {{json 3}} {{json .Nope}}"),
            R"("line\n\"q\"" 3 null)");
  EXPECT_EQ(Render("{{json 1.5}} {{json 100000000.0}}"), "1.5 100000000");
}

TEST(TemplateTest, OllamaDates) {
  ExecOptions options;
  // Noon UTC: the same calendar date in every time zone from UTC-11 to UTC+11.
  options.clock = [] {
    return std::chrono::sys_days{std::chrono::year{2024} / 3 / 1} + std::chrono::hours(12);
  };
  EXPECT_EQ(Render("{{currentDate}} {{yesterdayDate}}", json::object(), options),
            "2024-03-01 2024-02-29");
}

TEST(TemplateTest, OllamaToTypeScriptType) {
  json data = {{"P",
                {{"a", {{"Type", "integer"}}},
                 {"b", {{"Type", {"string", "null"}}}},
                 {"c", {{"Type", "object"}}},
                 {"d", {{"Type", "array"}}},
                 {"e", json::object()}}}};
  EXPECT_EQ(Render("{{range $k, $v := .P}}{{$k}}: {{toTypeScriptType $v}}; {{end}}", data),
            "a: number; b: string | null; c: Record<string, any>; d: any[]; e: any; ");
}

TEST(TemplateTest, ParseErrors) {
  EXPECT_EQ(Render("{{.X"), "PARSE ERROR: template: t:1: unclosed action");
  EXPECT_EQ(Render("{{if .X}}a"), "PARSE ERROR: template: t:1: unexpected EOF");
  EXPECT_EQ(Render("a{{end}}"), "PARSE ERROR: template: t:1: unexpected {{end}}");
  EXPECT_EQ(Render("x\n{{foo 1}}"), "PARSE ERROR: template: t:2: function \"foo\" not defined");
  EXPECT_EQ(Render("{{$x}}"), "PARSE ERROR: template: t:1: undefined variable \"$x\"");
  EXPECT_EQ(Render("{{break}}"), "PARSE ERROR: template: t:1: {{break}} outside {{range}}");
  EXPECT_EQ(Render("{{}}"), "PARSE ERROR: template: t:1: missing value for command");
  EXPECT_EQ(Render("{{if}}{{end}}"), "PARSE ERROR: template: t:1: missing value for if");
  EXPECT_EQ(Render("{{\"abc}}"), "PARSE ERROR: template: t:1: unterminated quoted string");
  EXPECT_EQ(Render("a\n\n{{/* x }}"), "PARSE ERROR: template: t:3: unclosed comment");
  EXPECT_EQ(Render("{{)}}"), "PARSE ERROR: template: t:1: unexpected right paren");
  EXPECT_EQ(Render("{{(1}}"), "PARSE ERROR: template: t:1: unclosed left paren");
  EXPECT_EQ(Render("{{1 2 3"), "PARSE ERROR: template: t:1: unclosed action");
  EXPECT_EQ(Render("{{range .L}}{{else if .X}}{{end}}"),
            "PARSE ERROR: template: t:1: unexpected <if> in input");
  Result<Template> parsed = Template::Parse("t", "{{.X");
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
}

TEST(TemplateTest, ExecutionErrorPositionsInDefinedTemplates) {
  EXPECT_EQ(Render("line1\n{{define \"x\"}}\n  {{.A.B}}{{end}}{{template \"x\" .}}"),
            "EXEC ERROR: template: t:3:4: executing \"x\" at <.A.B>: nil pointer evaluating "
            "interface {}.B");
}

TEST(TemplateTest, CapsStopHostileTemplates) {
  ExecOptions options;
  options.max_output_bytes = 100;
  Status status = ExecStatus("{{range 1000}}xxxxxxxxxx{{end}}", json::object(), options);
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(status.message().find("output exceeds 100 bytes"), std::string::npos);

  options = ExecOptions();
  options.max_range_iterations = 10;
  status = ExecStatus("{{range 11}}{{end}}", json::object(), options);
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(status.message().find("range iterations exceed 10"), std::string::npos);
  EXPECT_TRUE(ExecStatus("{{range 10}}{{end}}", json::object(), options).ok());

  status = ExecStatus("{{define \"r\"}}{{template \"r\" .}}{{end}}{{template \"r\" .}}",
                      json::object(), ExecOptions());
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(status.message().find("exceeded maximum template depth (1000)"), std::string::npos);

  // Each template calls the one below twice: 2^40 calls without steps cap.
  std::string bomb = "{{define \"t0\"}}x{{end}}";
  for (int i = 1; i <= 40; ++i) {
    bomb += "{{define \"t" + std::to_string(i) + "\"}}{{template \"t" + std::to_string(i - 1) +
            "\"}}{{template \"t" + std::to_string(i - 1) + "\"}}{{end}}";
  }
  bomb += "{{template \"t40\"}}";
  options = ExecOptions();
  options.max_steps = 100000;
  status = ExecStatus(bomb, json::object(), options);
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(status.message().find("steps"), std::string::npos);

  json deep_data = json::array();
  for (int i = 0; i < 5000; ++i) deep_data = json::array({std::move(deep_data)});
  status = ExecStatus("{{json .}}", deep_data, ExecOptions());
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(status.message().find("data nested deeper than 1000 levels"), std::string::npos);

  std::string deep = std::string(5000, '(') + "1" + std::string(5000, ')');
  EXPECT_EQ(Render("{{" + deep + "}}"),
            "PARSE ERROR: template: t:1: max expression depth exceeded");
  std::string nested_ifs;
  for (int i = 0; i < 5000; ++i) nested_ifs += "{{if 1}}";
  EXPECT_EQ(Render(nested_ifs), "PARSE ERROR: template: t:1: max expression depth exceeded");
}

TEST(TemplateTest, VarsListsIdentifiers) {
  Result<Template> parsed =
      Template::Parse("t", "{{range .Messages}}{{.Content}}{{end}}{{if $.Tools}}{{end}}");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->Vars(), (std::vector<std::string>{"$", "content", "messages", "tools"}));
}

// Conversations in Ollama's data shape: every struct field present, system messages kept in
// .Messages as collate() leaves them.
json Message(const std::string& role, const std::string& content) {
  return {{"Role", role},
          {"Content", content},
          {"Thinking", ""},
          {"Images", json::array()},
          {"ToolCalls", json::array()},
          {"ToolName", ""}};
}

TEST(OllamaTemplatesTest, ChatMl) {
  const char* chatml =
      "{{- range .Messages }}<|im_start|>{{ .Role }}\n"
      "{{ .Content }}<|im_end|>\n"
      "{{ end }}<|im_start|>assistant\n";
  json data = {{"System", "You are helpful."},
               {"Messages",
                {Message("system", "You are helpful."), Message("user", "Hi"),
                 Message("assistant", "Hello!"), Message("user", "How are you?")}},
               {"Tools", json::array()},
               {"Response", ""}};
  EXPECT_EQ(Render(chatml, data),
            "<|im_start|>system\nYou are helpful.<|im_end|>\n"
            "<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\nHello!<|im_end|>\n"
            "<|im_start|>user\nHow are you?<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(OllamaTemplatesTest, Llama3InstructWithTools) {
  const char* llama3 = R"({{- if or .System .Tools }}<|start_header_id|>system<|end_header_id|>
{{- if .System }}

{{ .System }}
{{- end }}
{{- if .Tools }}

You have access to the following functions:
{{- range .Tools }}
{{ .Function.Name }}: {{ .Function.Description }}
{{- end }}
{{- end }}<|eot_id|>
{{- end }}
{{- range $i, $m := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if eq .Role "user" }}<|start_header_id|>user<|end_header_id|>

{{ .Content }}<|eot_id|>
{{- if $last }}<|start_header_id|>assistant<|end_header_id|>

{{ end }}
{{- else if eq .Role "assistant" }}<|start_header_id|>assistant<|end_header_id|>
{{- if .ToolCalls }}

{{ range .ToolCalls }}{"name": "{{ .Function.Name }}", "parameters": {{ json .Function.Arguments }}}{{ end }}
{{- else }}

{{ .Content }}
{{- end }}
{{- if not $last }}<|eot_id|>{{ end }}
{{- else if eq .Role "tool" }}<|start_header_id|>ipython<|end_header_id|>

{{ .Content }}<|eot_id|>
{{- if $last }}<|start_header_id|>assistant<|end_header_id|>

{{ end }}
{{- end }}
{{- end }})";
  json call = Message("assistant", "");
  call["ToolCalls"] = {
      {{"ID", ""},
       {"Function", {{"Index", 0}, {"Name", "get_weather"}, {"Arguments", {{"city", "Paris"}}}}}}};
  json tool_result = Message("tool", "22C");
  tool_result["ToolName"] = "get_weather";
  json data = {
      {"System", "Be brief."},
      {"Messages",
       {Message("system", "Be brief."), Message("user", "Weather in Paris?"), call, tool_result}},
      {"Tools",
       {{{"Type", "function"},
         {"Function",
          {{"Name", "get_weather"},
           {"Description", "Weather"},
           {"Parameters",
            {{"Type", "object"},
             {"Required", {"city"}},
             {"Properties", {{"city", {{"Type", "string"}, {"Description", "City"}}}}}}}}}}}},
      {"Response", ""},
      {"Think", false},
      {"IsThinkSet", false}};
  EXPECT_EQ(Render(llama3, data),
            "<|start_header_id|>system<|end_header_id|>\n\nBe brief.\n\n"
            "You have access to the following functions:\nget_weather: Weather<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nWeather in Paris?<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n"
            "{\"name\": \"get_weather\", \"parameters\": {\"city\":\"Paris\"}}<|eot_id|>"
            "<|start_header_id|>ipython<|end_header_id|>\n\n22C<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");

  // Without tools or system the header block disappears and the last user turn opens the
  // assistant header.
  json plain = {{"System", ""},
                {"Messages", {Message("user", "Hi")}},
                {"Tools", json::array()},
                {"Response", ""}};
  EXPECT_EQ(Render(llama3, plain),
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(OllamaTemplatesTest, MistralStyleWithLastIndexTrick) {
  const char* mistral = R"({{- range $index, $_ := .Messages }}
{{- if eq .Role "user" }}
{{- if and (eq (len (slice $.Messages $index)) 1) $.System }}[INST] {{ $.System }}

{{ .Content }}[/INST]
{{- else }}[INST] {{ .Content }}[/INST]
{{- end }}
{{- else if eq .Role "assistant" }} {{ .Content }}</s>
{{- end }}
{{- end }})";
  json data = {{"System", "Sys"},
               {"Messages",
                {Message("system", "Sys"), Message("user", "Q1"), Message("assistant", "A1"),
                 Message("user", "Q2")}},
               {"Tools", json::array()},
               {"Response", ""}};
  EXPECT_EQ(Render(mistral, data), "[INST] Q1[/INST] A1</s>[INST] Sys\n\nQ2[/INST]");
  data["System"] = "";
  EXPECT_EQ(Render(mistral, data), "[INST] Q1[/INST] A1</s>[INST] Q2[/INST]");
}

TEST(OllamaTemplatesTest, LegacyPromptResponse) {
  const char* phi3 =
      "{{ if .System }}<|system|>\n{{ .System }}<|end|>\n{{ end }}"
      "{{ if .Prompt }}<|user|>\n{{ .Prompt }}<|end|>\n{{ end }}"
      "<|assistant|>\n{{ .Response }}<|end|>";
  EXPECT_EQ(Render(phi3, {{"System", "S"}, {"Prompt", "P"}, {"Response", ""}}),
            "<|system|>\nS<|end|>\n<|user|>\nP<|end|>\n<|assistant|>\n<|end|>");
  EXPECT_EQ(Render(phi3, {{"System", ""}, {"Prompt", "P"}, {"Response", "R"}}),
            "<|user|>\nP<|end|>\n<|assistant|>\nR<|end|>");
}

}  // namespace
}  // namespace corral::tmpl

namespace corral::tmpl {
namespace {

// Ollama's legacy final turn: everything after the first {{ .Response }} action is dropped, also
// text after the enclosing block (Go's deleteNode), but {{ if .Response }} pipelines do not cut.
TEST(ResponseCutTest, DropsEverythingAfterResponse) {
  Result<Template> t = Template::Parse(
      "t",
      "{{ if .Response }}R:{{ end }}<a>{{ if .Prompt }}{{ .Prompt }}{{ .Response }}</a>"
      "{{ end }}<after>");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  json data = {{"Prompt", "P"}, {"Response", "X"}};
  Result<std::string> full = t->Execute(data);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(*full, "R:<a>PX</a><after>");
  Result<std::string> cut = t->ExecuteUntilResponse(data);
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  EXPECT_EQ(*cut, "R:<a>PX");
  // No response node: nothing is cut.
  Result<Template> plain = Template::Parse("t", "{{ .Prompt }}!");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain->ExecuteUntilResponse(data), "P!");
}

TEST(ResponseCutTest, RefusesWhatGoCannotCut) {
  Result<Template> t = Template::Parse("t", "{{ if .Prompt }}{{ .Response }}{{ else }}e{{ end }}");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->ExecuteUntilResponse({{"Prompt", "P"}}).status().code(), StatusCode::kUnsupported);
}

// Go values with a String() method (Ollama's api.Tools, ToolFunction, arguments) print and
// marshal as their own JSON text instead of fmt's map form.
TEST(GoStringsTest, PrintAndJsonUseTheTable) {
  json data = {{"Args", {{"b", 1}, {"a", "x"}}}, {"List", {{{"k", 1}}}}};
  Result<Template> t =
      Template::Parse("t", "{{ .Args }}|{{ json .Args }}|{{ json .List }}|{{ .List }}");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t->Execute(data), "map[a:x b:1]|{\"a\":\"x\",\"b\":1}|[{\"k\":1}]|[map[k:1]]");
  std::unordered_map<const json*, std::string> table = {{&data["Args"], "{\"b\":1,\"a\":\"x\"}"},
                                                        {&data["List"][0], "K"}};
  ExecOptions options;
  options.go_strings = &table;
  EXPECT_EQ(*t->Execute(data, options), "{\"b\":1,\"a\":\"x\"}|{\"b\":1,\"a\":\"x\"}|[K]|[K]");
}

}  // namespace
}  // namespace corral::tmpl
