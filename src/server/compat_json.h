// What the compatibility endpoints (openai_compat, anthropic_compat, responses_compat) share
// to read their requests and the native replies: field access that never throws whatever a
// value's type, the checks that name the offending field ("messages.0.content: expected a
// string, got a number"), and the SSE and id helpers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace corral::server::compat {

using ojson = nlohmann::ordered_json;

// ---- reading native replies (ours, but a wrong type must not take the server down) ----

// The value under `key`; a null value when `object` is not an object or has no such key.
const ojson& Field(const ojson& object, const char* key);
// The string, integer or boolean under `key`; "", 0 or false when absent or of another type.
std::string StringField(const ojson& object, const char* key);
int64_t IntField(const ojson& object, const char* key);
bool BoolField(const ojson& object, const char* key);

// ---- checking requests: errors name the field by its path ----

Status Bad(std::string message);  // InvalidArgument
// "a.b" from "a" and "b"; "a.0" from "a" and 0; "b" when `path` is empty.
std::string JoinPath(std::string_view path, std::string_view key);
std::string JoinPath(std::string_view path, size_t index);
// "a string", "a number", "an array", ... for messages.
std::string Kind(const ojson& value);
// "<path>: expected <wanted>, got <kind>".
Status WrongType(const ojson& value, std::string_view path, std::string_view wanted);
// The value under `key`, or nullptr when absent or JSON null (both mean "not given").
const ojson* Given(const ojson& object, std::string_view key);
// Sets *out when `key` holds a string; a wrong type is an error; absent leaves *out.
Status GetString(const ojson& object, std::string_view path, std::string_view key,
                 std::string* out);
// The number under `key`, which the caller has seen given; a wrong type names `key`.
Result<double> Number(const ojson& object, std::string_view key);
// Every key of `object` must be in `known` or `ignored` (accepted, changes nothing); anything
// else is a field we would otherwise drop silently: "unsupported field '<path>.<key>'".
Status CheckKeys(const ojson& object, std::string_view path,
                 std::initializer_list<std::string_view> known,
                 std::initializer_list<std::string_view> ignored = {});

// ---- request bodies ----

// A zstd-compressed body (one or more frames) decompressed, at most `max_out` bytes:
// InvalidArgument "invalid zstd body: ..." for corrupt or truncated input, ResourceExhausted
// "request body too large" beyond the limit (a small body can expand enormously).
Result<std::string> ZstdDecompress(std::string_view compressed, size_t max_out);

// ---- replies ----

// JSON text with invalid UTF-8 replaced, as Go's encoder does.
std::string Dump(const ojson& value);
// A named server-sent event: "event: <type>\ndata: <json>\n\n".
std::string NamedEvent(std::string_view type, const ojson& data);
// `n` random lowercase hex digits (for message and response ids).
std::string RandomHex(size_t n);
// Seconds since 1970, now.
int64_t UnixNow();

}  // namespace corral::server::compat
