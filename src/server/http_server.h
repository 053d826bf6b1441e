// The HTTP front of `corral serve`: binds OLLAMA_HOST's address, runs the middleware
// (middleware.h: CORS, Host guard) and the route table (routes.h) over a ServerState, logs one
// line per request and stops cleanly on Shutdown().
//
// Thread-safety: Serve() blocks on the calling thread and handles requests on a worker pool;
// Shutdown() may be called from any thread (a signal-handling thread, a test).
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "server/server_state.h"

namespace corral::server {

struct ServerOptions {
  std::string host = "127.0.0.1";  // "" listens on every interface
  int port = 11434;                // 0 picks a free port (tests); see Server::port()
  // Most threads serving connections (started on demand, see worker_pool.h). httplib gives each
  // open connection a thread (also while it is idle in keep-alive), so this bounds the clients
  // served at once; requests beyond it would wait unseen by the scheduler's queue limit.
  // `corral serve` sizes it from OLLAMA_MAX_QUEUE and OLLAMA_NUM_PARALLEL.
  int worker_threads = 64;
};

class Server {
 public:
  // `state` (the store, limits, CORS origins) must outlive the server.
  Server(ServerOptions options, ServerState& state);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket. Fails with the address and the OS reason ("address already
  // in use") so `corral serve` can say what is wrong before anything else starts.
  Status Bind();

  // The bound port; valid after a successful Bind().
  int port() const { return bound_port_; }

  // Serves until Shutdown(). Requires a successful Bind().
  Status Serve();

  // Stops accepting, lets in-flight requests finish, and makes Serve() return.
  void Shutdown();

 private:
  struct Impl;
  ServerOptions options_;
  ServerState& state_;
  int bound_port_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corral::server
