// The `corral` binary as a user runs it: help, errors, version, serve and its shutdown, install.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <filesystem>
#include <thread>

#include <unistd.h>
#include <nlohmann/json.hpp>

#include "base/version.h"
#include "modelgen/model_factory.h"
#include "testing/subprocess.h"

namespace corral::testing {
namespace {

std::string Host(int port) { return "127.0.0.1:" + std::to_string(port); }

ProcessResult Corral(const std::vector<std::string>& args,
                     const std::map<std::string, std::string>& env = {}) {
  std::vector<std::string> argv = {CORRAL_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = RunProcess(argv, env, "", std::chrono::seconds(30));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : ProcessResult{};
}

// Waits until GET / answers on the port.
bool WaitForServer(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::milliseconds(200));
  for (int i = 0; i < 300; ++i) {
    if (auto res = client.Get("/"); res && res->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST(CliE2eTest, UnknownVerbExits2) {
  ProcessResult r = Corral({"bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command \"bogus\" for \"corral\""), std::string::npos) << r.err;
}

TEST(CliE2eTest, HelpListsServe) {
  ProcessResult r = Corral({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("serve"), std::string::npos) << r.out;
}

TEST(CliE2eTest, VersionWithoutServerWarnsAndSucceeds) {
  int port = FreeLoopbackPort();
  ProcessResult r = Corral({"--version"}, {{"OLLAMA_HOST", Host(port)}});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, std::string("Warning: could not connect to a running Ollama instance\n"
                               "Warning: client version is ") +
                       kVersion + "\n");
}

TEST(CliE2eTest, ServeAnswersAndStopsOnSigterm) {
  int port = FreeLoopbackPort();
  auto server = ChildProcess::Start({CORRAL_BINARY, "serve"}, {{"OLLAMA_HOST", Host(port)}});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_TRUE(WaitForServer(port)) << server->ReadStderr();

  ProcessResult version = Corral({"-v"}, {{"OLLAMA_HOST", Host(port)}});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out, std::string("corral version is ") + kVersion + "\n");
  EXPECT_EQ(version.err, "");

  // A second server on the same address fails at once with a clear message.
  ProcessResult second = Corral({"serve"}, {{"OLLAMA_HOST", Host(port)}});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("Error: listen tcp " + Host(port) + ": bind: Address already in use"),
            std::string::npos)
      << second.err;

  server->Signal(SIGTERM);
  auto code = server->Wait(std::chrono::seconds(10));
  ASSERT_TRUE(code.ok()) << "serve did not stop on SIGTERM";
  EXPECT_EQ(*code, 0);
  std::string log = server->ReadStderr();
  EXPECT_NE(log.find("Listening on " + Host(port)), std::string::npos) << log;
  EXPECT_NE(log.find("msg=request status=200"), std::string::npos) << log;
  EXPECT_NE(log.find("path=/api/version"), std::string::npos) << log;
}

TEST(CliE2eTest, ServeStopsOnSigint) {
  int port = FreeLoopbackPort();
  auto server = ChildProcess::Start({CORRAL_BINARY, "serve"}, {{"OLLAMA_HOST", Host(port)}});
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE(WaitForServer(port)) << server->ReadStderr();
  server->Signal(SIGINT);
  auto code = server->Wait(std::chrono::seconds(10));
  ASSERT_TRUE(code.ok()) << "serve did not stop on SIGINT";
  EXPECT_EQ(*code, 0);
}

TEST(CliE2eTest, InstallGivesAWorkingBinary) {
  std::filesystem::path prefix =
      std::filesystem::temp_directory_path() / ("corral-install-" + std::to_string(getpid()));
  std::filesystem::remove_all(prefix);
  auto install =
      RunProcess({CMAKE_COMMAND_PATH, "--install", CORRAL_BUILD_DIR, "--prefix", prefix.string()});
  ASSERT_TRUE(install.ok());
  ASSERT_EQ(install->exit_code, 0) << install->out << install->err;
  std::string binary = (prefix / "bin" / "corral").string();
  auto version = RunProcess({binary, "--version"}, {{"OLLAMA_HOST", Host(FreeLoopbackPort())}});
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->exit_code, 0);
  EXPECT_NE(version->err.find(std::string("client version is ") + kVersion), std::string::npos);
  std::filesystem::remove_all(prefix);
}

}  // namespace
}  // namespace corral::testing

namespace corral::testing {
namespace {

// `corral bench` on a tiny random model: JSON with positive speeds, and clear errors.
TEST(CliE2eTest, BenchMeasuresATinyModelAndRefusesBadInput) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("corral-bench-e2e-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto spec = modelgen::TinySpec("llama");
  ASSERT_TRUE(spec.ok());
  auto model = modelgen::MakeModel(*spec, quantize::FileType::kQ8_0, dir.string(), 1);
  ASSERT_TRUE(model.ok()) << model.status().ToString();

  ProcessResult r = Corral({"bench", *model, "-p", "16", "-n", "4", "-r", "2", "-t", "1", "--json"},
                           {{"OLLAMA_KV_CACHE_TYPE", "q8_0"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto json = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << r.out;
  EXPECT_EQ(json["kv_type"], "q8_0");
  EXPECT_EQ(json["pp"]["n"], 16);
  EXPECT_EQ(json["pp"]["tokens_per_s"].size(), 2u);
  EXPECT_GT(json["pp"]["median"].get<double>(), 0.0);
  EXPECT_GT(json["tg"]["min"].get<double>(), 0.0);
  EXPECT_GT(json["peak_rss_bytes"].get<uint64_t>(), 0u);

  r = Corral({"bench", *model, "--kv-type", "q3_0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("q3_0"), std::string::npos) << r.err;
  r = Corral({"bench", *model, "-r", "0"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = Corral({"bench", (dir / "missing.gguf").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.gguf"), std::string::npos) << r.err;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace corral::testing
