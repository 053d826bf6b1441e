#include "server/blob_routes.h"

#include <httplib.h>

#include <optional>

#include "base/log.h"
#include "server/json_request.h"
#include "server/server_state.h"

namespace corral::server {
namespace {

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The store's digest for a parameter Ollama would find on disk. Ollama maps "sha256:X" and
// "sha256-X" to the file "sha256-X"; our blob files are lower-case, so a parameter with
// upper-case hex names no file (as on Ollama's case-sensitive filesystems).
std::optional<store::Digest> StoredDigest(std::string_view param) {
  std::string canonical = "sha256:" + std::string(param.substr(7));
  Result<store::Digest> d = store::Digest::Parse(canonical);
  if (!d.ok()) return std::nullopt;
  return *d;
}

std::string DigestParam(const httplib::Request& req) {
  return req.matches.size() > 1 ? std::string(req.matches[1]) : std::string();
}

}  // namespace

bool IsBlobDigestParam(std::string_view digest) {
  if (digest.size() != 7 + 64) return false;
  if (digest.substr(0, 6) != "sha256" || (digest[6] != ':' && digest[6] != '-')) return false;
  for (char c : digest.substr(7)) {
    if (!IsHexDigit(c)) return false;
  }
  return true;
}

void HeadBlobHandler(ServerState& state, const httplib::Request& req, RequestBody&,
                     httplib::Response& res) {
  std::string param = DigestParam(req);
  if (!IsBlobDigestParam(param)) return WriteError(res, 400, "invalid digest format");
  std::optional<store::Digest> digest = StoredDigest(param);
  if (!digest || !state.store.HasBlob(*digest)) {
    return WriteError(res, 404, "blob " + GoQuote(param) + " not found");
  }
  res.status = 200;
}

void CreateBlobHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                       httplib::Response& res) {
  std::string param = DigestParam(req);
  if (!IsBlobDigestParam(param)) return WriteError(res, 400, "invalid digest format");
  std::optional<store::Digest> stored = StoredDigest(param);
  if (stored && state.store.HasBlob(*stored)) {
    res.status = 200;  // already there; the route table drains the unread body
    return;
  }
  // Only "sha256:<lower hex>" can ever equal the computed digest (Ollama compares the text).
  bool canonical = stored && param[6] == ':';
  if (!canonical) {
    store::Sha256 hash;
    if (!body.Stream([&](const char* data, size_t n) {
          hash.Update(data, n);
          return true;
        })) {
      return WriteError(res, 400, "unexpected EOF");
    }
    return WriteError(
        res, 400,
        "digest mismatch, expected " + GoQuote(param) + ", got " + GoQuote(hash.Finish().String()));
  }

  Result<store::BlobWriter> writer = state.store.NewBlobWriter();
  if (!writer.ok()) return WriteError(res, 500, writer.status().message());
  Status write_status;
  bool streamed = body.Stream([&](const char* data, size_t n) {
    write_status = writer->Write(std::string_view(data, n));
    return write_status.ok();  // stop reading once the disk said no
  });
  if (!write_status.ok()) {
    LOG(kError) << "blob upload " << param << ": " << write_status.message();
    return WriteError(res, 500, write_status.message());
  }
  if (!streamed) {
    writer->Abort();  // the client went away mid-upload; nothing is left behind
    return WriteError(res, 400, "unexpected EOF");
  }
  Result<store::Digest> got = writer->Commit(*stored);
  if (!got.ok()) {
    int status = got.status().code() == StatusCode::kInvalidArgument ? 400 : 500;
    return WriteError(res, status, got.status().message());
  }
  res.status = 201;
}

}  // namespace corral::server
