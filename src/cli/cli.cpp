#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iomanip>

#include "base/strings.h"
#include "cli/commands.h"
#include "cli/version_check.h"
#include "config/env_config.h"

namespace corral::cli {
namespace {

const Command* FindCommand(std::string_view name) {
  for (const Command& c : Commands()) {
    if (c.name == name) return &c;
    for (const std::string& alias : c.aliases) {
      if (alias == name) return &c;
    }
  }
  return nullptr;
}

void PrintRootHelp(std::ostream& out) {
  out << "Large language model runner: Corral serves and runs models locally and speaks "
         "Ollama's API.\n\n"
         "Usage:\n"
         "  corral [flags]\n"
         "  corral [command]\n\n"
         "Available Commands:\n";
  std::vector<std::pair<std::string, std::string>> rows;
  for (const Command& c : Commands()) rows.emplace_back(c.name, c.summary);
  rows.emplace_back("help", "Help about any command");
  std::sort(rows.begin(), rows.end());
  for (const auto& [name, summary] : rows) {
    out << "  " << std::left << std::setw(12) << name << summary << "\n";
  }
  out << "\nFlags:\n"
         "  -h, --help      help for corral\n"
         "  -v, --version   Show version information\n\n"
         "Use \"corral [command] --help\" for more information about a command.\n";
}

// Cobra-style "Did you mean this?" for a mistyped verb.
void SuggestCommands(std::string_view typed, std::ostream& err) {
  std::vector<std::string> suggestions;
  for (const Command& c : Commands()) {
    if (EditDistance(typed, c.name) <= 2 || (typed.size() >= 2 && StartsWith(c.name, typed))) {
      suggestions.push_back(c.name);
    }
  }
  if (suggestions.empty()) return;
  err << "\nDid you mean this?\n";
  for (const std::string& s : suggestions) err << "\t" << s << "\n";
}

std::unique_ptr<CLI::App> MakeCommandApp(const Command& command, CommandAction* action) {
  auto app = std::make_unique<CLI::App>(command.summary, "corral " + command.name);
  app->set_help_flag("-h,--help", "help for " + command.name);
  *action = command.setup(*app);
  return app;
}

int RunCommand(const Command& command, const std::vector<std::string>& args, std::ostream& out,
               std::ostream& err) {
  CommandAction action;
  std::unique_ptr<CLI::App> app = MakeCommandApp(command, &action);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 parses back to front
  try {
    app->parse(reversed);
  } catch (const CLI::CallForHelp&) {
    out << app->help();
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    err << "Error: " << e.what() << "\n";
    err << "Run 'corral " << command.name << " --help' for usage.\n";
    return kExitUsage;
  }
  CommandIo io{out, err};
  return action(io);
}

int RunHelp(const std::vector<std::string>& topics, std::ostream& out, std::ostream& err) {
  if (topics.empty()) {
    PrintRootHelp(out);
    return kExitOk;
  }
  const Command* command = FindCommand(topics[0]);
  if (command == nullptr) {
    err << "Unknown help topic \"" << topics[0] << "\"\n";
    SuggestCommands(topics[0], err);
    err << "Run 'corral --help' for usage.\n";
    return kExitUsage;
  }
  CommandAction unused;
  out << MakeCommandApp(*command, &unused)->help();
  return kExitOk;
}

}  // namespace

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    PrintRootHelp(out);
    return kExitOk;
  }
  const std::string& first = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (first == "-h" || first == "--help") {
    PrintRootHelp(out);
    return kExitOk;
  }
  if (first == "-v" || first == "--version") return PrintVersion(config::Host(), out, err);
  if (first == "help") return RunHelp(rest, out, err);
  if (StartsWith(first, "-")) {
    err << "Error: unknown flag: " << first << "\n";
    err << "Run 'corral --help' for usage.\n";
    return kExitUsage;
  }
  const Command* command = FindCommand(first);
  if (command == nullptr) {
    err << "Error: unknown command \"" << first << "\" for \"corral\"\n";
    SuggestCommands(first, err);
    err << "Run 'corral --help' for usage.\n";
    return kExitUsage;
  }
  return RunCommand(*command, rest, out, err);
}

}  // namespace corral::cli
