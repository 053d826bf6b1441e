#include "cli/cli.h"

#include <gtest/gtest.h>

#include <sstream>

namespace corral::cli {
namespace {

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

CliRun Cli(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = RunCli(args, out, err);
  return {code, out.str(), err.str()};
}

TEST(CliTest, NoArgumentsPrintsHelp) {
  CliRun r = Cli({});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("Usage:\n  corral [flags]\n  corral [command]"), std::string::npos);
  EXPECT_NE(r.out.find("\n  serve       Start corral\n"), std::string::npos) << r.out;
}

TEST(CliTest, HelpFlagAndHelpVerbAgree) {
  CliRun flag = Cli({"--help"});
  CliRun verb = Cli({"help"});
  EXPECT_EQ(flag.code, kExitOk);
  EXPECT_EQ(flag.out, verb.out);
  EXPECT_EQ(Cli({"-h"}).out, flag.out);
}

TEST(CliTest, HelpForAVerb) {
  CliRun r = Cli({"help", "serve"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("Start corral"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("OLLAMA_HOST"), std::string::npos) << r.out;
  EXPECT_EQ(Cli({"serve", "--help"}).out, r.out);
  EXPECT_EQ(Cli({"help", "start"}).out, r.out) << "aliases reach the same verb";
}

TEST(CliTest, UnknownVerbExits2WithSuggestion) {
  CliRun r = Cli({"srve"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(r.err,
            "Error: unknown command \"srve\" for \"corral\"\n\nDid you mean this?\n\tserve\n"
            "Run 'corral --help' for usage.\n");
}

TEST(CliTest, UnknownVerbWithoutNeighbourHasNoSuggestion) {
  CliRun r = Cli({"frobnicate"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err.find("Did you mean"), std::string::npos);
  EXPECT_NE(r.err.find("unknown command \"frobnicate\""), std::string::npos);
}

TEST(CliTest, UnknownHelpTopicExits2) {
  CliRun r = Cli({"help", "nope"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.err.find("Unknown help topic \"nope\""), std::string::npos);
}

TEST(CliTest, UnknownFlagsExit2) {
  CliRun root = Cli({"--frob"});
  EXPECT_EQ(root.code, kExitUsage);
  EXPECT_NE(root.err.find("unknown flag: --frob"), std::string::npos);
  CliRun verb = Cli({"serve", "--frob"});
  EXPECT_EQ(verb.code, kExitUsage);
  EXPECT_NE(verb.err.find("--frob"), std::string::npos) << verb.err;
  EXPECT_NE(verb.err.find("corral serve --help"), std::string::npos) << verb.err;
}

}  // namespace
}  // namespace corral::cli
