// `corral cp SOURCE DESTINATION`: POST /api/copy, then "copied 'a' to 'b'" as Ollama prints it.
#include <memory>

#include "cli/cli.h"
#include "cli/client_common.h"
#include "cli/commands.h"

namespace corral::cli {

Command CopyCommand() {
  return Command{
      .name = "cp",
      .aliases = {},
      .summary = "Copy a model",
      .setup = [](CLI::App& app) -> CommandAction {
        auto names = std::make_shared<std::pair<std::string, std::string>>();
        app.add_option("source", names->first, "The model to copy")->required();
        app.add_option("destination", names->second, "The new name")->required();
        return [names](CommandIo& io) {
          Result<ApiClient> client = ConnectToServer();
          if (!client.ok()) return PrintError(io, client.status());
          Result<nlohmann::json> copied =
              client->Post("/api/copy", {{"source", names->first}, {"destination", names->second}});
          if (!copied.ok()) return PrintError(io, copied.status());
          io.out << "copied '" << names->first << "' to '" << names->second << "'\n";
          return kExitOk;
        };
      },
  };
}

}  // namespace corral::cli
