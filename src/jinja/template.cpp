#include "jinja/template.h"

#include "jinja/interpreter.h"
#include "jinja/lexer.h"
#include "jinja/parser.h"

namespace corral::jinja {

struct Template::Parsed {
  Body body;
  Options options;
};

Result<Template> Template::Parse(std::string_view source, const Options& options) {
  LexOptions lex_options;
  lex_options.trim_blocks = options.trim_blocks;
  lex_options.lstrip_blocks = options.lstrip_blocks;
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(source, lex_options));
  auto parsed = std::make_shared<Parsed>();
  ASSIGN_OR_RETURN(parsed->body, jinja::Parse(std::move(tokens), options.max_nesting_depth));
  parsed->options = options;
  return Template(std::move(parsed));
}

Result<std::string> Template::Render(const nlohmann::json& context) const {
  // nlohmann::json throws only on misuse of its API; the catch keeps that promise from
  // turning into an exception across our boundary.
  try {
    return RenderBody(parsed_->body, context, parsed_->options);
  } catch (const std::exception& e) {
    return InternalError(std::string("template rendering failed: ") + e.what());
  }
}

}  // namespace corral::jinja
