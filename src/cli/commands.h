// The verb table. Adding a verb: write its Command factory in its own file and add one line to
// Commands() in commands.cpp.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace corral::cli {

struct CommandIo {
  std::ostream& out;
  std::ostream& err;
};

// Runs a verb after its flags were parsed; returns the exit code.
using CommandAction = std::function<int(CommandIo& io)>;

struct Command {
  std::string name;
  std::vector<std::string> aliases;
  std::string summary;  // one line, shown in `corral --help`
  // Declares the verb's flags and positionals on `app` (whose name and description are set
  // already) and returns the action; the action may capture state the flags write into.
  std::function<CommandAction(CLI::App& app)> setup;
};

const std::vector<Command>& Commands();

// Factories, one per verb file.
Command BenchCommand();
Command CopyCommand();
Command CreateCommand();
Command GgufCommand();
Command ListCommand();
Command PsCommand();
Command PullCommand();
Command PushCommand();
Command QuantizeCommand();
Command RemoveCommand();
Command RunModelCommand();  // `run` (RunCommand is the dispatcher's name in cli.cpp)
Command ServeCommand();
Command ShowCommand();
Command StopCommand();
Command TokenizeCommand();

// Where `push` says the model now is (Ollama's PushHandler): the full name
// ("host/namespace/model:tag"), or its ollama.com page for Ollama's own registry.
std::string PushDestination(const std::string& model);

}  // namespace corral::cli
