// The seam for the compatibility endpoints (OpenAI /v1/*, Anthropic /v1/messages): they
// translate their request into a native one, run the native handler (/api/chat, /api/generate,
// /api/embed, /api/tags) on it, and translate its reply. There is no second inference path:
// what the native endpoint does (options, templates, scheduling, streaming, cancellation when
// the client goes away) is what the compatible one does.
//
// Thread-safety: a translator belongs to one request; its stream methods run on that request's
// thread, one at a time.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "server/routes.h"

namespace corral::server {

class ReplyTranslator {
 public:
  virtual ~ReplyTranslator() = default;

  // A whole native reply: its status and JSON body ({"error": "..."} when status >= 400).
  // Writes the translated reply into `res` (status, body, content type).
  virtual void Whole(int status, const nlohmann::ordered_json& native, httplib::Response& res) = 0;

  // The content type of the translated stream ("text/event-stream").
  virtual std::string StreamContentType() const = 0;
  // One object of the native NDJSON stream (a chunk, the final "done" chunk, or a mid-stream
  // {"error": "..."}); appends the bytes to send to *out (may append nothing).
  virtual void StreamObject(const nlohmann::ordered_json& native, std::string* out) = 0;
  // After the native stream's last object (e.g. "data: [DONE]\n\n"); not called when the
  // client went away.
  virtual void StreamEnd(std::string* out) = 0;
};

// Runs `native` with `native_body` as its request body and lets `translator` rewrite what it
// answers: a whole reply at once (Whole), a streamed reply object by object as the native
// handler produces it (StreamObject, then StreamEnd). `req` is passed through (headers, path).
void CallNative(ServerState& state, const httplib::Request& req, const Handler& native,
                const std::string& native_body, std::shared_ptr<ReplyTranslator> translator,
                httplib::Response& res);

}  // namespace corral::server
