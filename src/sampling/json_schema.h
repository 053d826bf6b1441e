// JSON schema -> GBNF, after llama.cpp's json-schema-to-grammar, for Ollama's `format: {schema}`.
//
//   ASSIGN_OR_RETURN(std::string gbnf, sampling::JsonSchemaToGbnf(schema));
//   ASSIGN_OR_RETURN(auto grammar, sampling::Grammar::Parse(gbnf));
//
// Supported (every output of the grammar validates against the schema; what cannot be compiled
// soundly is refused):
// - `type`: one or a list of string, number, integer, boolean, null, object, array; a keyword
//   of one type without `type` (minItems, properties, maxLength, minimum, ...) implies it.
// - objects: `properties`, `required`, `additionalProperties` false (also the default, as in
//   llama.cpp), true or a schema (extra keys, never equal to a declared one, after the declared
//   properties).
// - arrays: `items`, `prefixItems` (positions; without minItems the whole tuple), `minItems`,
//   `maxItems`.
// - strings: `minLength`, `maxLength`, `format` (date, time, date-time, uuid, email: a
//   conservative subset of addresses), `pattern`: an ECMAScript regex subset (literals, escapes
//   \d \w \s \D \W \S \t \n \xHH \uHHHH ..., classes with ranges and negation, `.`, groups incl.
//   (?: and named ones, `|`, quantifiers * + ? {n} {n,} {n,m} and their lazy forms, ^ and $ at
//   the ends; unanchored patterns match anywhere in the string). Backreferences, lookaround,
//   \b, \p{...} are refused, as are pattern with a length or a format.
// - numbers: `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`: exact digit-wise
//   ranges for integers (|bound| < 2^53); for numbers, plain decimals (no exponent) checked
//   against the bounds as a double comparison would (|bound| <= 1e15). `multipleOf` is refused.
// - `enum`, `const` (with `type` beside them: the values of that type), `anyOf`, `oneOf` (as
//   anyOf, so only when its alternatives provably exclude each other: different types,
//   disjoint const/enum values, or a property both require with disjoint const/enum values;
//   otherwise refused, where llama.cpp ignores the exclusivity), `allOf` (merged: properties and
//   required unite, types intersect, bounds tighten; anyOf inside distributes; conflicting patterns
//   or formats are refused), local `$ref` with `$defs` / `definitions` (recursive schemas too).
//   `$ref`, `anyOf`, `oneOf` with constraining keywords beside them are merged like allOf.
// Annotations (title, description, default, examples, $schema, $id, $comment, ...) are ignored.
// Any other keyword (uniqueItems, not, patternProperties, ...) is an InvalidArgument naming it
// and where it is ("unsupported JSON schema keyword 'uniqueItems' at /properties/tags"): never
// silently ignored.
//
// Objects: required properties first in `properties` order, then any subset of the optional ones
// in that order. Whitespace between tokens is bounded (a space, or a newline and up to 20
// indent characters) so a model cannot loop on whitespace forever.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace corral::sampling {

// `schema_json`: the schema's text; parsed keeping key order (property order is output order).
Result<std::string> JsonSchemaToGbnf(std::string_view schema_json);
Result<std::string> JsonSchemaToGbnf(const nlohmann::ordered_json& schema);

// Ollama's `format: "json"`: any JSON object (llama.cpp's grammars/json.gbnf shape, root an
// object), with the same bounded whitespace.
std::string JsonObjectGbnf();

}  // namespace corral::sampling
