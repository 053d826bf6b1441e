// The HTTP side of the registry client: URLs, and GET/HEAD with a redirect policy that keeps
// the safety rules in one place (only http/https targets, a bounded number of hops, and the
// Authorization header dropped as soon as a redirect leaves the registry's host). Internal to
// src/registry.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/status.h"

namespace corral::registry::internal {

struct Url {
  std::string scheme;     // "http" or "https"
  std::string host_port;  // "registry.ollama.ai", "127.0.0.1:5055"
  std::string target;     // path and query, starting with '/'

  std::string Origin() const { return scheme + "://" + host_port; }
  std::string String() const { return Origin() + target; }
};

// Absolute http(s) URLs only; InvalidArgument names the URL otherwise.
Result<Url> ParseUrl(std::string_view text);
// A Location header against the URL it answered: absolute, scheme-relative ("//h/p") or
// path-absolute ("/p"). Any scheme but http/https is refused (no file:, ftp:, ...).
Result<Url> ResolveLocation(const Url& base, std::string_view location);
// `url` with `key=value` appended to its query (value percent-encoded).
Url WithQuery(Url url, std::string_view key, std::string_view value);

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{10000};
  // No byte for this long on a read is a failure: the stall detector of a download part.
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  std::string user_agent;
  // The registry's host[:port]: the only host that gets the bearer token.
  std::string registry_host;
};

struct Reply {
  int status = 0;
  httplib::Headers headers;
  std::string body;  // the body when no sink took it (bounded by max_body)
  Url url;           // the URL that gave this reply (after redirects)
  std::string Header(const std::string& key) const;
};

using BodySink = std::function<bool(const char* data, size_t size)>;
// Called with the final reply's status and headers before its body; a non-OK Status aborts.
using ReplyCheck = std::function<Status(const httplib::Response& res)>;

class Http {
 public:
  explicit Http(HttpOptions options) : options_(std::move(options)) {}

  // GET (or HEAD) following up to 10 redirects under the rules above. A 2xx body goes to `sink`
  // when given; other bodies (and 2xx ones without a sink) are kept in Reply::body up to
  // `max_body` bytes (ResourceExhausted beyond). `sink_status` (optional) is what the sink
  // reported when it stopped the transfer.
  Result<Reply> Get(Url url, httplib::Headers headers, const BodySink& sink, size_t max_body,
                    const ReplyCheck& check = nullptr, bool head = false,
                    const Status* sink_status = nullptr);

  // One POST/PUT/PATCH without following redirects (the caller decides what a 3xx means). The
  // body is `length` bytes from `provider` (httplib's ContentProvider, called again from offset
  // 0 when the request is repeated after a token challenge), or empty.
  Result<Reply> Send(const std::string& method, const Url& url, const httplib::Headers& headers,
                     size_t length, httplib::ContentProvider provider,
                     const std::string& content_type, size_t max_body);

  // A client for `url`'s origin with our timeouts.
  std::unique_ptr<httplib::Client> Client(const Url& url) const;

 private:
  // Both answer a 401 carrying `WWW-Authenticate: Bearer realm=...` by fetching a token
  // (Authorize) and repeating the request once with it; a second 401 stays a 401.
  Result<Reply> GetOnce(Url url, httplib::Headers headers, const BodySink& sink, size_t max_body,
                        const ReplyCheck& check, bool head, const Status* sink_status);
  Result<Reply> SendOnce(const std::string& method, const Url& url, const httplib::Headers& headers,
                         size_t length, const httplib::ContentProvider& provider,
                         const std::string& content_type, size_t max_body);
  // Docker's token flow: GET <realm>?service=..&scope=.. -> {"token"} (or "access_token"). The
  // realm must be on the registry's own host, so no token request leaks elsewhere.
  Status Authorize(const Reply& challenge);
  // The Authorization header for a request to `url` (empty: none).
  std::string AuthorizationFor(const Url& url);

  HttpOptions options_;
  std::mutex token_mu_;
  std::string token_;  // guarded by token_mu_; parts download in parallel
};

// A GET over plain http that reads in large blocks (plain_get.cpp; httplib reads 4 KB at a time):
// `on_response` gets the status and headers, then `on_body` the body (de-chunked). Ok(false):
// a callback stopped it; errors are transport failures (Unavailable) or a malformed reply.
Result<bool> PlainGet(const Url& url, const httplib::Headers& headers, const HttpOptions& options,
                      const std::function<bool(const httplib::Response&)>& on_response,
                      const BodySink& on_body);

// The key="value" parameters of a `WWW-Authenticate: Bearer ...` header; empty when the
// scheme is not Bearer.
std::map<std::string, std::string> ParseBearerChallenge(std::string_view header);

// "GET https://host/path: <httplib error>" as an Unavailable status.
Status TransportError(std::string_view method, const Url& url, httplib::Error error);

}  // namespace corral::registry::internal
