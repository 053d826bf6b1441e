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
  EXPECT_EQ(SchemaError(R"({"type": "string", "pattern": "^a$"})"),
            "unsupported JSON schema keyword 'pattern' at /");
  EXPECT_EQ(
      SchemaError(
          R"({"type": "object", "properties": {"id": {"type": "string", "pattern": "^a$"}}})"),
      "unsupported JSON schema keyword 'pattern' at /properties/id");
  EXPECT_EQ(SchemaError(R"({"type": "object", "additionalProperties": true})"),
            "unsupported JSON schema keyword 'additionalProperties' at /");
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
  EXPECT_EQ(SchemaError(R"({"$ref": "#/$defs/a", "type": "string", "$defs": {"a": {}}})"),
            "unsupported JSON schema keyword 'type beside $ref' at /");
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
  EXPECT_EQ(SchemaError(R"({"type": "string", "format": "email"})"),
            "unsupported JSON schema format \"email\" at /");
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

TEST(JsonSchemaTest, JsonObjectGrammar) {
  auto g = Grammar::Parse(JsonObjectGbnf());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_TRUE(Matches(*g, R"({"a": [1, {"b": null}], "c": "\/"})"));
  EXPECT_FALSE(Matches(*g, "[1]"));
}

}  // namespace
}  // namespace corral::sampling
