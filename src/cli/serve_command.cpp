// `corral serve` (alias `start`): the HTTP server on OLLAMA_HOST until SIGINT or SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "base/log.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "config/env_config.h"
#include "server/http_server.h"
#include "server/middleware.h"
#include "server/server_state.h"
#include "store/store.h"

namespace corral::cli {
namespace {

constexpr const char kEnvironmentHelp[] = R"(Environment Variables:
      OLLAMA_DEBUG               Show additional debug information (e.g. OLLAMA_DEBUG=1)
      OLLAMA_HOST                IP Address for the corral server (default 127.0.0.1:11434)
      OLLAMA_MODELS              The path to the models directory
      OLLAMA_NOPRUNE             Do not prune model blobs on startup
      OLLAMA_ORIGINS             A comma separated list of allowed origins
)";

// Ollama's start-up pass over the store (blob renames, pruning of unreferenced blobs and stale
// temp files). A failure is logged, not fatal: the server still serves what is there.
void Housekeeping(store::Store& store) {
  store::HousekeepingOptions options;
  options.no_prune = store::Store::NoPruneFromEnv();
  Result<store::HousekeepingReport> report = store.Housekeeping(options);
  if (!report.ok()) {
    LOG(kWarn) << "model store housekeeping failed: " << report.status().message();
    return;
  }
  if (report->renamed > 0) LOG(kInfo) << "renamed " << report->renamed << " blob files";
  if (report->prune_skipped) {
    LOG(kInfo) << "skipped pruning blobs: " << report->prune_skip_reason;
  } else {
    LOG(kInfo) << "total unused blobs removed: " << report->blobs_removed
               << ", stale files removed: " << report->other_files_removed;
  }
}

int Serve(CommandIo& io) {
  SetLogLevel(config::DebugLevel());
  // SIGINT/SIGTERM are blocked in every thread (before any is started) and taken by one waiting
  // thread, which asks the server to stop; Serve() then returns and the process exits 0.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);  // our own wake-up when the server stops for another reason
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  config::HostAddress address = config::Host();
  server::ServerState state(store::Store::FromEnv());
  state.cors_origins = server::ParseOrigins(config::Origins());
  state.inference = std::make_unique<server::Inference>(server::InferenceOptions::FromEnv());
  // Every request the scheduler may hold (running or queued) gets a connection thread, plus room
  // for requests that need no model (tags, show, blobs) and for clients about to be told 503.
  const int workers = std::clamp(config::MaxQueue() + 4 * config::NumParallel() + 32, 64, 2048);
  server::Server server(server::ServerOptions{address.host, address.port, workers}, state);
  if (Status s = server.Bind(); !s.ok()) {
    io.err << "Error: " << s.message() << "\n";
    return kExitFailure;
  }
  Housekeeping(state.store);

  std::thread signal_thread([&] {
    int received = 0;
    sigwait(&signals, &received);
    if (received != SIGUSR1) {
      LOG(kInfo) << "received " << strsignal(received) << ", shutting down";
    }
    server.Shutdown();
  });

  Status served = server.Serve();
  pthread_kill(signal_thread.native_handle(), SIGUSR1);
  signal_thread.join();
  if (!served.ok()) {
    io.err << "Error: " << served.message() << "\n";
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

Command ServeCommand() {
  return Command{
      .name = "serve",
      .aliases = {"start"},
      .summary = "Start corral",
      .setup = [](CLI::App& app) -> CommandAction {
        app.footer(kEnvironmentHelp);
        return Serve;
      },
  };
}

}  // namespace corral::cli
