// `corral list` (alias `ls`) [PREFIX]: the local models from GET /api/tags, as Ollama's
// `ollama list` prints them (NAME, ID, SIZE, MODIFIED).
#include <chrono>
#include <memory>

#include "cli/cli.h"
#include "cli/client_common.h"
#include "cli/commands.h"
#include "cli/format.h"

namespace corral::cli {

Command ListCommand() {
  return Command{
      .name = "list",
      .aliases = {"ls"},
      .summary = "List models",
      .setup = [](CLI::App& app) -> CommandAction {
        auto prefix = std::make_shared<std::string>();
        app.add_option("prefix", *prefix, "Only the models whose name starts with this");
        return [prefix](CommandIo& io) {
          Result<ApiClient> client = ConnectToServer();
          if (!client.ok()) return PrintError(io, client.status());
          Result<nlohmann::json> tags = client->Get("/api/tags");
          if (!tags.ok()) return PrintError(io, tags.status());
          io.out << FormatModelList(*tags, *prefix, std::chrono::system_clock::now());
          return kExitOk;
        };
      },
  };
}

}  // namespace corral::cli
