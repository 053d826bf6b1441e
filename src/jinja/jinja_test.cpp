// Unit tests per feature, with expected output worked out by hand from Jinja2's rules.
#include <gtest/gtest.h>

#include <chrono>

#include "jinja/template.h"

namespace corral::jinja {
namespace {

using nlohmann::json;

std::string Render(std::string_view source, const json& context = json::object(),
                   Options options = {}) {
  Result<Template> t = Template::Parse(source, options);
  if (!t.ok()) return "PARSE ERROR: " + t.status().ToString();
  Result<std::string> out = t->Render(context);
  if (!out.ok()) return "RENDER ERROR: " + out.status().ToString();
  return *out;
}

TEST(JinjaTest, TextAndExpressions) {
  EXPECT_EQ(Render("hello"), "hello");
  EXPECT_EQ(Render("{{ 1 + 2 * 3 }}"), "7");
  EXPECT_EQ(Render("{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }}"),
            "3 -4 2 3.5 1024");
  EXPECT_EQ(Render("{{ 'a' ~ 1 ~ none }}"), "a1None");
  EXPECT_EQ(Render("{{ 'ab' + 'cd' }}{{ 'x' * 3 }}"), "abcdxxx");
  EXPECT_EQ(Render("{{ [1, 'a', none, true, 1.5] }}"), "[1, 'a', None, True, 1.5]");
  EXPECT_EQ(Render("{{ {'k': \"it's\"} }}"), "{'k': \"it's\"}");
  EXPECT_EQ(Render("{{ (1,) }}{{ (1, 2) }}"), "(1,)(1, 2)");
  EXPECT_EQ(Render("{{ 1 if x else 2 }}{{ 'y' if x }}", {{"x", false}}), "2");
  EXPECT_EQ(Render("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' in 'cat' }} {{ 2 not in [1] }}"),
            "True False True True");
  EXPECT_EQ(Render("{{ none or 'x' }}{{ 0 and 1 }}{{ not 0 }}"), "x0True");
  EXPECT_EQ(Render("{{ 'a\\tb\\n' }}|{{ \"\\u00e9\" }}"), "a\tb\n|\xc3\xa9");
}

TEST(JinjaTest, FloatsPrintLikePython) {
  EXPECT_EQ(Render("{{ 1.0 }} {{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e-5 }} {{ 123.456 }} {{ 1/3 }}"),
            "1.0 0.30000000000000004 1e+16 1e-05 123.456 0.3333333333333333");
  EXPECT_EQ(Render("{{ 2.5|round }} {{ 3.14159|round(2) }} {{ 5|round }}"), "2.0 3.14 5");
}

TEST(JinjaTest, AttributesItemsAndSlices) {
  json ctx = {{"m", {{"role", "user"}, {"content", "hi"}}}, {"xs", {1, 2, 3, 4, 5}}};
  EXPECT_EQ(Render("{{ m.role }} {{ m['content'] }} {{ m.missing }}|", ctx), "user hi |");
  EXPECT_EQ(Render("{{ xs[0] }} {{ xs[-1] }} {{ xs[1:3] }} {{ xs[::-2] }} {{ xs[:-3] }}", ctx),
            "1 5 [2, 3] [5, 3, 1] [1, 2]");
  EXPECT_EQ(Render("{{ 'héllo'[1:3] }} {{ 'abc'[::-1] }} {{ 'héllo'|length }}"), "él cba 5");
  EXPECT_EQ(Render("{{ xs[10] }}|", ctx), "|");
}

TEST(JinjaTest, UndefinedSemantics) {
  EXPECT_EQ(Render("[{{ nope }}]"), "[]");
  EXPECT_EQ(Render("{{ nope is defined }} {{ nope is undefined }} {{ nope|length }}"),
            "False True 0");
  EXPECT_EQ(Render("{% for x in nope %}x{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(Render("{{ nope|default('d') }} {{ ''|default('d') }} {{ ''|default('d', true) }}"),
            "d  d");
  EXPECT_EQ(Render("{{ nope.attr }}"),
            "RENDER ERROR: InvalidArgument: template error at line 1: "
            "'nope' is undefined");
  EXPECT_NE(Render("{{ nope + 1 }}").find("RENDER ERROR"), std::string::npos);
  EXPECT_EQ(Render("{{ none.x }}|{{ 'a' in nope }}"), "|False");
}

TEST(JinjaTest, WhitespaceControl) {
  EXPECT_EQ(Render("a  {{- 1 -}}  b"), "a1b");
  EXPECT_EQ(Render("a\n  {%- if true %}x{% endif -%}\n  b"), "axb");
  // trim_blocks drops the newline after a block tag; lstrip_blocks the indentation before it.
  EXPECT_EQ(Render("<\n  {% if true %}\n  x\n  {% endif %}\n>"), "<\n  x\n>");
  Options plain;
  plain.trim_blocks = false;
  plain.lstrip_blocks = false;
  EXPECT_EQ(Render("<\n  {% if true %}\n  x\n  {% endif %}\n>", json::object(), plain),
            "<\n  \n  x\n  \n>");
  EXPECT_EQ(Render("  {%+ if true %}x{% endif %}"), "  x");
  EXPECT_EQ(Render("{# comment #}\nx{#- c -#}  y"), "xy");
  EXPECT_EQ(Render("line\n"), "line");  // Jinja2 drops one final newline
  EXPECT_EQ(Render("{% raw %}{{ not parsed }}{% endraw %}"), "{{ not parsed }}");
}

TEST(JinjaTest, ForLoops) {
  json ctx = {{"xs", {"a", "b", "c"}}};
  EXPECT_EQ(Render("{% for x in xs %}{{ loop.index }}{{ x }}{{ ',' if not loop.last }}"
                   "{% endfor %}",
                   ctx),
            "1a,2b,3c");
  EXPECT_EQ(Render("{% for x in xs %}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}"
                   "{{ loop.length }} {% endfor %}",
                   ctx),
            "03True3 12False3 21False3 ");
  EXPECT_EQ(Render("{% for x in xs %}{{ loop.previtem }}{{ loop.nextitem }};{% endfor %}", ctx),
            "b;ac;b;");
  EXPECT_EQ(Render("{% for x in xs if x != 'b' %}{{ loop.index }}{{ x }}{% endfor %}", ctx),
            "1a2c");
  EXPECT_EQ(Render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
                   {{"d", {{"a", 1}, {"b", 2}}}}),
            "a=1;b=2;");
  EXPECT_EQ(Render("{% for x in xs %}{% if x == 'b' %}{% continue %}{% endif %}{{ x }}"
                   "{% if x == 'c' %}{% break %}{% endif %}{% endfor %}",
                   ctx),
            "ac");
  EXPECT_EQ(Render("{% for i in range(1, 10, 3) %}{{ i }}{% endfor %}"), "147");
  EXPECT_EQ(Render("{% for x in xs %}{{ loop.cycle('o', 'e') }}{% endfor %}", ctx), "oeo");
}

TEST(JinjaTest, ScopingAndNamespaces) {
  // A set inside a loop does not leak out; a namespace attribute does.
  EXPECT_EQ(Render("{% set x = 1 %}{% for i in [1, 2] %}{% set x = 5 %}{% endfor %}{{ x }}"), "1");
  EXPECT_EQ(Render("{% set ns = namespace(x=1) %}{% for i in [1, 2] %}{% set ns.x = ns.x + i %}"
                   "{% endfor %}{{ ns.x }}"),
            "4");
  EXPECT_EQ(Render("{% if true %}{% set y = 2 %}{% endif %}{{ y }}"), "2");
  EXPECT_EQ(Render("{% set a, b = 1, 2 %}{{ a }}{{ b }}"), "12");
  EXPECT_EQ(Render("{% set block %}x{{ 1 }}{% endset %}[{{ block }}]"), "[x1]");
  EXPECT_EQ(Render("{% set ns = namespace(items=[]) %}{% for i in range(3) %}"
                   "{{ ns.items.append(i) or '' }}{% endfor %}{{ ns.items }}"),
            "[0, 1, 2]");
  EXPECT_NE(Render("{% set x = 1 %}{% set x.y = 2 %}").find("non-namespace"), std::string::npos);
}

TEST(JinjaTest, MacrosAndCallBlocks) {
  EXPECT_EQ(Render("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}"
                   "{{ greet('Bo') }} {{ greet('Al', punct='?') }}"),
            "Hi Bo! Hi Al?");
  EXPECT_EQ(Render("{% macro wrap() %}[{{ caller() }}]{% endmacro %}"
                   "{% call wrap() %}inside{% endcall %}"),
            "[inside]");
  EXPECT_EQ(Render("{% filter upper %}abc{% endfilter %}"), "ABC");
  EXPECT_EQ(Render("{% generation %}gen{% endgeneration %}"), "gen");
  EXPECT_EQ(Render("{% with a = 3 %}{{ a }}{% endwith %}{{ a }}"), "3");
}

TEST(JinjaTest, Filters) {
  EXPECT_EQ(Render("{{ '  x  '|trim }}|{{ 'ab'|upper }}|{{ 'AB'|lower }}|{{ 'hello wORLD'|title }}"
                   "|{{ 'hELLO'|capitalize }}"),
            "x|AB|ab|Hello World|Hello");
  EXPECT_EQ(
      Render("{{ [1, 2]|length }} {{ [1, 2]|first }} {{ [1, 2]|last }} {{ [1, 2]|join('-') }}"),
      "2 1 2 1-2");
  EXPECT_EQ(
      Render("{{ 'aXbX'|replace('X', 'y') }} {{ '42'|int + 1 }} {{ 'x'|int }} {{ '2.5'|float }}"
             " {{ -3|abs }} {{ 3|string ~ 'x' }}"),
      "ayby 43 0 2.5 3 3x");
  EXPECT_EQ(
      Render("{{ [3, 1, 2]|sort }} {{ [3, 1, 2]|sort(reverse=true) }} {{ [1, 1, 2]|unique|list }}"),
      "[1, 2, 3] [3, 2, 1] [1, 2]");
  json ctx = {{"ms", {{{"role", "user"}, {"n", 1}}, {{"role", "system"}, {"n", 2}}}}};
  EXPECT_EQ(Render("{{ ms|selectattr('role', 'equalto', 'user')|map(attribute='n')|list }}"
                   "{{ ms|rejectattr('role', '==', 'user')|list|length }}"
                   "{{ [1, 2, 3, 4]|select('even')|list }}{{ [1, 2, 3]|reject('odd')|list }}",
                   ctx),
            "[1]1[2, 4][2]");
  EXPECT_EQ(Render("{{ ['a', 'b']|map('upper')|join }}"), "AB");
  EXPECT_EQ(Render("{{ {'b': 1, 'a': [1, 'é']}|tojson }}"), "{\"b\": 1, \"a\": [1, \"é\"]}");
  EXPECT_EQ(Render("{{ {'b': 1, 'a': []}|tojson(indent=2) }}"), "{\n  \"b\": 1,\n  \"a\": []\n}");
  EXPECT_EQ(Render("{{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}"), "{\"a\": 2, \"b\": 1}");
  EXPECT_EQ(Render("{{ {'a': 1}|items|list }}"), "[('a', 1)]");
  EXPECT_EQ(Render("{{ 'a\\nb'|indent(2) }}"), "a\n  b");
  EXPECT_EQ(Render("{{ 'abc'|list }}{{ 'x'|safe }}"), "['a', 'b', 'c']x");
}

TEST(JinjaTest, Tests) {
  EXPECT_EQ(
      Render("{{ none is none }}{{ 1 is number }}{{ 1 is integer }}{{ 1.0 is float }}"
             "{{ 'a' is string }}{{ {} is mapping }}{{ [] is iterable }}{{ 'a' is sequence }}"),
      "TrueTrueTrueTrueTrueTrueTrueTrue");
  EXPECT_EQ(Render("{{ true is boolean }}{{ true is true }}{{ 0 is false }}{{ 4 is even }}"
                   "{{ 3 is odd }}{{ 9 is divisibleby 3 }}{{ 1 is in [1] }}{{ 2 is not eq 2 }}"),
            "TrueTrueFalseTrueTrueTrueTrueFalse");
}

TEST(JinjaTest, Methods) {
  EXPECT_EQ(Render("{{ ' x '.strip() }}|{{ 'xxa'.lstrip('x') }}|{{ 'a  '.rstrip() }}|"
                   "{{ 'a b  c'.split() }}|{{ 'a,b'.split(',') }}|{{ 'ab'.startswith('a') }}"
                   "{{ 'ab'.endswith(('x', 'b')) }}|{{ 'ab'.replace('a', 'c') }}|{{ 'ab'.upper() }}"
                   "|{{ \"they're\".title() }}"),
            "x|a|a|['a', 'b', 'c']|['a', 'b']|TrueTrue|cb|AB|They'Re");
  json ctx = {{"d", {{"a", 1}}}};
  EXPECT_EQ(Render("{{ d.get('a') }}{{ d.get('b') }}{{ d.get('b', 2) }}{{ d.keys()|list }}"
                   "{{ d.values()|list }}",
                   ctx),
            "1None2['a'][1]");
}

TEST(JinjaTest, Globals) {
  Options options;
  options.clock = [] { return std::chrono::system_clock::from_time_t(86400 * 365); };
  EXPECT_EQ(Render("{{ strftime_now('%Y') }}", json::object(), options), "1971");
  Result<Template> t = Template::Parse("{{ raise_exception('bad role') }}", Options{});
  ASSERT_TRUE(t.ok());
  Result<std::string> out = t->Render(json::object());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(), "bad role");
  EXPECT_EQ(Render("{{ dict(a=1) }}{{ range(3)|list }}"), "{'a': 1}[0, 1, 2]");
}

TEST(JinjaTest, SyntaxErrorsCarryTheLine) {
  Result<Template> t = Template::Parse("ok\n{% if x %}\nno end", Options{});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("line"), std::string::npos);
  EXPECT_FALSE(Template::Parse("{{ 1 + }}", Options{}).ok());
  EXPECT_FALSE(Template::Parse("{% include 'x' %}", Options{}).ok());
  EXPECT_FALSE(Template::Parse("{% break %}", Options{}).ok());
  EXPECT_FALSE(Template::Parse("{{ 'unterminated }}", Options{}).ok());
}

}  // namespace
}  // namespace corral::jinja
