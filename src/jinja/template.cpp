#include "jinja/template.h"

#include "jinja/interpreter.h"
#include "jinja/lexer.h"
#include "jinja/parser.h"

namespace corral::jinja {

struct Template::Parsed {
  Body body;
  Options options;
  std::string source;
};

Result<Template> Template::Parse(std::string_view source, const Options& options) {
  LexOptions lex_options;
  lex_options.trim_blocks = options.trim_blocks;
  lex_options.lstrip_blocks = options.lstrip_blocks;
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(source, lex_options));
  auto parsed = std::make_shared<Parsed>();
  ASSIGN_OR_RETURN(parsed->body, jinja::Parse(std::move(tokens), options.max_nesting_depth));
  parsed->options = options;
  parsed->source = std::string(source);
  return Template(std::move(parsed));
}

namespace {

template <typename Json>
Result<std::string> RenderGuarded(const Body& body, const Json& context, const Options& options) {
  // nlohmann::json throws only on misuse of its API; the catch keeps that promise from
  // turning into an exception across our boundary.
  try {
    return RenderBody(body, context, options);
  } catch (const std::exception& e) {
    return InternalError(std::string("template rendering failed: ") + e.what());
  }
}

}  // namespace

Result<std::string> Template::Render(const nlohmann::json& context) const {
  return RenderGuarded(parsed_->body, context, parsed_->options);
}

Result<std::string> Template::RenderOrdered(const nlohmann::ordered_json& context) const {
  return RenderGuarded(parsed_->body, context, parsed_->options);
}

const std::string& Template::source() const { return parsed_->source; }

}  // namespace corral::jinja
