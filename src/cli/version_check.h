// `corral --version`: asks the server at OLLAMA_HOST for its version, like `ollama -v`.
#pragma once

#include <ostream>

#include "config/env_config.h"

namespace corral::cli {

// Prints "corral version is X" (the server's), a warning when the client differs, or warnings
// when no server answers. Always succeeds: the client version is known either way.
int PrintVersion(const config::HostAddress& host, std::ostream& out, std::ostream& err);

}  // namespace corral::cli
