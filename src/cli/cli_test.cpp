#include "cli/cli.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gguf/gguf_writer.h"
#include "testing/testdata.h"

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

TEST(CliTest, GgufListsMetadataAndTensors) {
  gguf::GgufWriter w;
  ASSERT_TRUE(w.Set("general.architecture", gguf::MetaValue::String("llama")).ok());
  ASSERT_TRUE(w.Set("llama.block_count", gguf::MetaValue::U32(5)).ok());
  std::vector<uint8_t> data(2 * 34);
  ASSERT_TRUE(w.AddTensor("blk.0.attn_q.weight", gguf::GgmlType::kQ8_0, {32, 2}, data).ok());
  std::string path = (std::filesystem::temp_directory_path() /
                      ("corral-cli-" + std::to_string(getpid()) + ".gguf"))
                         .string();
  ASSERT_TRUE(w.Write(path).ok());

  CliRun text = Cli({"gguf", path});
  EXPECT_EQ(text.code, kExitOk) << text.err;
  EXPECT_NE(text.out.find("tensors:    1 (68 B)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("general.architecture  string  \"llama\""), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("blk.0.attn_q.weight  q8_0     [32, 2]"), std::string::npos) << text.out;

  CliRun json = Cli({"gguf", "--json", path});
  EXPECT_EQ(json.code, kExitOk) << json.err;
  nlohmann::json j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["version"], 3);
  EXPECT_EQ(j["metadata"]["llama.block_count"], 5);
  EXPECT_EQ(j["tensors"][0]["type"], "q8_0");
  EXPECT_EQ(j["tensors"][0]["shape"], nlohmann::json::array({32, 2}));
  EXPECT_EQ(j["tensors"][0]["bytes"], 68);
  std::filesystem::remove(path);
}

TEST(CliTest, GgufErrors) {
  CliRun missing = Cli({"gguf", "/nonexistent.gguf"});
  EXPECT_EQ(missing.code, kExitFailure);
  EXPECT_EQ(missing.err, "Error: open /nonexistent.gguf: no such file\n");
  CliRun no_arg = Cli({"gguf"});
  EXPECT_EQ(no_arg.code, kExitUsage);
  EXPECT_NE(no_arg.err.find("FILE is required"), std::string::npos) << no_arg.err;
}

TEST(CliTest, QuantizeWritesTheRequestedTypeWithProgress) {
  gguf::GgufWriter w;
  ASSERT_TRUE(w.Set("general.architecture", gguf::MetaValue::String("llama")).ok());
  std::vector<float> weights(64 * 4), norm(64, 1.0f);
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = static_cast<float>(i % 17) - 8.0f;
  auto bytes = [](const std::vector<float>& v) {
    return std::span(reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(float));
  };
  ASSERT_TRUE(
      w.AddTensor("blk.0.attn_q.weight", gguf::GgmlType::kF32, {64, 4}, bytes(weights)).ok());
  ASSERT_TRUE(w.AddTensor("blk.0.attn_norm.weight", gguf::GgmlType::kF32, {64}, bytes(norm)).ok());
  auto dir = std::filesystem::temp_directory_path() / ("corral-cliq-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string in = (dir / "in.gguf").string(), out = (dir / "out.gguf").string();
  ASSERT_TRUE(w.Write(in).ok());

  CliRun run = Cli({"quantize", in, out, "Q8_0"});
  EXPECT_EQ(run.code, kExitOk) << run.err;
  EXPECT_NE(run.err.find("[1/2] blk.0.attn_norm.weight [64] f32, kept"), std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("[2/2] blk.0.attn_q.weight [64, 4] f32 -> q8_0"), std::string::npos)
      << run.err;
  EXPECT_NE(run.out.find("1 of 2 tensors converted"), std::string::npos) << run.out;
  CliRun info = Cli({"gguf", "--json", out});
  nlohmann::json j = nlohmann::json::parse(info.out);
  EXPECT_EQ(j["metadata"]["general.file_type"], 7);
  EXPECT_EQ(j["tensors"][1]["type"], "q8_0");

  CliRun bad_type = Cli({"quantize", in, out, "q9_9"});
  EXPECT_EQ(bad_type.code, kExitUsage);
  EXPECT_NE(bad_type.err.find("unknown quantization type \"q9_9\""), std::string::npos);
  CliRun missing = Cli({"quantize", (dir / "nope.gguf").string(), out, "q8_0"});
  EXPECT_EQ(missing.code, kExitFailure);
  EXPECT_NE(missing.err.find("no such file"), std::string::npos) << missing.err;
  std::filesystem::remove_all(dir);
}

TEST(CliTest, TokenizeStories) {
  REQUIRE_SHARED_TESTDATA(model, "models/stories260K.gguf");
  // Ids from llama.cpp (tests/reference/reference_harness_test.cpp checks the same string).
  CliRun ids = Cli({"tokenize", "--add-special", model, "Once upon a time"});
  EXPECT_EQ(ids.code, kExitOk) << ids.err;
  EXPECT_EQ(ids.out, "1 403 407 261 378\n");
  CliRun plain = Cli({"tokenize", model, "Once upon a time"});
  EXPECT_EQ(plain.out, "403 407 261 378\n");
  CliRun json = Cli({"tokenize", "--json", model, "Once upon a time"});
  EXPECT_EQ(nlohmann::json::parse(json.out)["tokens"], nlohmann::json::array({403, 407, 261, 378}));
  CliRun missing = Cli({"tokenize", "/nonexistent.gguf", "x"});
  EXPECT_EQ(missing.code, kExitFailure);
}

}  // namespace
}  // namespace corral::cli
