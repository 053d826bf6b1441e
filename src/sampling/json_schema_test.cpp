#include "sampling/json_schema.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "sampling/grammar.h"

namespace corral::sampling {
namespace {

std::shared_ptr<const Grammar> FromSchema(std::string_view schema) {
  auto gbnf = JsonSchemaToGbnf(schema);
  EXPECT_TRUE(gbnf.ok()) << gbnf.status().ToString();
  if (!gbnf.ok()) return nullptr;
  auto g = Grammar::Parse(*gbnf);
  EXPECT_TRUE(g.ok()) << g.status().ToString() << "\n" << *gbnf;
  return g.ok() ? *g : nullptr;
}

std::string SchemaError(std::string_view schema) {
  auto gbnf = JsonSchemaToGbnf(schema);
  return gbnf.ok() ? "OK" : gbnf.status().message();
}

bool Matches(const std::shared_ptr<const Grammar>& g, std::string_view text) {
  if (!g) return false;
  GrammarMatcher m(g);
  return m.Accept(text) && m.IsComplete();
}

TEST(JsonSchemaTest, UnsupportedKeywordsAreNamed) {
  EXPECT_EQ(SchemaError(R"({"type": "string", "not": {"const": "a"}})"),
            "unsupported JSON schema keyword 'not' at /");
  EXPECT_EQ(SchemaError(
                R"({"type": "object", "properties": {"n": {"type": "number", "multipleOf": 5}}})"),
            "unsupported JSON schema keyword 'multipleOf' at /properties/n");
  EXPECT_EQ(SchemaError(R"({"type": "object", "patternProperties": {"^x": {}}})"),
            "unsupported JSON schema keyword 'patternProperties' at /");
  EXPECT_EQ(SchemaError(R"({"type": "array", "items": {"uniqueItems": true}})"),
            "unsupported JSON schema keyword 'uniqueItems' at /items");
  EXPECT_EQ(SchemaError(R"({"type": "object", "required": ["x"]})"),
            "required property 'x' at / is not in 'properties'");
  EXPECT_EQ(SchemaError("{"), "JSON schema is not valid JSON");
  EXPECT_EQ(SchemaError(R"({"type": "array", "minItems": 3, "maxItems": 2})"),
            "maxItems < minItems at /");
  // Annotations are ignored.
  EXPECT_EQ(SchemaError(R"({"type": "string", "description": "d", "title": "t"})"), "OK");
}

TEST(JsonSchemaTest, ObjectsRequiredThenOptionalInSchemaOrder) {
  auto g = FromSchema(R"({"type": "object", "properties": {
      "name": {"type": "string"},
      "age": {"type": "integer"},
      "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2}},
    "required": ["name"]})");
  EXPECT_TRUE(Matches(g, R"({"name": "a"})"));
  EXPECT_TRUE(Matches(g, R"({"name":"a","age":3})"));
  EXPECT_TRUE(Matches(g, R"({"name": "a", "tags": ["x", "y"]})"));
  EXPECT_TRUE(Matches(g, "{\n  \"name\": \"a\",\n  \"age\": -1,\n  \"tags\": []\n}"));
  EXPECT_FALSE(Matches(g, R"({})"));
  EXPECT_FALSE(Matches(g, R"({"age": 1, "name": "a"})"));
  EXPECT_FALSE(Matches(g, R"({"name": "a", "tags": ["x", "y", "z"]})"));
  EXPECT_FALSE(Matches(g, R"({"name": "a", "other": 1})"));
  EXPECT_FALSE(Matches(g, R"({"name": "a", "age": 1.5})"));
  // Both required: the schema's order, not alphabetical.
  g = FromSchema(R"({"properties": {"b": {"type": "null"}, "a": {"type": "boolean"}},
                     "required": ["a", "b"]})");
  EXPECT_TRUE(Matches(g, R"({"b": null, "a": true})"));
  EXPECT_FALSE(Matches(g, R"({"a": true, "b": null})"));
  // Only optional properties: any subset in order, including none.
  g = FromSchema(R"({"type": "object", "properties": {"x": {"type": "number"},
                     "y": {"type": "number"}, "z": {"type": "number"}}})");
  EXPECT_TRUE(Matches(g, "{}"));
  EXPECT_TRUE(Matches(g, R"({"y": 2e5})"));
  EXPECT_TRUE(Matches(g, R"({"x": 1, "z": 3})"));
  EXPECT_TRUE(Matches(g, R"({"x": 1, "y": 0.5, "z": 3})"));
  EXPECT_FALSE(Matches(g, R"({"z": 1, "x": 3})"));
  EXPECT_FALSE(Matches(g, R"({, "x": 3})"));
}

TEST(JsonSchemaTest, EnumConstTypesAndArrays) {
  auto g = FromSchema(R"({"enum": ["red", "gr\"een", 3, null]})");
  EXPECT_TRUE(Matches(g, R"("red")"));
  EXPECT_TRUE(Matches(g, R"("gr\"een")"));
  EXPECT_TRUE(Matches(g, "3"));
  EXPECT_TRUE(Matches(g, "null"));
  EXPECT_FALSE(Matches(g, R"("blue")"));
  g = FromSchema(R"({"const": {"k": [1, true]}})");
  EXPECT_TRUE(Matches(g, R"({"k":[1,true]})"));
  EXPECT_FALSE(Matches(g, R"({"k": [1, true]})"));  // const is the exact compact text
  g = FromSchema(R"({"type": ["string", "null"]})");
  EXPECT_TRUE(Matches(g, R"("x\u00e9")"));
  EXPECT_TRUE(Matches(g, "null"));
  EXPECT_FALSE(Matches(g, "1"));
  g = FromSchema(R"({"type": "array", "items": {"type": "integer"}, "minItems": 2,
                     "maxItems": 3})");
  EXPECT_FALSE(Matches(g, "[1]"));
  EXPECT_TRUE(Matches(g, "[1, 2]"));
  EXPECT_TRUE(Matches(g, "[1,2,3]"));
  EXPECT_FALSE(Matches(g, "[1, 2, 3, 4]"));
  EXPECT_FALSE(Matches(g, "[1, \"2\"]"));
  g = FromSchema(R"({"type": "array", "maxItems": 0})");
  EXPECT_TRUE(Matches(g, "[]"));
  EXPECT_FALSE(Matches(g, "[1]"));
  g = FromSchema(R"({"type": "array", "minItems": 1})");  // items absent: any value
  EXPECT_TRUE(Matches(g, R"([{"a": [null]}, "s", 2])"));
  EXPECT_FALSE(Matches(g, "[]"));
  // Whitespace is bounded: at most 20 indent characters after a newline.
  g = FromSchema(R"({"type": "boolean"})");
  EXPECT_TRUE(Matches(g, "true\n" + std::string(20, ' ')));
  EXPECT_FALSE(Matches(g, "true\n" + std::string(21, ' ')));
}

TEST(JsonSchemaTest, NestedObjects) {
  auto g = FromSchema(R"({"type": "object", "properties": {
      "user": {"type": "object", "properties": {"id": {"type": "integer"},
               "roles": {"type": "array", "items": {"enum": ["admin", "dev"]}}},
               "required": ["id", "roles"]}},
    "required": ["user"]})");
  EXPECT_TRUE(Matches(g, R"({"user": {"id": 7, "roles": ["dev", "admin"]}})"));
  EXPECT_FALSE(Matches(g, R"({"user": {"id": 7, "roles": ["ops"]}})"));
  EXPECT_FALSE(Matches(g, R"({"user": {"id": 7}})"));
}

// Random walks under a schema's grammar over a small vocabulary: every finished output parses and
// has the schema's shape (checked by hand: no validator in C++ here).
TEST(JsonSchemaTest, RandomWalksValidate) {
  auto g = FromSchema(R"({"type": "object", "properties": {
      "id": {"type": "integer"},
      "color": {"enum": ["red", "blue"]},
      "pts": {"type": "array", "items": {"type": "number"}, "minItems": 1, "maxItems": 3},
      "meta": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}},
    "required": ["id", "pts"]})");
  ASSERT_TRUE(g);
  std::vector<std::string> pieces = {
      "{",        "}",          "[",     "]",   ",",   ":",       " ",    "\"",
      "\"id\"",   "\"pts\": [", "\"co",  "lor", "\":", "\"red\"", "blue", "\"meta\"",
      "{\"ok\":", "true",       "false", "1",   "0",   "-",       ".",    "5e",
      "E+",       "\n",         "\n  ",  "}}",  "]}",  "id",      "i",    "d",
      "p",        "t",          "s",     "c",   "o",   "l",       "r",    "m",
      "e",        "a",          "k",     "b",   "u",   "<eos>"};
  const int32_t eos = static_cast<int32_t>(pieces.size()) - 1;
  GrammarVocab vocab = GrammarVocab::Build(pieces, std::vector<int32_t>{eos});
  std::mt19937 rng(99);
  int completed = 0;
  for (int walk = 0; walk < 200; ++walk) {
    GrammarMatcher m(g);
    std::string text;
    for (int step = 0; step < 300; ++step) {
      std::vector<float> logits(pieces.size(), 0.0f);
      m.FilterLogits(vocab, logits);
      std::vector<int32_t> allowed;
      for (int32_t id = 0; id <= eos; ++id) {
        if (std::isfinite(logits[id])) allowed.push_back(id);
      }
      ASSERT_FALSE(allowed.empty()) << "dead end after '" << text << "'";
      int32_t id = allowed[std::uniform_int_distribution<size_t>(0, allowed.size() - 1)(rng)];
      if (std::isfinite(logits[eos]) && rng() % 3 == 0) id = eos;
      ASSERT_TRUE(m.AcceptToken(vocab, id));
      if (id == eos) {
        auto j = nlohmann::json::parse(text, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << text;
        ASSERT_TRUE(j.is_object()) << text;
        EXPECT_TRUE(j.contains("id") && j["id"].is_number_integer()) << text;
        ASSERT_TRUE(j.contains("pts") && j["pts"].is_array()) << text;
        EXPECT_GE(j["pts"].size(), 1u) << text;
        EXPECT_LE(j["pts"].size(), 3u) << text;
        for (const auto& p : j["pts"]) EXPECT_TRUE(p.is_number()) << text;
        if (j.contains("color")) {
          EXPECT_TRUE(j["color"] == "red" || j["color"] == "blue") << text;
        }
        if (j.contains("meta")) {
          EXPECT_TRUE(j["meta"]["ok"].is_boolean()) << text;
        }
        for (const auto& [k, v] : j.items()) {
          EXPECT_TRUE(k == "id" || k == "pts" || k == "color" || k == "meta") << text;
        }
        ++completed;
        break;
      }
      text += pieces[id];
    }
  }
  EXPECT_GE(completed, 50);
}

TEST(JsonSchemaTest, RefsAnyOfStringsAndTuples) {
  // A recursive tree through $defs.
  auto g = FromSchema(R"({"$ref": "#/$defs/node", "$defs": {"node": {"type": "object",
      "properties": {"v": {"type": "integer"}, "kids": {"type": "array",
      "items": {"$ref": "#/$defs/node"}}}, "required": ["v"]}}})");
  EXPECT_TRUE(Matches(g, R"({"v": 1, "kids": [{"v": 2}, {"v": 3, "kids": []}]})"));
  EXPECT_FALSE(Matches(g, R"({"v": 1, "kids": [{"kids": []}]})"));
  EXPECT_EQ(SchemaError(R"({"$ref": "#/$defs/none"})"),
            "$ref '#/$defs/none' at / does not resolve");
  EXPECT_EQ(SchemaError(R"({"$ref": "http://x/y.json"})"),
            "only local $ref (\"#/...\") is supported, got 'http://x/y.json' at /");
  // Siblings of $ref / anyOf constrain them too (merged as allOf).
  g = FromSchema(R"({"$ref": "#/$defs/a", "maxLength": 2, "$defs": {"a": {"type": "string"}}})");
  EXPECT_TRUE(Matches(g, R"("ab")"));
  EXPECT_FALSE(Matches(g, R"("abc")"));
  g = FromSchema(R"({"type": "object", "required": ["k"],
      "anyOf": [{"properties": {"k": {"const": 1}}}, {"properties": {"k": {"const": 2}}}]})");
  EXPECT_TRUE(Matches(g, R"({"k": 2})"));
  EXPECT_FALSE(Matches(g, R"({"k": 3})"));
  EXPECT_FALSE(Matches(g, "{}"));
  g = FromSchema(R"({"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 2}]})");
  EXPECT_TRUE(Matches(g, "12"));
  EXPECT_TRUE(Matches(g, R"("ab")"));
  EXPECT_FALSE(Matches(g, R"("abc")"));
  EXPECT_FALSE(Matches(g, "true"));
  g = FromSchema(R"({"type": "string", "minLength": 2, "maxLength": 3})");
  EXPECT_FALSE(Matches(g, R"("a")"));
  EXPECT_TRUE(Matches(g, R"("a\n")"));               // an escape is one character
  EXPECT_TRUE(Matches(g, "\"\xC3\xA9t\xC3\xA9\""));  // code points, not bytes
  EXPECT_FALSE(Matches(g, R"("abcd")"));
  g = FromSchema(R"({"type": "object", "properties": {"d": {"type": "string", "format": "date"},
      "t": {"format": "date-time"}, "u": {"type": "string", "format": "uuid"}},
      "required": ["d", "t", "u"]})");
  std::string uuid = R"("u": "123e4567-e89b-12d3-a456-426614174000")";
  EXPECT_TRUE(
      Matches(g, R"({"d": "2024-02-29", "t": "2024-02-29T23:59:01.123+05:30", )" + uuid + "}"));
  EXPECT_TRUE(Matches(g, R"({"d": "2024-02-29", "t": "2024-02-29T23:59:01Z", )" + uuid + "}"));
  EXPECT_FALSE(Matches(g, R"({"d": "2024-13-01", "t": "2024-02-29T23:59:01Z", )" + uuid + "}"));
  EXPECT_FALSE(Matches(g, R"({"d": "2024-12-01", "t": "2024-02-29 23:59:01Z", )" + uuid + "}"));
  EXPECT_EQ(SchemaError(R"({"type": "string", "format": "hostname"})"),
            "unsupported JSON schema format \"hostname\" at /");
  g = FromSchema(R"({"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}],
                     "items": false})");
  EXPECT_TRUE(Matches(g, R"(["a", 1])"));
  EXPECT_FALSE(Matches(g, R"(["a"])"));
  EXPECT_FALSE(Matches(g, R"(["a", 1, 2])"));
  // A keyword of one type implies that type.
  g = FromSchema(R"({"minItems": 1})");
  EXPECT_TRUE(Matches(g, "[null]"));
  EXPECT_FALSE(Matches(g, "[]"));
  EXPECT_FALSE(Matches(g, "1"));
}

// A grammar for a string with `pattern`, and whether the JSON text `json_string` (with quotes)
// matches it.
std::shared_ptr<const Grammar> PatternGrammar(const std::string& pattern) {
  nlohmann::ordered_json schema = {{"type", "string"}, {"pattern", pattern}};
  return FromSchema(schema.dump());
}

TEST(JsonSchemaTest, PatternAnchoredClassesAndQuantifiers) {
  auto g = PatternGrammar(R"(^[A-Z]{2}-\d{3}$)");
  EXPECT_TRUE(Matches(g, R"("AB-123")"));
  EXPECT_FALSE(Matches(g, R"("AB-12")"));
  EXPECT_FALSE(Matches(g, R"("ab-123")"));
  EXPECT_FALSE(Matches(g, R"("xAB-123")"));
  EXPECT_FALSE(Matches(g, R"("AB-1234")"));
  g = PatternGrammar("^(?:ab){2,3}c?$");
  EXPECT_TRUE(Matches(g, R"("abab")"));
  EXPECT_TRUE(Matches(g, R"("ababab")"));
  EXPECT_TRUE(Matches(g, R"("ababc")"));
  EXPECT_FALSE(Matches(g, R"("ab")"));
  EXPECT_FALSE(Matches(g, R"("abababab")"));
  EXPECT_FALSE(Matches(g, R"("ababcc")"));
  g = PatternGrammar("^(cat|dog)s?$");
  EXPECT_TRUE(Matches(g, R"("dogs")"));
  EXPECT_TRUE(Matches(g, R"("cat")"));
  EXPECT_FALSE(Matches(g, R"("cow")"));
  g = PatternGrammar("^a{2,}$");
  EXPECT_FALSE(Matches(g, R"("a")"));
  EXPECT_TRUE(Matches(g, R"("aaaaaaa")"));
  g = PatternGrammar("^x+?y*?$");  // lazy quantifiers match the same strings
  EXPECT_TRUE(Matches(g, R"("xxyy")"));
  EXPECT_FALSE(Matches(g, R"("y")"));
  g = PatternGrammar(R"(^[^a-c\d]+$)");  // negation covers escaped characters too
  EXPECT_TRUE(Matches(g, R"("xyz")"));
  EXPECT_TRUE(Matches(g, R"("x\"\\\n\u0001")"));
  EXPECT_FALSE(Matches(g, R"("xaz")"));
  EXPECT_FALSE(Matches(g, R"("x1")"));
  EXPECT_FALSE(Matches(g, "\"x\ny\""));  // a raw control character is never JSON
  g = PatternGrammar(R"(^\w\s\W\S\D$)");
  EXPECT_TRUE(Matches(g, R"("_\t-zz")"));
  EXPECT_FALSE(Matches(g, R"("_ -z1")"));
  g = PatternGrammar("^.$");  // one code point, not a line terminator
  EXPECT_TRUE(Matches(g, "\"\xC3\xA9\""));
  EXPECT_TRUE(Matches(g, "\"\xF0\x9F\x98\x80\""));
  EXPECT_FALSE(Matches(g, R"("\n")"));
  EXPECT_FALSE(Matches(g, R"("ab")"));
  // Nullable bodies under unbounded repetition compile (no left recursion) and still match.
  g = PatternGrammar("^(a*|b?)*c$");
  EXPECT_TRUE(Matches(g, R"("c")"));
  EXPECT_TRUE(Matches(g, R"("aabac")"));
  EXPECT_FALSE(Matches(g, R"("aabad")"));
}

TEST(JsonSchemaTest, PatternAnchorsEscapesAndJsonEscaping) {
  auto g = PatternGrammar(R"(\d{3})");  // unanchored: anywhere in the string
  EXPECT_TRUE(Matches(g, R"("abc123def")"));
  EXPECT_TRUE(Matches(g, R"("123")"));
  EXPECT_FALSE(Matches(g, R"("12a3")"));
  g = PatternGrammar("^ab|yz$");  // anchors per top-level alternative
  EXPECT_TRUE(Matches(g, R"("abxx")"));
  EXPECT_TRUE(Matches(g, R"("xxyz")"));
  EXPECT_FALSE(Matches(g, R"("xabx")"));
  EXPECT_FALSE(Matches(g, R"("yzx")"));
  g = PatternGrammar("^\"\\\\/$");  // the characters " \ / : escaped in the JSON text
  EXPECT_TRUE(Matches(g, R"("\"\\/")"));
  EXPECT_TRUE(Matches(g, R"("\"\\\/")"));
  EXPECT_FALSE(Matches(g, R"("\"\/")"));
  g = PatternGrammar(R"(^\x41\u00e9\u{1F600}\t\.\*\(\[\{$)");
  EXPECT_TRUE(Matches(g, "\"A\xC3\xA9\xF0\x9F\x98\x80\\t.*([{\""));
  EXPECT_FALSE(Matches(g, "\"A\xC3\xA9\xF0\x9F\x98\x80\\tx*([{\""));
  g = PatternGrammar("^[\u00e0-\u00ff\u4e00-\u9fff]+$");  // non-ASCII raw or as \u escapes
  EXPECT_TRUE(Matches(g, "\"\xC3\xA9\xE6\x97\xA5\""));
  EXPECT_TRUE(Matches(g, R"("\u00e9\u00E0\u00ff\u4e00\u9FFF\u65e5")"));
  EXPECT_FALSE(Matches(g, R"("\u00df")"));
  EXPECT_FALSE(Matches(g, R"("\ua000")"));
  EXPECT_FALSE(Matches(g, R"("\u4dff")"));
  g = PatternGrammar("^[\\x00-\\x02]$");  // control characters only as \u escapes
  EXPECT_TRUE(Matches(g, R"("\u0001")"));
  EXPECT_TRUE(Matches(g, R"("\u0000")"));
  EXPECT_FALSE(Matches(g, R"("\u0003")"));
  EXPECT_FALSE(Matches(g, std::string("\"\x01\"")));
}

TEST(JsonSchemaTest, PatternErrorsNameTheUnsupportedPart) {
  auto error = [](const std::string& pattern) {
    nlohmann::ordered_json schema = {{"type", "object"},
                                     {"properties", {{"p", {{"pattern", pattern}}}}}};
    return SchemaError(schema.dump());
  };
  EXPECT_EQ(error(R"((a)\1)"),
            "unsupported 'pattern' at /properties/p: backreference \\1 (offset 3)");
  EXPECT_EQ(error("a(?=b)"),
            "unsupported 'pattern' at /properties/p: lookahead (?= / (?! (offset 1)");
  EXPECT_EQ(error("(?<!a)b"),
            "unsupported 'pattern' at /properties/p: lookbehind (?<= / (?<! (offset 0)");
  EXPECT_EQ(error(R"(\bword)"),
            "unsupported 'pattern' at /properties/p: word boundary \\b (offset 0)");
  EXPECT_EQ(error(R"(\p{L}+)"),
            "unsupported 'pattern' at /properties/p: Unicode property escape \\p / \\P (offset 0)");
  EXPECT_EQ(error("a^b"),
            "unsupported 'pattern' at /properties/p: ^ and $ only at the start and end of the "
            "pattern (or of a top-level alternative)");
  EXPECT_EQ(error("a{2000}"),
            "unsupported 'pattern' at /properties/p: quantifier bound above 1000 (offset 1)");
  EXPECT_EQ(error("[a-"),
            "unsupported 'pattern' at /properties/p: unterminated character class (offset 0)");
  EXPECT_EQ(error("(ab"), "unsupported 'pattern' at /properties/p: unbalanced '(' (offset 2)");
  EXPECT_EQ(error("a**"), "unsupported 'pattern' at /properties/p: nothing to repeat (offset 1)");
  EXPECT_EQ(
      error("[z-a]"),
      "unsupported 'pattern' at /properties/p: character class range out of order (offset 0)");
  EXPECT_EQ(SchemaError(R"({"type": "string", "pattern": "^a+$", "maxLength": 3})"),
            "unsupported JSON schema keyword 'minLength/maxLength with pattern' at /");
}

TEST(JsonSchemaTest, EmailAndDateFormats) {
  auto g = FromSchema(R"({"type": "string", "format": "email"})");
  EXPECT_TRUE(Matches(g, R"("jane.doe+news@mail.example.com")"));
  EXPECT_TRUE(Matches(g, R"("a_b@x-y.io")"));
  EXPECT_FALSE(Matches(g, R"("a@localhost")"));  // a dotted domain is required
  EXPECT_FALSE(Matches(g, R"("a..b@x.com")"));
  EXPECT_FALSE(Matches(g, R"("@x.com")"));
  EXPECT_FALSE(Matches(g, R"("a@-x.com")"));
  g = FromSchema(R"({"type": "string", "format": "date"})");
  EXPECT_TRUE(Matches(g, R"("2024-02-29")"));
  EXPECT_TRUE(Matches(g, R"("2000-02-29")"));
  EXPECT_TRUE(Matches(g, R"("2023-01-31")"));
  EXPECT_TRUE(Matches(g, R"("2023-04-30")"));
  EXPECT_FALSE(Matches(g, R"("2023-02-29")"));
  EXPECT_FALSE(Matches(g, R"("1900-02-29")"));
  EXPECT_FALSE(Matches(g, R"("2023-04-31")"));
  EXPECT_FALSE(Matches(g, R"("2023-00-10")"));
  // \u escapes of UTF-16 surrogates never appear (a pair would count as one character).
  g = FromSchema(R"({"type": "string", "maxLength": 2})");
  EXPECT_TRUE(Matches(g, R"("\u00e9\u20ac")"));
  EXPECT_FALSE(Matches(g, R"("\ud83d\ude00")"));
}

TEST(JsonSchemaTest, IntegerBoundsAreExact) {
  // Every integer near each range: the grammar takes exactly those inside, in canonical form.
  const std::pair<int64_t, int64_t> ranges[] = {
      {-500, -20}, {7, 1234},  {0, 0},         {-1, 1},      {-99, 100},    {10, 19},
      {95, 105},   {157, 982}, {-9876, -1234}, {-305, 4071}, {-1000, -1000}};
  for (const auto& [lo, hi] : ranges) {
    nlohmann::ordered_json schema = {{"type", "integer"}, {"minimum", lo}, {"maximum", hi}};
    auto g = FromSchema(schema.dump());
    for (int64_t n = lo - 60; n <= hi + 60; ++n) {
      EXPECT_EQ(Matches(g, std::to_string(n)), n >= lo && n <= hi) << n << " in " << schema;
    }
    EXPECT_FALSE(Matches(g, "0" + std::to_string(std::abs(lo))));  // no leading zeros
    EXPECT_FALSE(Matches(g, std::to_string(lo) + ".0"));
  }
  auto g = FromSchema(R"({"type": "integer", "exclusiveMinimum": -3, "exclusiveMaximum": 98})");
  EXPECT_FALSE(Matches(g, "-3"));
  EXPECT_TRUE(Matches(g, "-2"));
  EXPECT_TRUE(Matches(g, "97"));
  EXPECT_FALSE(Matches(g, "98"));
  EXPECT_FALSE(Matches(g, "-0"));
  g = FromSchema(R"({"type": "integer", "minimum": 1000})");
  EXPECT_FALSE(Matches(g, "999"));
  EXPECT_TRUE(Matches(g, "1000"));
  EXPECT_TRUE(Matches(g, "9999999999999999"));  // 16 digits, as the unbounded integer
  EXPECT_FALSE(Matches(g, "-5000"));
  g = FromSchema(R"({"type": "integer", "maximum": -7})");
  EXPECT_TRUE(Matches(g, "-7"));
  EXPECT_TRUE(Matches(g, "-123456"));
  EXPECT_FALSE(Matches(g, "-6"));
  EXPECT_FALSE(Matches(g, "0"));
  g = FromSchema(R"({"type": "integer", "minimum": 2.5, "exclusiveMaximum": 19.5})");
  EXPECT_FALSE(Matches(g, "2"));
  EXPECT_TRUE(Matches(g, "3"));
  EXPECT_TRUE(Matches(g, "19"));
  EXPECT_FALSE(Matches(g, "20"));
  g = FromSchema(R"({"maximum": 10, "minimum": 5, "type": ["integer", "null"]})");
  EXPECT_TRUE(Matches(g, "null"));
  EXPECT_TRUE(Matches(g, "5"));
  EXPECT_FALSE(Matches(g, "11"));
  EXPECT_EQ(SchemaError(R"({"type": "integer", "minimum": 5, "maximum": 4})"),
            "no integer satisfies the bounds at /");
  EXPECT_EQ(SchemaError(R"({"type": "integer", "minimum": 1e17})"),
            "'minimum' at / is beyond +-(2^53-1), which JSON numbers cannot bound exactly");
  EXPECT_EQ(SchemaError(R"({"type": "integer", "exclusiveMinimum": true})"),
            "'exclusiveMinimum' at / must be a number");
}

TEST(JsonSchemaTest, NumberBoundsHoldUnderDoubleComparison) {
  // On a grid of plain decimals, the grammar takes exactly the values the double comparison
  // (ajv's) accepts.
  const double bounds[] = {-5.25, -3.375, -1, -0.5, 0, 0.125, 0.75, 1.05, 3, 12.5};
  for (double lo : bounds) {
    for (double hi : bounds) {
      if (hi < lo) continue;
      for (bool exclusive : {false, true}) {
        if (exclusive && hi == lo) continue;
        nlohmann::ordered_json schema = {{"type", "number"}};
        schema[exclusive ? "exclusiveMinimum" : "minimum"] = lo;
        schema[exclusive ? "exclusiveMaximum" : "maximum"] = hi;
        auto g = FromSchema(schema.dump());
        for (int k = -15000; k <= 15000; k += 25) {
          char text[32];
          snprintf(text, sizeof(text), "%.3f", k / 1000.0);
          double v = std::strtod(text, nullptr);
          bool inside = exclusive ? v > lo && v < hi : v >= lo && v <= hi;
          if (v == 0 && text[0] == '-') continue;  // "-0.000": the formatter's, not a test case
          EXPECT_EQ(Matches(g, text), inside) << text << " for " << schema;
        }
      }
    }
  }
  auto g = FromSchema(R"({"type": "number", "exclusiveMinimum": 2.5})");
  EXPECT_FALSE(Matches(g, "2.5"));
  EXPECT_FALSE(Matches(g, "2.50"));
  // Parses to the double 2.5 itself: refused although its decimal value is above 2.5.
  EXPECT_FALSE(Matches(g, "2.5000000000000001"));
  EXPECT_TRUE(Matches(g, "2.5000000000000004"));  // the next double
  EXPECT_TRUE(Matches(g, "2.51"));
  EXPECT_TRUE(Matches(g, "1234567"));
  EXPECT_FALSE(Matches(g, "3e2"));  // bounded numbers are plain decimals
  g = FromSchema(R"({"type": "number", "minimum": 0})");
  EXPECT_TRUE(Matches(g, "0"));
  EXPECT_TRUE(Matches(g, "0.000001"));
  EXPECT_FALSE(Matches(g, "-0.5"));
  g = FromSchema(R"({"minimum": -1, "maximum": 1})");  // bounds imply a number
  EXPECT_TRUE(Matches(g, "-0"));                       // equal to 0, inside
  EXPECT_TRUE(Matches(g, "-1.0"));
  EXPECT_FALSE(Matches(g, "-1.01"));
  EXPECT_FALSE(Matches(g, "\"1\""));
  EXPECT_EQ(SchemaError(R"({"type": "number", "maximum": 1e300})"),
            "'maximum' at / is beyond +-1e15, which is not supported for numbers");
  EXPECT_EQ(SchemaError(R"({"type": "number", "exclusiveMinimum": 1, "maximum": 1})"),
            "no number satisfies the bounds at /");
}

TEST(JsonSchemaTest, AdditionalProperties) {
  auto g = FromSchema(R"({"type": "object", "properties": {"id": {"type": "integer"},
      "name": {"type": "string"}}, "required": ["id"],
      "additionalProperties": {"type": "boolean"}})");
  EXPECT_TRUE(Matches(g, R"({"id": 1})"));
  EXPECT_TRUE(Matches(g, R"({"id": 1, "name": "x", "extra": true, "more": false})"));
  EXPECT_TRUE(Matches(g, R"({"id": 1, "nam": true, "names": false, "": true})"));
  EXPECT_FALSE(Matches(g, R"({"id": 1, "extra": 3})"));
  EXPECT_FALSE(Matches(g, R"({"id": 1, "name": true})"));  // a declared key keeps its schema
  EXPECT_FALSE(Matches(g, R"({"id": 1, "id": true})"));
  EXPECT_FALSE(Matches(g, R"({"id": 1, "na\u006de": true})"));  // extra keys have no escapes
  g = FromSchema(R"({"additionalProperties": {"type": "integer"}})");
  EXPECT_TRUE(Matches(g, "{}"));
  EXPECT_TRUE(Matches(g, R"({"a": 1, "b": 2})"));
  EXPECT_FALSE(Matches(g, R"({"a": "1"})"));
  EXPECT_FALSE(Matches(g, R"({, "a": 1})"));
  g = FromSchema(R"({"properties": {"x": {"type": "null"}}, "additionalProperties": true})");
  EXPECT_TRUE(Matches(g, R"({"x": null, "y": [1, {"z": "w"}]})"));
  EXPECT_TRUE(Matches(g, R"({"y": 1})"));
  EXPECT_FALSE(Matches(g, R"({"x": 1})"));
  g = FromSchema(R"({"properties": {"x": {"type": "null"}}, "additionalProperties": false})");
  EXPECT_FALSE(Matches(g, R"({"y": 1})"));
}

TEST(JsonSchemaTest, AllOfMerges) {
  auto g = FromSchema(R"({"$defs": {"base": {"type": "object", "properties": {
      "id": {"type": "integer", "minimum": 0}}, "required": ["id"]}},
    "allOf": [{"$ref": "#/$defs/base"}, {"properties": {"id": {"maximum": 9},
      "tag": {"type": "string"}}, "required": ["tag"]}]})");
  EXPECT_TRUE(Matches(g, R"({"id": 3, "tag": "a"})"));
  EXPECT_FALSE(Matches(g, R"({"id": 10, "tag": "a"})"));  // both conjuncts' bounds
  EXPECT_FALSE(Matches(g, R"({"id": -1, "tag": "a"})"));
  EXPECT_FALSE(Matches(g, R"({"id": 3})"));  // required united
  g = FromSchema(R"({"allOf": [{"type": ["number", "string"]}, {"type": "integer"}]})");
  EXPECT_TRUE(Matches(g, "12"));
  EXPECT_FALSE(Matches(g, "1.5"));
  EXPECT_FALSE(Matches(g, "\"a\""));
  // anyOf inside distributes.
  g = FromSchema(R"({"allOf": [{"properties": {"a": {"type": "integer"}}, "required": ["a"]},
      {"anyOf": [{"properties": {"b": {"type": "null"}}, "required": ["b"]},
                 {"properties": {"c": {"type": "boolean"}}, "required": ["c"]}]}]})");
  EXPECT_TRUE(Matches(g, R"({"a": 1, "b": null})"));
  EXPECT_TRUE(Matches(g, R"({"a": 1, "c": true})"));
  EXPECT_FALSE(Matches(g, R"({"a": 1})"));
  // additionalProperties false in one conjunct drops the others' optional properties.
  g = FromSchema(R"({"allOf": [{"properties": {"a": {}}, "additionalProperties": false},
      {"properties": {"b": {}}}]})");
  EXPECT_TRUE(Matches(g, R"({"a": 1})"));
  EXPECT_FALSE(Matches(g, R"({"b": 1})"));
  EXPECT_EQ(SchemaError(R"({"allOf": [{"properties": {"a": {}}, "additionalProperties": false},
      {"properties": {"b": {}}, "required": ["b"]}]})"),
            "unsupported 'allOf' at /: property 'b' is required but a subschema's "
            "additionalProperties is false without it");
  EXPECT_EQ(SchemaError(R"({"allOf": [{"pattern": "^a"}, {"pattern": "b$"}]})"),
            "unsupported 'allOf' at /: conflicting 'pattern' values");
  EXPECT_EQ(SchemaError(R"({"allOf": [{"type": "string"}, {"type": "integer"}]})"),
            "unsupported 'allOf' at /: the subschemas have no type in common");
  EXPECT_EQ(SchemaError(R"({"allOf": [{"enum": [1, 2]}, {"enum": [3]}]})"),
            "unsupported 'allOf' at /: the enums have no value in common");
}

TEST(JsonSchemaTest, TuplesWithItemsAndBounds) {
  auto g = FromSchema(R"({"prefixItems": [{"type": "string"}, {"type": "integer"}],
      "items": {"type": "boolean"}, "minItems": 1, "maxItems": 4})");
  EXPECT_TRUE(Matches(g, R"(["a"])"));
  EXPECT_TRUE(Matches(g, R"(["a", 1])"));
  EXPECT_TRUE(Matches(g, R"(["a", 1, true, false])"));
  EXPECT_FALSE(Matches(g, "[]"));
  EXPECT_FALSE(Matches(g, R"(["a", true])"));
  EXPECT_FALSE(Matches(g, R"(["a", 1, true, false, true])"));
  g = FromSchema(R"({"prefixItems": [{"type": "null"}], "items": {"type": "integer"},
      "minItems": 3})");
  EXPECT_FALSE(Matches(g, "[null, 1]"));
  EXPECT_TRUE(Matches(g, "[null, 1, 2]"));
  EXPECT_TRUE(Matches(g, "[null, 1, 2, 3, 4]"));
  EXPECT_EQ(SchemaError(R"({"prefixItems": [{}], "items": false, "minItems": 2})"),
            "minItems at / needs more items than allowed");
  // enum with a type beside it keeps the values of that type.
  g = FromSchema(R"({"type": "string", "enum": ["a", 1, "b"]})");
  EXPECT_TRUE(Matches(g, R"("b")"));
  EXPECT_FALSE(Matches(g, "1"));
  EXPECT_EQ(SchemaError(R"({"enum": ["a"], "maxLength": 3})"),
            "unsupported JSON schema keyword 'maxLength beside enum' at /");
}

TEST(JsonSchemaTest, JsonObjectGrammar) {
  auto g = Grammar::Parse(JsonObjectGbnf());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_TRUE(Matches(*g, R"({"a": [1, {"b": null}], "c": "\/"})"));
  EXPECT_FALSE(Matches(*g, "[1]"));
}

}  // namespace
TEST(JsonSchemaOneOfTest, OnlyProvablyExclusiveAlternatives) {
  // Different types, disjoint values, or a discriminator property: accepted.
  EXPECT_TRUE(
      JsonSchemaToGbnf(
          std::string_view(R"({"oneOf":[{"type":"string"},{"type":"integer"},{"type":"null"}]})"))
          .ok());
  EXPECT_TRUE(
      JsonSchemaToGbnf(std::string_view(R"({"oneOf":[{"enum":["a","b"]},{"const":"c"}]})")).ok());
  EXPECT_TRUE(JsonSchemaToGbnf(std::string_view(R"({"$defs":{"c":{"type":"object",
      "properties":{"kind":{"const":"c"},"r":{"type":"number"}},"required":["kind","r"]}},
      "oneOf":[{"$ref":"#/$defs/c"},{"type":"object","properties":{"kind":{"const":"s"}},
      "required":["kind"]}]})"))
                  .ok());
  // Overlapping: an integer is also a number; two open objects; values in common.
  for (const char* overlapping :
       {R"({"oneOf":[{"type":"number"},{"type":"integer"}]})",
        R"({"oneOf":[{"type":"object","properties":{"a":{"type":"string"}}},
                        {"type":"object","properties":{"b":{"type":"string"}}}]})",
        R"({"oneOf":[{"enum":["a","b"]},{"enum":["b","c"]}]})",
        R"({"oneOf":[{"type":"object","properties":{"k":{"const":1}},"required":["k"]},
                        {"type":"object","properties":{"k":{"const":1}},"required":["k"]}]})",
        R"({"allOf":[{"oneOf":[{"type":"string"},{"type":"string","maxLength":3}]}]})"}) {
    auto r = JsonSchemaToGbnf(std::string_view(overlapping));
    ASSERT_FALSE(r.ok()) << overlapping;
    EXPECT_NE(r.status().message().find("'oneOf'"), std::string::npos) << r.status().message();
  }
}

}  // namespace corral::sampling
