// Hostile templates: each cap stops rendering with a clear Status, never a crash or a hang.
#include <gtest/gtest.h>

#include <string>

#include "jinja/template.h"

namespace corral::jinja {
namespace {

Status RenderStatus(const std::string& source, const Options& options = {}) {
  Result<Template> t = Template::Parse(source, options);
  if (!t.ok()) return t.status();
  return t->Render(nlohmann::json::object()).status();
}

TEST(JinjaLimitsTest, LoopIterations) {
  Options options;
  options.max_loop_iterations = 1000;
  Status s = RenderStatus(
      "{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}", options);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("loop iterations"), std::string::npos);
}

TEST(JinjaLimitsTest, HugeRange) {
  Status s = RenderStatus("{% for i in range(1000000000000) %}{% endfor %}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
}

TEST(JinjaLimitsTest, MacroRecursion) {
  Status s = RenderStatus("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("macro calls nested"), std::string::npos);
}

TEST(JinjaLimitsTest, ExponentialMacroFanOutHitsTheStepCap) {
  Options options;
  options.max_steps = 100000;
  Status s = RenderStatus(
      "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
      "{{ f(40) }}",
      options);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("evaluation steps"), std::string::npos);
}

TEST(JinjaLimitsTest, OutputSize) {
  Options options;
  options.max_output_bytes = 1000;
  Status s = RenderStatus("{% for i in range(100) %}0123456789abcdef{% endfor %}", options);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("output exceeds"), std::string::npos);
}

TEST(JinjaLimitsTest, StringAndListGrowth) {
  EXPECT_EQ(RenderStatus("{{ 'x' * 1000000000000 }}").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(RenderStatus("{{ [1] * 1000000000000 }}").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(RenderStatus("{% set s = namespace(v='xxxxxxxxxxxxxxxx') %}"
                         "{% for i in range(40) %}{% set s.v = s.v ~ s.v %}{% endfor %}")
                .code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(RenderStatus("{{ 10 ** 100 }}").code(), StatusCode::kOutOfRange);
}

TEST(JinjaLimitsTest, ExpressionNesting) {
  std::string deep = "{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}";
  Status s = RenderStatus(deep);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("nesting"), std::string::npos);
  std::string deep_list = "{{ " + std::string(100000, '[') + std::string(100000, ']') + " }}";
  EXPECT_EQ(RenderStatus(deep_list).code(), StatusCode::kResourceExhausted);
  std::string deep_not = "{{ " + std::string(5000 * 4, ' ');
  for (int i = 0; i < 5000; ++i) deep_not += "not ";
  EXPECT_EQ(RenderStatus(deep_not + "1 }}").code(), StatusCode::kResourceExhausted);
  std::string deep_minus = "{{ " + std::string(100000, '-') + "1 }}";
  EXPECT_EQ(RenderStatus(deep_minus).code(), StatusCode::kResourceExhausted);
}

TEST(JinjaLimitsTest, BlockNesting) {
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "{% if true %}";
  EXPECT_EQ(RenderStatus(deep).code(), StatusCode::kResourceExhausted);
}

TEST(JinjaLimitsTest, LongOperatorChains) {
  // Each link of a chain deepens the tree the evaluator walks, so chains count as nesting.
  std::string chain = "{{ 1";
  for (int i = 0; i < 10000; ++i) chain += " + 1";
  EXPECT_EQ(RenderStatus(chain + " }}").code(), StatusCode::kResourceExhausted);
  std::string filters = "{{ 'x'";
  for (int i = 0; i < 10000; ++i) filters += "|upper";
  EXPECT_EQ(RenderStatus(filters + " }}").code(), StatusCode::kResourceExhausted);
  std::string short_chain = "{{ 1";
  for (int i = 0; i < 50; ++i) short_chain += " + 1";
  Result<Template> t = Template::Parse(short_chain + " }}", Options{});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  Result<std::string> out = t->Render(nlohmann::json::object());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "51");
}

// A million-step loop can nest a value 200000 deep; printing, comparing, serializing and
// finally destroying it must neither recurse off the stack nor hang.
TEST(JinjaLimitsTest, DeeplyNestedValues) {
#ifdef __SANITIZE_ADDRESS__
  // Unoptimized and instrumented, 200000 levels take minutes; ASan checks the memory of the same
  // paths at a depth that still passes the cap many times over.
  const std::string depth = "40000";
#else
  const std::string depth = "200000";
#endif
  const std::string build =
      "{% set ns = namespace(x=[], y=[], d={}, n=none) %}{% for i in range(" + depth +
      ") %}"
      "{% set ns.x = [ns.x] %}{% set ns.y = [ns.y] %}{% set ns.d = {'k': ns.d} %}"
      "{% set ns.n = namespace(v=ns.n) %}{% endfor %}";
  Result<Template> t = Template::Parse(build + "{{ ns.x|length }}{{ ns.x == ns.y }}", Options{});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  Result<std::string> out = t->Render(nlohmann::json::object());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "1False");  // past the depth cap, deep structures compare unequal

  // Printing stops descending at the cap instead of overflowing the stack.
  t = Template::Parse(build + "{{ ns.x }}", Options{});
  ASSERT_TRUE(t.ok());
  out = t->Render(nlohmann::json::object());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_NE(out->find("[...]"), std::string::npos);
  EXPECT_LT(out->size(), 1000u);

  Status s = RenderStatus(build + "{{ ns.d|tojson }}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("nested too deeply"), std::string::npos);
  s = RenderStatus(build + "{{ [ns.x, [ns.x]]|sort }}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("nested too deeply"), std::string::npos);
}

// A list that contains itself prints and compares as Python's does ([[...]]; equal to itself),
// and tojson refuses it; none of them loops forever.
TEST(JinjaLimitsTest, SelfReferentialValues) {
  Result<Template> t = Template::Parse(
      "{% set l = [] %}{{ l.append(l) }}{{ l }}{{ l == l }}{{ [l] == [l] }}{{ l|length }}",
      Options{});
  ASSERT_TRUE(t.ok());
  Result<std::string> out = t->Render(nlohmann::json::object());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "None[[...]]TrueTrue1");
  EXPECT_EQ(RenderStatus("{% set l = [] %}{{ l.append(l) }}{{ l|tojson }}").code(),
            StatusCode::kResourceExhausted);
}

// Growing a list while iterating it would loop forever in Python; we iterate a snapshot, and
// either way the loop and size caps bound the work.
TEST(JinjaLimitsTest, ListGrowingWhileIterated) {
  Result<Template> t = Template::Parse(
      "{% set l = [1] %}{% for x in l %}{{ l.append(x) or '' }}{% endfor %}{{ l|length }}",
      Options{});
  ASSERT_TRUE(t.ok());
  Result<std::string> out = t->Render(nlohmann::json::object());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "2");
  Options options;
  options.max_loop_iterations = 10000;
  Status s = RenderStatus(
      "{% set ns = namespace(l=[1]) %}{% for i in range(100000) %}{% set ns.l = ns.l + ns.l %}"
      "{% endfor %}",
      options);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
}

// Width and padding arguments are bounded by the string cap, not trusted.
TEST(JinjaLimitsTest, FormattingWidths) {
  Options options;
  options.max_output_bytes = 1 << 20;
  EXPECT_EQ(RenderStatus("{{ 'x'.zfill(100000000000) }}", options).code(),
            StatusCode::kResourceExhausted);
  EXPECT_FALSE(RenderStatus("{{ '%999999999999s' % 'x' }}", options).ok());
  EXPECT_FALSE(RenderStatus("{{ '{:999999999999}'.format('x') }}", options).ok());
  Status s = RenderStatus(
      "{% for i in range(100) %}{{ '%99999s' % 'x' }}{{ '{:>99999}'.format('y') }}{% endfor %}",
      options);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("output exceeds"), std::string::npos);
}

TEST(JinjaLimitsTest, RenderContextMustBeAnObject) {
  Result<Template> t = Template::Parse("x", Options{});
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->Render(nlohmann::json::array()).ok());
}

}  // namespace
}  // namespace corral::jinja
