// Request bodies and JSON replies the way Ollama's handlers see them (gin's ShouldBindJSON on
// Go structs): the body is streamed, never buffered beyond a limit; the first JSON value is
// decoded whatever the Content-Type; an empty body is "missing request body"; a wrong JSON
// type for a field is a 400 naming the Go struct field, as encoding/json words it.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/strings.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace corral::server {

constexpr const char kJsonContentType[] = "application/json; charset=utf-8";
constexpr const char kTextContentType[] = "text/plain; charset=utf-8";

// The body of one request, read on demand from the connection. Whatever a handler leaves
// unread is drained afterwards (by the route table) so the connection stays in step.
class RequestBody {
 public:
  using Chunk = std::function<bool(const char* data, size_t size)>;
  // `read` streams the body to a chunk callback (httplib's ContentReader); empty for a
  // request without a body.
  explicit RequestBody(std::function<bool(const Chunk&)> read) : read_(std::move(read)) {}

  // Streams the body to `sink`; false when the connection failed or `sink` returned false.
  // The body can be read once.
  bool Stream(const Chunk& sink);

  enum class ReadStatus { kOk, kTooLarge, kFailed };
  // The whole body when it is at most `limit` bytes. A larger body is read to its end and
  // dropped (kTooLarge), so the reply can still be sent on a sane connection.
  ReadStatus ReadAll(size_t limit, std::string* out);

  // Reads and drops what is left.
  void Drain();

 private:
  std::function<bool(const Chunk&)> read_;
  bool consumed_ = false;
};

// {"error": message} with `status`.
void WriteError(httplib::Response& res, int status, std::string_view message);
// `body` as JSON (invalid UTF-8 replaced, as Go's encoder does) with status 200.
void WriteJson(httplib::Response& res, const nlohmann::ordered_json& body, int status = 200);

// Reads the body as gin's ShouldBindJSON into api.<go_type> would: at most `limit` bytes
// (413 "request body too large" beyond), then the first JSON value. Empty body -> 400 "missing
// request body"; malformed -> 400 with encoding/json's message; not an object or null -> 400
// "json: cannot unmarshal array into Go value of type api.<go_type>". null gives {}. On
// failure the reply is written and nullopt returned. `raw`, when given, receives the decoded
// value's text (for fields whose key order matters, such as a JSON schema).
std::optional<nlohmann::json> ReadJsonRequest(RequestBody& body, size_t limit,
                                              std::string_view go_type, httplib::Response& res,
                                              std::string* raw = nullptr);

// encoding/json's message for a malformed document ("unexpected EOF", "invalid character 'x'
// looking for beginning of value").
std::string GoJsonSyntaxError(std::string_view text);

// Typed access to a request object's fields with encoding/json's rules: keys match exactly,
// else case-insensitively; null leaves the default; a wrong type is an InvalidArgument
// "json: cannot unmarshal number into Go struct field ShowRequest.model of type string".
class JsonFields {
 public:
  JsonFields(const nlohmann::json& object, std::string go_struct)
      : object_(object), go_struct_(std::move(go_struct)) {}

  Status GetString(std::string_view key, std::string* out) const;
  Status GetBool(std::string_view key, bool* out) const;
  // Any JSON object (Go map[string]any); null leaves `out` as it is.
  Status GetObject(std::string_view key, nlohmann::json* out) const;

  // The value under `key` (exact, then case-insensitive match); null when absent.
  const nlohmann::json* Find(std::string_view key) const;

 private:
  Status TypeError(const nlohmann::json& value, std::string_view key,
                   std::string_view go_type) const;
  const nlohmann::json& object_;
  std::string go_struct_;
};

// Go's time.Time JSON form, RFC 3339 with nanoseconds trimmed of trailing zeros, in local time
// with its offset ("2024-09-12T05:54:03.516566+02:00"; "Z" for UTC).
std::string FormatLocalTime(std::chrono::system_clock::time_point t);
// The same from seconds and nanoseconds since 1970, for times past what a time_point holds
// (2262): Ollama's "forever" is now + 292 years.
std::string FormatLocalTime(int64_t unix_seconds, int64_t nanos);

}  // namespace corral::server
