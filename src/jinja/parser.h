// Parser: tokens to a statement tree, with Jinja2's operator precedence.
#pragma once

#include <vector>

#include "base/status.h"
#include "jinja/ast.h"
#include "jinja/lexer.h"

namespace corral::jinja {

// The name under which `{% filter %}` and `{% set x | f %}` bodies reach their filter chain;
// not a valid identifier, so no template can refer to it.
inline constexpr char kFilterInputName[] = "\x01filter_input";

// max_depth caps nesting of expressions and blocks so hostile input cannot exhaust the stack.
Result<Body> Parse(std::vector<Token> tokens, int max_depth);

}  // namespace corral::jinja
