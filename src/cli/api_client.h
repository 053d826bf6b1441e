// The command line's HTTP client of the server at OLLAMA_HOST (Ollama's api.Client): JSON
// requests, NDJSON streams read line by line, blob uploads. The client verbs talk to the server
// only through this, never by calling into the server's code.
//
//   ApiClient client(config::Host());
//   RETURN_IF_ERROR(client.Heartbeat());
//   ASSIGN_OR_RETURN(nlohmann::json tags, client.Get("/api/tags"));
//   RETURN_IF_ERROR(client.Stream("/api/generate", body, [&](const nlohmann::json& line) {...}));
//
// Errors are Status values: a reply >= 400 carries the server's {"error": "..."} text and a code
// from the HTTP status (404 -> NotFound, 400 -> InvalidArgument, ...); a stream line with an
// "error" key ends the stream with that text; no answer at all is Unavailable with Ollama's
// "could not connect" hint (naming `corral serve`).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "config/env_config.h"

namespace corral::cli {

// What the CLI prints when nothing listens at OLLAMA_HOST (Ollama says "ollama serve").
inline constexpr const char kCouldNotConnect[] =
    "could not connect to corral server, run 'corral serve' to start it";

// "corral/0.1.0 (amd64 linux)", Ollama's "ollama/<ver> (<arch> <os>) Go/<ver>" in our words.
std::string UserAgent();

// The Status code for an HTTP error status (404 -> NotFound, 400 -> InvalidArgument, ...).
StatusCode StatusCodeForHttp(int http_status);

// The error text of a reply body: its "error" string when it is JSON with one, else the body
// itself (trimmed), else "<status> <reason>".
std::string ErrorTextOfReply(int http_status, const std::string& body);

// Cancels the request in flight from a signal handler (Ctrl+C, as Ollama cancels a request's
// context): Cancel() only stores to atomics and calls shutdown(2), both async-signal-safe. The
// shutdown matters while the server is silent (a model loading before the first line): the
// blocked read returns at once instead of when the server next writes.
class CancelSource {
 public:
  void Cancel() noexcept;
  bool cancelled() const noexcept { return cancelled_.load(); }
  // Before a new request: a Ctrl+C pressed earlier must not cancel it.
  void Reset() noexcept { cancelled_.store(false); }

  // The client's side: the socket of the request now open, and its end.
  void AttachSocket(int socket) noexcept;
  void DetachSocket() noexcept { socket_.store(-1); }

 private:
  std::atomic<bool> cancelled_{false};
  std::atomic<int> socket_{-1};  // the request's socket while one is open
  static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
                "used from a signal handler");
};

class ApiClient {
 public:
  explicit ApiClient(config::HostAddress host);

  // From now on requests stop with Cancelled once `source` is cancelled (not owned; nullptr for
  // none). A cancelled source refuses new requests until Reset().
  void set_cancel_source(CancelSource* source) { cancel_ = source; }

  // HEAD / -- whether a server answers at all (Ollama's checkServerHeartbeat).
  Status Heartbeat();

  // GET/POST a JSON body, returning the JSON reply ({} when the reply body is empty).
  Result<nlohmann::json> Get(const std::string& path);
  Result<nlohmann::json> Post(const std::string& path, const nlohmann::json& body);
  Result<nlohmann::json> Delete(const std::string& path, const nlohmann::json& body);

  // HEAD path: the HTTP status (200, 404, ...) when the server answered.
  Result<int> Head(const std::string& path);

  // POSTs `body` asking for NDJSON and calls `on_line` with each decoded line as it arrives; a
  // line with an "error" key, an undecodable line or a non-OK return from `on_line` stops the
  // stream with that error.
  using LineHandler = std::function<Status(const nlohmann::json& line)>;
  Status Stream(const std::string& path, const nlohmann::json& body, const LineHandler& on_line);

  // POSTs the file's bytes as the body (streamed from disk, not read into memory);
  // `on_progress(sent, total)` is called as it goes.
  using ProgressHandler = std::function<void(uint64_t sent, uint64_t total)>;
  Status PostFile(const std::string& path, const std::string& file_path,
                  const ProgressHandler& on_progress);

 private:
  std::string FullPath(const std::string& path) const;
  // A request's outcome: Cancelled when the cancel source fired during it, whatever else
  // happened to the connection.
  Status Finish(Status status);
  Result<nlohmann::json> JsonRequest(const std::string& method, const std::string& path,
                                     const nlohmann::json* body);

  config::HostAddress host_;
  CancelSource* cancel_ = nullptr;
};

}  // namespace corral::cli
