#include "registry/http.h"

#include <cctype>
#include <nlohmann/json.hpp>
#include <utility>

namespace corral::registry::internal {
namespace {

constexpr int kMaxRedirects = 10;

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Result<Url> ParseUrl(std::string_view text) {
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    return InvalidArgumentError("invalid URL \"" + std::string(text) + "\"");
  }
  Url url;
  url.scheme = Lower(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") {
    return InvalidArgumentError("unsupported URL scheme \"" + url.scheme + "\" in \"" +
                                std::string(text) + "\" (only http and https)");
  }
  std::string_view rest = text.substr(sep + 3);
  size_t slash = rest.find_first_of("/?#");
  std::string_view host = rest.substr(0, slash);
  if (host.empty() || host.find('@') != std::string_view::npos) {  // no userinfo: no credentials
    return InvalidArgumentError("invalid host in URL \"" + std::string(text) + "\"");
  }
  for (char c : host) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '\\') {
      return InvalidArgumentError("invalid host in URL \"" + std::string(text) + "\"");
    }
  }
  url.host_port = std::string(host);
  std::string_view target = slash == std::string_view::npos ? "/" : rest.substr(slash);
  if (size_t hash = target.find('#'); hash != std::string_view::npos)
    target = target.substr(0, hash);
  url.target = target.empty() || target[0] != '/' ? "/" + std::string(target) : std::string(target);
  return url;
}

Result<Url> ResolveLocation(const Url& base, std::string_view location) {
  if (location.empty()) return InvalidArgumentError("redirect without a Location");
  if (location.starts_with("//")) return ParseUrl(base.scheme + ":" + std::string(location));
  if (location[0] == '/') {
    Url url = base;
    url.target = std::string(location);
    return url;
  }
  // Anything with a scheme must be http(s); a relative path is taken against the base path.
  size_t colon = location.find(':');
  size_t slash = location.find('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash)) {
    Result<Url> url = ParseUrl(location);
    if (!url.ok()) {
      return InvalidArgumentError("refusing redirect to \"" + std::string(location) +
                                  "\": only http and https URLs are followed");
    }
    return url;
  }
  Url url = base;
  std::string path = base.target.substr(0, base.target.find('?'));
  url.target = path.substr(0, path.rfind('/') + 1) + std::string(location);
  return url;
}

Url WithQuery(Url url, std::string_view key, std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    }
  }
  url.target += url.target.find('?') == std::string::npos ? '?' : '&';
  url.target += std::string(key) + "=" + encoded;
  return url;
}

std::string Reply::Header(const std::string& key) const {
  for (const auto& [k, v] : headers) {
    if (Lower(k) == Lower(key)) return v;
  }
  return "";
}

Status TransportError(std::string_view method, const Url& url, httplib::Error error) {
  return UnavailableError(std::string(method) + " " + url.String() + ": " +
                          httplib::to_string(error));
}

std::unique_ptr<httplib::Client> Http::Client(const Url& url) const {
  auto client = std::make_unique<httplib::Client>(url.Origin());
  client->set_connection_timeout(options_.connect_timeout);
  client->set_read_timeout(options_.read_timeout);
  client->set_write_timeout(options_.write_timeout);
  client->set_follow_location(false);  // redirects are ours to judge
  client->set_keep_alive(false);
  return client;
}

Result<Reply> Http::GetOnce(Url url, httplib::Headers headers, const BodySink& sink,
                            size_t max_body, const ReplyCheck& check, bool head,
                            const Status* sink_status) {
  const std::string registry_host = Lower(url.host_port);
  if (std::string auth = AuthorizationFor(url); !auth.empty()) {
    headers.erase("Authorization");
    headers.emplace("Authorization", auth);
  }
  headers.erase("User-Agent");
  headers.emplace("User-Agent", options_.user_agent);
  const char* method = head ? "HEAD" : "GET";
  for (int hop = 0;; ++hop) {
    Reply reply;
    reply.url = url;
    Status check_status;
    bool too_large = false;
    bool to_sink = false;
    auto on_response = [&](const httplib::Response& r) {
      reply.status = r.status;
      reply.headers = r.headers;
      to_sink = sink && r.status >= 200 && r.status < 300;
      if (to_sink && check) {
        check_status = check(r);
        if (!check_status.ok()) return false;
      }
      return true;
    };
    auto on_body = [&](const char* data, size_t size) {
      if (to_sink) return sink(data, size);
      if (reply.body.size() + size > max_body) {
        too_large = true;
        return false;
      }
      reply.body.append(data, size);
      return true;
    };
    if (!head && sink && url.scheme == "http") {
      // Blob bodies over plain http (a loopback or insecure registry): our large-block reader.
      Result<bool> done = PlainGet(url, headers, options_, on_response, on_body);
      if (!check_status.ok()) return check_status;
      if (too_large) {
        return ResourceExhaustedError(std::string(method) + " " + url.String() + ": reply over " +
                                      std::to_string(max_body) + " bytes");
      }
      if (!done.ok() || !*done) {
        if (sink_status != nullptr && !sink_status->ok()) return *sink_status;
        if (!done.ok()) return done.status();
        return UnavailableError(std::string(method) + " " + url.String() + ": stopped");
      }
    } else {
      std::unique_ptr<httplib::Client> client = Client(url);
      if (!client->is_valid()) return UnavailableError("cannot connect to " + url.Origin());
      httplib::Result res = head ? client->Head(url.target, headers)
                                 : client->Get(url.target, headers, on_response, on_body);
      if (head && res) {
        reply.status = res->status;
        reply.headers = res->headers;
      }
      if (!check_status.ok()) return check_status;
      if (too_large) {
        return ResourceExhaustedError(std::string(method) + " " + url.String() + ": reply over " +
                                      std::to_string(max_body) + " bytes");
      }
      if (!res) {
        if (sink_status != nullptr && !sink_status->ok()) return *sink_status;
        return TransportError(method, url, res.error());
      }
    }
    if (!IsRedirect(reply.status)) return reply;
    if (hop >= kMaxRedirects) {
      return UnavailableError(std::string(method) + " " + url.String() + ": too many redirects");
    }
    ASSIGN_OR_RETURN(Url next, ResolveLocation(url, reply.Header("Location")));
    // Credentials belong to the registry: never forwarded to another host (a CDN, say).
    if (Lower(next.host_port) != registry_host) headers.erase("Authorization");
    url = std::move(next);
  }
}

Result<Reply> Http::SendOnce(const std::string& method, const Url& url,
                             const httplib::Headers& headers, size_t length,
                             const httplib::ContentProvider& provider,
                             const std::string& content_type, size_t max_body) {
  std::unique_ptr<httplib::Client> client = Client(url);
  if (!client->is_valid()) return UnavailableError("cannot connect to " + url.Origin());
  httplib::Request req;
  req.method = method;
  req.path = url.target;
  req.headers = headers;
  req.headers.erase("User-Agent");
  req.headers.emplace("User-Agent", options_.user_agent);
  if (std::string auth = AuthorizationFor(url); !auth.empty()) {
    req.headers.erase("Authorization");
    req.headers.emplace("Authorization", auth);
  }
  if (provider && length > 0) {
    req.content_length_ = length;
    req.content_provider_ = provider;
    if (!content_type.empty()) req.headers.emplace("Content-Type", content_type);
  } else if (!req.has_header("Content-Length")) {
    req.headers.emplace("Content-Length", "0");
  }
  Reply reply;
  reply.url = url;
  bool too_large = false;
  req.response_handler = [&](const httplib::Response& r) {
    reply.status = r.status;
    reply.headers = r.headers;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    if (reply.body.size() + size > max_body) {
      too_large = true;
      return false;
    }
    reply.body.append(data, size);
    return true;
  };
  httplib::Result res = client->send(req);
  if (too_large) {
    return ResourceExhaustedError(method + " " + url.String() + ": reply over " +
                                  std::to_string(max_body) + " bytes");
  }
  if (!res) return TransportError(method, url, res.error());
  return reply;
}

std::map<std::string, std::string> ParseBearerChallenge(std::string_view header) {
  std::map<std::string, std::string> params;
  if (header.size() < 7 || Lower(header.substr(0, 7)) != "bearer ") return params;
  std::string_view rest = header.substr(7);
  while (!rest.empty()) {
    while (!rest.empty() && (rest[0] == ' ' || rest[0] == ',')) rest.remove_prefix(1);
    size_t eq = rest.find('=');
    if (eq == std::string_view::npos) break;
    std::string key = Lower(rest.substr(0, eq));
    rest.remove_prefix(eq + 1);
    std::string value;
    if (!rest.empty() && rest[0] == '"') {
      size_t close = rest.find('"', 1);
      if (close == std::string_view::npos) break;
      value = std::string(rest.substr(1, close - 1));
      rest.remove_prefix(close + 1);
    } else {
      size_t comma = rest.find(',');
      value = std::string(rest.substr(0, comma));
      rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma);
    }
    params[key] = value;
  }
  params.emplace("", "bearer");  // marks a Bearer challenge, even one without parameters
  return params;
}

std::string Http::AuthorizationFor(const Url& url) {
  if (Lower(url.host_port) != Lower(options_.registry_host)) return "";
  std::lock_guard lock(token_mu_);
  return token_.empty() ? "" : "Bearer " + token_;
}

Status Http::Authorize(const Reply& challenge) {
  std::map<std::string, std::string> params =
      ParseBearerChallenge(challenge.Header("WWW-Authenticate"));
  if (params.empty()) return PermissionDeniedError("unauthorized: access denied");
  ASSIGN_OR_RETURN(Url realm, ParseUrl(params["realm"]));
  if (Lower(realm.host_port) != Lower(options_.registry_host)) {
    return PermissionDeniedError("unauthorized: the token realm host \"" + realm.host_port +
                                 "\" is not the registry host \"" + options_.registry_host + "\"");
  }
  if (!params["service"].empty()) realm = WithQuery(realm, "service", params["service"]);
  if (!params["scope"].empty()) realm = WithQuery(realm, "scope", params["scope"]);
  // The realm is on the registry's host; a redirect elsewhere drops any Authorization.
  ASSIGN_OR_RETURN(Reply reply, GetOnce(realm, {}, nullptr, 64 << 10, nullptr, false, nullptr));
  if (reply.status != 200) {
    return PermissionDeniedError("unauthorized: token request: " + std::to_string(reply.status) +
                                 ": " + reply.body.substr(0, 512));
  }
  nlohmann::json j = nlohmann::json::parse(reply.body, nullptr, false);
  std::string token;
  if (j.is_object()) {
    for (const char* key : {"token", "access_token"}) {
      if (j.contains(key) && j[key].is_string() && !j[key].get<std::string>().empty()) {
        token = j[key].get<std::string>();
        break;
      }
    }
  }
  if (token.empty() || token.find_first_of("\r\n") != std::string::npos) {
    return PermissionDeniedError("unauthorized: the token reply has no token");
  }
  std::lock_guard lock(token_mu_);
  token_ = token;
  return Status::Ok();
}

Result<Reply> Http::Get(Url url, httplib::Headers headers, const BodySink& sink, size_t max_body,
                        const ReplyCheck& check, bool head, const Status* sink_status) {
  ASSIGN_OR_RETURN(Reply reply, GetOnce(url, headers, sink, max_body, check, head, sink_status));
  if (reply.status != 401 || reply.Header("WWW-Authenticate").empty()) return reply;
  RETURN_IF_ERROR(Authorize(reply));
  return GetOnce(std::move(url), std::move(headers), sink, max_body, check, head, sink_status);
}

Result<Reply> Http::Send(const std::string& method, const Url& url, const httplib::Headers& headers,
                         size_t length, httplib::ContentProvider provider,
                         const std::string& content_type, size_t max_body) {
  ASSIGN_OR_RETURN(Reply reply,
                   SendOnce(method, url, headers, length, provider, content_type, max_body));
  if (reply.status != 401 || reply.Header("WWW-Authenticate").empty()) return reply;
  RETURN_IF_ERROR(Authorize(reply));
  return SendOnce(method, url, headers, length, provider, content_type, max_body);
}

}  // namespace corral::registry::internal
