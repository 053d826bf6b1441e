// `corral rm MODEL...`: for each model, unload it (generate with keep_alive 0) and then
// DELETE /api/delete, printing "deleted 'x'" as Ollama does. Stops at the first failure.
#include <memory>
#include <vector>

#include "base/strings.h"
#include "cli/cli.h"
#include "cli/client_common.h"
#include "cli/commands.h"

namespace corral::cli {

Command RemoveCommand() {
  return Command{
      .name = "rm",
      .aliases = {},
      .summary = "Remove a model",
      .setup = [](CLI::App& app) -> CommandAction {
        auto models = std::make_shared<std::vector<std::string>>();
        app.add_option("models", *models, "The models to remove")->required();
        return [models](CommandIo& io) {
          Result<ApiClient> client = ConnectToServer();
          if (!client.ok()) return PrintError(io, client.status());
          for (const std::string& model : *models) {
            // A model that is not loaded (or does not exist) needs no unloading; the delete
            // below reports a missing model.
            if (Status unloaded = UnloadModel(*client, model);
                !unloaded.ok() &&
                ToLower(unloaded.message()).find("not found") == std::string::npos) {
              io.err << "Warning: unable to stop model '" << model << "'\n";
            }
            Result<nlohmann::json> deleted = client->Delete("/api/delete", {{"model", model}});
            if (!deleted.ok()) return PrintError(io, deleted.status());
            io.out << "deleted '" << model << "'\n";
          }
          return kExitOk;
        };
      },
  };
}

}  // namespace corral::cli
