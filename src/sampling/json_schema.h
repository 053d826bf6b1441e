// JSON schema -> GBNF, after llama.cpp's json-schema-to-grammar, for Ollama's `format: {schema}`.
//
//   ASSIGN_OR_RETURN(std::string gbnf, sampling::JsonSchemaToGbnf(schema));
//   ASSIGN_OR_RETURN(auto grammar, sampling::Grammar::Parse(gbnf));
//
// Supported: `type` (one or a list of string, number, integer, boolean, null, object, array),
// `properties`, `required`, `additionalProperties: false` (also the default, as in llama.cpp),
// `enum`, `const`, `items`, `prefixItems` (a fixed tuple), `minItems`, `maxItems`, `minLength`,
// `maxLength`, `format` (date, time, date-time, uuid), `anyOf`, `oneOf` (as anyOf), local `$ref`
// with `$defs` / `definitions` (recursive schemas too). Annotations (title, description, default,
// examples, $schema, $id, $comment, ...) are ignored. Any other keyword (pattern, allOf, minimum,
// additionalProperties other than false, ...) is an InvalidArgument naming it and where it is
// ("unsupported JSON schema keyword 'pattern' at /properties/id"): never silently ignored.
// A keyword of one type without `type` (minItems, properties, maxLength, ...) implies that type.
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
