#include "cli/commands.h"

namespace corral::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      BenchCommand(), GgufCommand(), QuantizeCommand(), ServeCommand(), TokenizeCommand(),
  };
  return commands;
}

}  // namespace corral::cli
