// Pieces of the JSON schema -> GBNF compiler (json_schema.cpp) that live in their own files:
// string patterns (json_schema_pattern.cpp), number bounds (json_schema_number.cpp) and allOf
// merging (json_schema_allof.cpp). Not part of the public API.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace corral::sampling::json_schema_internal {

using json = nlohmann::ordered_json;

// A GBNF expression for the text between the quotes of a JSON string whose decoded value the
// ECMAScript regex `pattern` matches (u flag, as ajv compiles it; unanchored unless it starts
// with ^ / ends with $). `any_char` is the rule for one arbitrary JSON string character (used
// around an unanchored pattern). Characters the JSON text must escape (", \, controls) come out
// escaped. InvalidArgument saying which part is outside the supported subset (the caller adds
// "pattern" and where it is).
Result<std::string> PatternGbnf(std::string_view pattern, std::string_view any_char);

// A GBNF expression (with trailing `space`) for the JSON integers (`integer` true) or numbers
// within `schema`'s minimum / maximum / exclusiveMinimum / exclusiveMaximum; "" when it has none.
// Every output satisfies the bounds under JavaScript's (double) comparison; InvalidArgument
// naming the keyword where that cannot be guaranteed (bounds too large) or nothing satisfies.
Result<std::string> NumberBoundsGbnf(const json& schema, bool integer, const std::string& where);

// The target of a local "$ref" (a copy), or an error.
using RefResolver = std::function<Result<json>(const std::string& ref, const std::string& where)>;

// `schema` (with `allOf`, or `$ref` / `anyOf` / `oneOf` beside other keywords) as one schema
// without allOf and $ref: the conjuncts (allOf's items, the $ref target, the schema's own other
// keywords) merged, or an `anyOf` of merged schemas where a conjunct has
// anyOf/oneOf. InvalidArgument naming "allOf" where a combination cannot be merged soundly.
Result<json> MergeAllOf(const json& schema, const RefResolver& resolve, const std::string& where);

// One code point as a member of a GBNF character class (an escape unless alphanumeric).
std::string GbnfClassChar(uint32_t c);

// `s` as code points; false on invalid UTF-8.
bool DecodeUtf8(std::string_view s, std::vector<uint32_t>& out);

// Keywords that only annotate; skipped everywhere.
bool IsAnnotation(std::string_view keyword);

// A JSON pointer for messages: "/" for the root.
inline std::string At(const std::string& where) { return where.empty() ? "/" : where; }

}  // namespace corral::sampling::json_schema_internal
