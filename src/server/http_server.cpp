#include "server/http_server.h"

#include <httplib.h>

#include <algorithm>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <chrono>
#include <string>

#include "base/log.h"
#include "base/version.h"
#include "server/middleware.h"
#include "server/routes.h"
#include "server/worker_pool.h"

namespace corral::server {
namespace {

// Each request runs start to finish on one worker thread, so the pre-routing hook can leave
// the start time here for the logger.
thread_local std::chrono::steady_clock::time_point t_request_start;

std::string FormatDuration(std::chrono::nanoseconds d) {
  char buf[32];
  double us = static_cast<double>(d.count()) / 1e3;
  if (us < 1000) {
    std::snprintf(buf, sizeof buf, "%.3fµs", us);
  } else if (us < 1e6) {
    std::snprintf(buf, sizeof buf, "%.3fms", us / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.3fs", us / 1e6);
  }
  return buf;
}

}  // namespace

struct Server::Impl {
  explicit Impl(MiddlewareConfig m) : middleware(std::move(m)) {}
  httplib::Server http;
  MiddlewareConfig middleware;
};

Server::Server(ServerOptions options, ServerState& state)
    : options_(std::move(options)),
      state_(state),
      impl_(new Impl(
          MiddlewareConfig{CorsPolicy(state.cors_origins), IsLoopbackAddress(options_.host)})) {
  httplib::Server& http = impl_->http;
  // httplib's default also sets SO_REUSEPORT, which would let a second `corral serve` share the
  // port silently; like Go's listener we set SO_REUSEADDR only, so the second one fails to bind.
  // TCP_NODELAY (accepted sockets inherit it from the listener): httplib writes a reply's
  // headers and body separately, and with Nagle the body waited for the client's delayed ACK,
  // up to 40 ms per request.
  http.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  });
  const size_t workers = static_cast<size_t>(std::max(4, options_.worker_threads));
  http.new_task_queue = [workers] { return new WorkerPool(workers); };
  // Idle connections stay open 5 s (httplib's default), longer than node's undici keeps them
  // (4 s), so a client never sends a request on a connection the server just closed (a large
  // POST there fails with EPIPE). Not longer: httplib lets an idle connection's thread sleep out
  // its timeout before a shutdown completes.
  http.set_keep_alive_timeout(5);
  RegisterRoutes(http, state_);
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    t_request_start = std::chrono::steady_clock::now();
    return ApplyMiddleware(impl_->middleware, req, res)
               ? httplib::Server::HandlerResponse::Handled
               : httplib::Server::HandlerResponse::Unhandled;
  });
  http.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    auto elapsed = std::chrono::steady_clock::now() - t_request_start;
    std::string attrs = "status=" + std::to_string(res.status) +
                        " duration=" + FormatDuration(elapsed) +
                        " client=" + LogQuote(req.remote_addr) + " method=" + req.method +
                        " path=" + LogQuote(req.path);
    LogLine(LogLevel::kInfo, __FILE__, __LINE__, "request", attrs);
  });
}

Server::~Server() = default;

Status Server::Bind() {
  // httplib's "" means nothing useful; Ollama's ":port" means every interface.
  std::string host = options_.host.empty() ? "0.0.0.0" : options_.host;
  std::string shown = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                      std::to_string(options_.port);
  errno = 0;
  int port = options_.port;
  bool ok;
  if (port == 0) {
    port = impl_->http.bind_to_any_port(host);
    ok = port > 0;
  } else {
    ok = impl_->http.bind_to_port(host, port);
  }
  if (!ok) {
    int err = errno;
    if (err == 0) err = EADDRNOTAVAIL;
    return ErrnoError("listen tcp " + shown + ": bind", err);
  }
  bound_port_ = port;
  return Status::Ok();
}

Status Server::Serve() {
  CHECK(bound_port_ > 0) << "Serve() before a successful Bind()";
  std::string host = options_.host.empty() ? "0.0.0.0" : options_.host;
  LOG(kInfo) << "Listening on " << (host.find(':') != std::string::npos ? "[" + host + "]" : host)
             << ":" << bound_port_ << " (version " << kVersion << ")";
  if (!impl_->http.listen_after_bind()) {
    return IoError("the HTTP server stopped unexpectedly");
  }
  return Status::Ok();
}

void Server::Shutdown() { impl_->http.stop(); }

}  // namespace corral::server
