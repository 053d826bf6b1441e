// Interpreter: renders a parsed template against a context, within the caps of the options.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "jinja/ast.h"
#include "jinja/template.h"

namespace corral::jinja {

Result<std::string> RenderBody(const Body& body, const nlohmann::json& context,
                               const Options& options);
Result<std::string> RenderBody(const Body& body, const nlohmann::ordered_json& context,
                               const Options& options);

}  // namespace corral::jinja
