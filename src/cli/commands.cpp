#include "cli/commands.h"

namespace corral::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      BenchCommand(),    CopyCommand(),  CreateCommand(), GgufCommand(),     ListCommand(),
      PsCommand(),       PullCommand(),  PushCommand(),   QuantizeCommand(), RemoveCommand(),
      RunModelCommand(), ServeCommand(), ShowCommand(),   StopCommand(),     TokenizeCommand(),
  };
  return commands;
}

}  // namespace corral::cli
