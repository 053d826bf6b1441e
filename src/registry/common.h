// What pull and push share: the registry's base URL for a name, the HTTP options and the error
// for a reply the protocol did not expect. Internal to src/registry.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "registry/http.h"
#include "registry/registry.h"
#include "store/name.h"

namespace corral::registry::internal {

// Largest body we keep from a reply that is not a blob (errors, upload replies).
inline constexpr size_t kMaxReplyBody = 64 << 10;

// <scheme>://<host> for the name: https, or http with `insecure`. An http:// name without
// `insecure` is Ollama's "insecure protocol http".
Result<Url> RegistryBase(const store::Name& name, bool insecure);
// "/v2/<namespace>/<model>"
std::string RepositoryPath(const store::Name& name);
// Our timeouts and User-Agent; the bearer token only for `base`'s host.
HttpOptions MakeHttpOptions(const RegistryOptions& options, const Url& base);
// The User-Agent on every registry request.
std::string UserAgent();

// A reply outside the protocol: "<what>: unauthorized: access denied" for 401, else
// "<what>: <status>: <body>" (body trimmed), with a code matching the status.
Status ReplyError(std::string_view what, const Reply& reply);

// "pulling 1a2b3c4d5e6f" style: the first 12 hex digits.
std::string ShortHex(const store::Digest& digest);

}  // namespace corral::registry::internal
