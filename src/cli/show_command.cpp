// `corral show MODEL`: POST /api/show printed as Ollama's `ollama show` does: the Model,
// Capabilities, Parameters, System and License sections (-v adds Metadata and Tensors), or
// with one of --license, --modelfile, --parameters, --system, --template that text alone.
#include <memory>

#include "cli/cli.h"
#include "cli/client_common.h"
#include "cli/commands.h"
#include "cli/format.h"

namespace corral::cli {
namespace {

struct ShowFlags {
  std::string model;
  bool license = false, modelfile = false, parameters = false, system = false, template_ = false;
  bool verbose = false;
};

int Show(const ShowFlags& flags, CommandIo& io) {
  const int chosen =
      flags.license + flags.modelfile + flags.parameters + flags.system + flags.template_;
  if (chosen > 1) {
    return PrintError(io, InvalidArgumentError("only one of '--license', '--modelfile', "
                                               "'--parameters', '--system', or '--template' can "
                                               "be specified"));
  }
  Result<ApiClient> client = ConnectToServer();
  if (!client.ok()) return PrintError(io, client.status());
  Result<nlohmann::json> show =
      client->Post("/api/show", {{"model", flags.model}, {"verbose", flags.verbose}});
  if (!show.ok()) return PrintError(io, show.status());
  auto text = [&](const char* key) { return JsonString(*show, key); };
  // Ollama prints license, modelfile and parameters with a line break after them, and system
  // and template exactly as they are (fmt.Println vs fmt.Print).
  if (flags.license) {
    io.out << text("license") << "\n";
  } else if (flags.modelfile) {
    io.out << text("modelfile") << "\n";
  } else if (flags.parameters) {
    io.out << text("parameters") << "\n";
  } else if (flags.system) {
    io.out << text("system");
  } else if (flags.template_) {
    io.out << text("template");
  } else {
    io.out << FormatShowInfo(*show, flags.verbose);
  }
  return kExitOk;
}

}  // namespace

Command ShowCommand() {
  return Command{
      .name = "show",
      .aliases = {},
      .summary = "Show information for a model",
      .setup = [](CLI::App& app) -> CommandAction {
        auto flags = std::make_shared<ShowFlags>();
        app.add_option("model", flags->model, "The model to describe")->required();
        app.add_flag("--license", flags->license, "Show license of a model");
        app.add_flag("--modelfile", flags->modelfile, "Show Modelfile of a model");
        app.add_flag("--parameters", flags->parameters, "Show parameters of a model");
        app.add_flag("--template", flags->template_, "Show template of a model");
        app.add_flag("--system", flags->system, "Show system message of a model");
        app.add_flag("-v,--verbose", flags->verbose, "Show detailed model information");
        return [flags](CommandIo& io) { return Show(*flags, io); };
      },
  };
}

}  // namespace corral::cli
