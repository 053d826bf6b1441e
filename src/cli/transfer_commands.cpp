// `corral pull MODEL` and `corral push MODEL` (Ollama's PullHandler / PushHandler): POST
// /api/pull or /api/push and show the server's progress stream, a bar per layer.
#include <memory>
#include <string>

#include "base/strings.h"
#include "cli/cli.h"
#include "cli/client_common.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "store/name.h"

namespace corral::cli {
namespace {

struct TransferFlags {
  std::string model;
  bool insecure = false;
};

int Pull(const TransferFlags& flags, CommandIo& io) {
  Result<ApiClient> client = ConnectToServer();
  if (!client.ok()) return PrintError(io, client.status());
  if (Status s = PullModel(*client, flags.model, flags.insecure, io.err); !s.ok()) {
    return PrintError(io, s);
  }
  return kExitOk;
}

int Push(const TransferFlags& flags, CommandIo& io) {
  Result<ApiClient> client = ConnectToServer();
  if (!client.ok()) return PrintError(io, client.status());
  ProgressDisplay display(io.err);
  nlohmann::json body = {{"model", flags.model}};
  if (flags.insecure) body["insecure"] = true;
  Status pushed = ShowProgressStream(*client, "/api/push", body, ProgressKind::kPush, display);
  display.Stop();
  if (!pushed.ok()) {
    // Ollama's hint for the registry's access-denied answer.
    if (pushed.message().find("unauthorized") != std::string::npos ||
        pushed.message().find("access denied") != std::string::npos) {
      return PrintError(
          io, PermissionDeniedError("you are not authorized to push to this namespace, create the "
                                    "model under a namespace you own"));
    }
    return PrintError(io, pushed);
  }
  io.out << "\nYou can find your model at:\n\n\t" << PushDestination(flags.model) << "\n";
  return kExitOk;
}

CommandAction TransferSetup(CLI::App& app, bool pull) {
  auto flags = std::make_shared<TransferFlags>();
  app.add_option("model", flags->model, "The model's name")->required();
  app.add_flag("--insecure", flags->insecure, "Use an insecure (plain http) registry");
  if (pull) return [flags](CommandIo& io) { return Pull(*flags, io); };
  return [flags](CommandIo& io) { return Push(*flags, io); };
}

}  // namespace

std::string PushDestination(const std::string& model) {
  const store::Name name = store::ParseNameWithDefaults(model);
  if (EndsWith(name.host, ".ollama.ai") || EndsWith(name.host, ".ollama.com")) {
    std::string shortest = name.DisplayShortest();
    if (EndsWith(shortest, ":latest")) shortest.resize(shortest.size() - 7);
    return "https://ollama.com/" + shortest;
  }
  return name.String();
}

Command PullCommand() {
  return Command{
      .name = "pull",
      .aliases = {},
      .summary = "Pull a model from a registry",
      .setup = [](CLI::App& app) { return TransferSetup(app, true); },
  };
}

Command PushCommand() {
  return Command{
      .name = "push",
      .aliases = {},
      .summary = "Push a model to a registry",
      .setup = [](CLI::App& app) { return TransferSetup(app, false); },
  };
}

}  // namespace corral::cli
