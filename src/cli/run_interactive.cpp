#include "cli/run_interactive.h"

#include "cli/client_common.h"

namespace corral::cli {

int RunInteractive(ApiClient&, const InteractiveOptions& options, CommandIo& io) {
  return PrintError(io,
                    UnsupportedError("interactive sessions are not implemented yet; give a "
                                     "prompt (corral run " +
                                     options.model + " \"PROMPT\") or pipe one on standard input"));
}

}  // namespace corral::cli
