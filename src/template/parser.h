// Parser for Go text/template: turns the token list into one tree per template (the top level,
// each {{define}} and each {{block}}). Errors read like Go's: "template: NAME:LINE: message".
#pragma once

#include <memory>
#include <string_view>

#include "base/status.h"
#include "template/ast.h"

namespace corral::tmpl {

// True for the names a template may call: Go's builtins plus Ollama's additions.
bool IsKnownFunction(std::string_view name);

Result<std::shared_ptr<const TemplateSet>> ParseTemplateSet(std::string_view name,
                                                            std::string_view text);

// 1-based line and 0-based byte column of `pos`, as Go's ErrorContext reports them.
void LineAndColumn(std::string_view text, int pos, int* line, int* column);

}  // namespace corral::tmpl
