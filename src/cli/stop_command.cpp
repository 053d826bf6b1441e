// `corral stop MODEL`: unloads a running model (POST /api/generate with keep_alive 0).
#include <memory>

#include "cli/cli.h"
#include "cli/client_common.h"
#include "cli/commands.h"

namespace corral::cli {

Command StopCommand() {
  return Command{
      .name = "stop",
      .aliases = {},
      .summary = "Stop a running model",
      .setup = [](CLI::App& app) -> CommandAction {
        auto model = std::make_shared<std::string>();
        app.add_option("model", *model, "The model to unload")->required();
        return [model](CommandIo& io) {
          Result<ApiClient> client = ConnectToServer();
          if (!client.ok()) return PrintError(io, client.status());
          if (Status s = UnloadModel(*client, *model); !s.ok()) {
            if (s.code() == StatusCode::kNotFound) {
              return PrintError(io,
                                NotFoundError("couldn't find model \"" + *model + "\" to stop"));
            }
            return PrintError(io, s);
          }
          return kExitOk;
        };
      },
  };
}

}  // namespace corral::cli
