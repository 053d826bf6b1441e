// `corral tokenize MODEL [TEXT]`: the token ids of TEXT (or of stdin) under MODEL's tokenizer.
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/commands.h"
#include "gguf/gguf_reader.h"
#include "tokenizer/tokenizer.h"

namespace corral::cli {
namespace {

struct TokenizeOptions {
  std::string model;
  std::string text;
  bool text_given = false;
  bool pieces = false;
  bool json = false;
  bool add_special = false;
  bool parse_special = false;
};

// A piece as a JSON string literal, so spaces, newlines and bytes of split characters show.
std::string Quoted(const std::string& piece) {
  return nlohmann::json(piece).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int Run(const TokenizeOptions& options, CommandIo& io) {
  auto file = gguf::GgufFile::Open(options.model);
  if (!file.ok()) {
    io.err << "Error: " << file.status().message() << "\n";
    return kExitFailure;
  }
  auto tokenizer = tokenizer::Tokenizer::FromGguf(**file);
  if (!tokenizer.ok()) {
    io.err << "Error: " << options.model << ": " << tokenizer.status().message() << "\n";
    return kExitFailure;
  }
  std::string text = options.text;
  if (!options.text_given) {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  const std::vector<int32_t> ids =
      (*tokenizer)->Encode(text, options.add_special, options.parse_special);

  if (options.json) {
    nlohmann::json out = {{"tokens", ids}};
    if (options.pieces) {
      nlohmann::json pieces = nlohmann::json::array();
      for (int32_t id : ids) pieces.push_back((*tokenizer)->TokenToPiece(id, true));
      out["pieces"] = pieces;
    }
    io.out << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else if (options.pieces) {
    for (int32_t id : ids)
      io.out << id << "\t" << Quoted((*tokenizer)->TokenToPiece(id, true)) << "\n";
  } else {
    for (size_t i = 0; i < ids.size(); ++i) io.out << (i ? " " : "") << ids[i];
    io.out << "\n";
  }
  return kExitOk;
}

}  // namespace

Command TokenizeCommand() {
  return Command{
      .name = "tokenize",
      .aliases = {},
      .summary = "Print the token ids of a text under a model's tokenizer",
      .setup = [](CLI::App& app) -> CommandAction {
        auto options = std::make_shared<TokenizeOptions>();
        app.add_option("MODEL", options->model, "GGUF file")->required();
        app.add_option("TEXT", options->text, "text to tokenize (default: read stdin)")
            ->each([options](const std::string&) { options->text_given = true; });
        app.add_flag("--pieces", options->pieces, "print each token's text beside its id");
        app.add_flag("--json", options->json, "print JSON for scripts");
        app.add_flag("--add-special", options->add_special,
                     "add BOS/EOS as the model asks (as for a prompt)");
        app.add_flag("--parse-special", options->parse_special,
                     "read control-token text such as <|im_start|> as the token");
        return [options](CommandIo& io) { return Run(*options, io); };
      },
  };
}

}  // namespace corral::cli
