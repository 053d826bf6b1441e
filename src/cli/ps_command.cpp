// `corral ps`: the loaded models from GET /api/ps, as Ollama's `ollama ps` prints them (NAME,
// ID, SIZE, PROCESSOR, CONTEXT, UNTIL).
#include <chrono>

#include "cli/cli.h"
#include "cli/client_common.h"
#include "cli/commands.h"
#include "cli/format.h"

namespace corral::cli {

Command PsCommand() {
  return Command{
      .name = "ps",
      .aliases = {},
      .summary = "List running models",
      .setup = [](CLI::App&) -> CommandAction {
        return [](CommandIo& io) {
          Result<ApiClient> client = ConnectToServer();
          if (!client.ok()) return PrintError(io, client.status());
          Result<nlohmann::json> ps = client->Get("/api/ps");
          if (!ps.ok()) return PrintError(io, ps.status());
          io.out << FormatRunningList(*ps, std::chrono::system_clock::now());
          return kExitOk;
        };
      },
  };
}

}  // namespace corral::cli
