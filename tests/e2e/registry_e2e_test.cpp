// /api/push and /api/pull of `corral serve` against a real registry: Debian's docker-registry
// (distribution v2.8) on a loopback port (reference-and-testdata.md §3). A model made from
// stories260K is pushed, deleted locally and pulled back: the manifest and blobs come back byte
// for byte and the model generates the same text as before. Skips without
// /usr/bin/docker-registry (scripts/install-deps.sh installs it) or without the test data.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "store/digest.h"
#include "testing/subprocess.h"
#include "testing/testdata.h"

namespace corral::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kRegistryBinary[] = "/usr/bin/docker-registry";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WaitForHttp(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::milliseconds(200));
  for (int i = 0; i < 500; ++i) {
    if (auto res = client.Get(path); res && res->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

class RegistryE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kRegistryBinary)) {
      GTEST_SKIP() << kRegistryBinary
                   << " is missing: install Debian's docker-registry (scripts/install-deps.sh)";
    }
    dir_ = fs::temp_directory_path() / ("corral-registry-e2e-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data");
    fs::create_directories(dir_ / "models");
    registry_port_ = FreeLoopbackPort();
    {
      // Only what the test needs: filesystem storage on loopback, no auth.
      std::ofstream config(dir_ / "config.yml");
      config << "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: "
             << (dir_ / "data").string()
             << "\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:" << registry_port_
             << "\n";
    }
    auto registry = ChildProcess::Start({kRegistryBinary, "serve", (dir_ / "config.yml").string()});
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    registry_ = std::make_unique<ChildProcess>(std::move(*registry));
    ASSERT_TRUE(WaitForHttp(registry_port_, "/v2/")) << registry_->ReadStderr();

    port_ = FreeLoopbackPort();
    auto server = ChildProcess::Start({CORRAL_BINARY, "serve"},
                                      {{"OLLAMA_HOST", "127.0.0.1:" + std::to_string(port_)},
                                       {"OLLAMA_MODELS", (dir_ / "models").string()}});
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::make_unique<ChildProcess>(std::move(*server));
    ASSERT_TRUE(WaitForHttp(port_, "/")) << server_->ReadStderr();
  }

  void TearDown() override {
    server_.reset();  // kills and reaps
    registry_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  httplib::Client Client() {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(std::chrono::seconds(300));
    return client;
  }

  json Post(const std::string& path, const json& body) {
    httplib::Client client = Client();
    auto res = client.Post(path, body.dump(), "application/json");
    if (!res) return json{{"transport_error", httplib::to_string(res.error())}};
    json decoded = json::parse(res->body, nullptr, false);
    return decoded.is_discarded() ? json{{"status", res->status}, {"body", res->body}} : decoded;
  }

  // A streamed request's NDJSON lines.
  std::vector<json> Stream(const std::string& path, const json& body) {
    httplib::Client client = Client();
    auto res = client.Post(path, body.dump(), "application/json");
    std::vector<json> lines;
    if (!res) return {json{{"transport_error", httplib::to_string(res.error())}}};
    std::istringstream in(res->body);
    for (std::string line; std::getline(in, line);) {
      lines.push_back(json::parse(line, nullptr, false));
    }
    return lines;
  }

  fs::path ManifestPath(const std::string& ns, const std::string& model, const std::string& tag) {
    return dir_ / "models" / "manifests" / ("127.0.0.1:" + std::to_string(registry_port_)) / ns /
           model / tag;
  }

  fs::path dir_;
  int registry_port_ = 0;
  int port_ = 0;
  std::unique_ptr<ChildProcess> registry_;
  std::unique_ptr<ChildProcess> server_;
};

std::vector<std::string> Statuses(const std::vector<json>& lines) {
  std::vector<std::string> out;
  for (const json& line : lines) {
    if (line.contains("error")) out.push_back("error: " + line["error"].get<std::string>());
    if (line.contains("status")) out.push_back(line["status"].get<std::string>());
  }
  return out;
}

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST_F(RegistryE2eTest, PushDeletePullRoundTrip) {
  REQUIRE_SHARED_TESTDATA(gguf, "models/stories260K.gguf");
  // The model: the GGUF uploaded as a blob, then created with a few parameters.
  auto digest = store::Sha256OfFile(gguf);
  ASSERT_TRUE(digest.ok());
  {
    httplib::Client client = Client();
    std::string bytes = ReadFile(gguf);
    auto res = client.Post("/api/blobs/" + digest->String(), bytes, "application/octet-stream");
    ASSERT_TRUE(res && res->status == 201) << (res ? res->body : "no reply");
  }
  const std::string name = "127.0.0.1:" + std::to_string(registry_port_) + "/ns/stories:v1";
  json created = Post("/api/create", {{"model", name},
                                      {"files", {{"stories260K.gguf", digest->String()}}},
                                      {"parameters", {{"temperature", 0}, {"num_predict", 24}}},
                                      {"stream", false}});
  ASSERT_EQ(created.value("status", ""), "success") << created.dump();
  const json generate = {{"model", name}, {"prompt", "Once upon a time"}, {"stream", false}};
  json before = Post("/api/generate", generate);
  ASSERT_TRUE(before.contains("response")) << before.dump();
  ASSERT_FALSE(before["response"].get<std::string>().empty());

  // Without insecure an http registry is refused... and the name has no scheme, so https is
  // tried against a plain-http port: an error either way, nothing pushed.
  std::vector<json> refused = Stream("/api/push", {{"model", "http://" + name}});
  ASSERT_FALSE(refused.empty());
  EXPECT_EQ(refused.back().value("error", ""), "insecure protocol http") << refused.back().dump();

  std::vector<json> pushed = Stream("/api/push", {{"model", name}, {"insecure", true}});
  std::vector<std::string> push_statuses = Statuses(pushed);
  ASSERT_FALSE(push_statuses.empty());
  EXPECT_EQ(push_statuses.front(), "retrieving manifest");
  EXPECT_TRUE(Has(push_statuses, "pushing " + digest->hex().substr(0, 12)));
  EXPECT_TRUE(Has(push_statuses, "pushing manifest"));
  ASSERT_EQ(push_statuses.back(), "success") << pushed.back().dump();

  const fs::path manifest_path = ManifestPath("ns", "stories", "v1");
  const std::string manifest = ReadFile(manifest_path);
  ASSERT_FALSE(manifest.empty());
  json parsed = json::parse(manifest);
  std::map<std::string, std::string> blobs;  // digest -> bytes
  for (const json& layer : parsed["layers"]) {
    std::string d = layer["digest"];
    blobs[d] = ReadFile(dir_ / "models" / "blobs" / ("sha256-" + d.substr(7)));
  }
  std::string config_digest = parsed["config"]["digest"];
  blobs[config_digest] =
      ReadFile(dir_ / "models" / "blobs" / ("sha256-" + config_digest.substr(7)));
  {
    // The registry serves the manifest byte for byte.
    httplib::Client reg("127.0.0.1", registry_port_);
    auto res = reg.Get("/v2/ns/stories/manifests/v1",
                       {{"Accept", "application/vnd.docker.distribution.manifest.v2+json"}});
    ASSERT_TRUE(res && res->status == 200);
    EXPECT_EQ(res->body, manifest);
  }

  // A second push finds every blob on the registry.
  std::vector<json> again = Stream("/api/push", {{"model", name}, {"insecure", true}});
  EXPECT_EQ(Statuses(again).back(), "success");

  // Delete locally: the manifest and the blobs go.
  {
    httplib::Client client = Client();
    auto res = client.Delete("/api/delete", json{{"model", name}}.dump(), "application/json");
    ASSERT_TRUE(res && res->status == 200) << (res ? res->body : "no reply");
  }
  ASSERT_FALSE(fs::exists(manifest_path));
  for (const auto& [d, bytes] : blobs) {
    ASSERT_FALSE(fs::exists(dir_ / "models" / "blobs" / ("sha256-" + d.substr(7)))) << d;
  }

  std::vector<json> pulled = Stream("/api/pull", {{"model", name}, {"insecure", true}});
  std::vector<std::string> pull_statuses = Statuses(pulled);
  ASSERT_FALSE(pull_statuses.empty());
  EXPECT_EQ(pull_statuses.front(), "pulling manifest");
  EXPECT_TRUE(Has(pull_statuses, "pulling " + digest->hex().substr(0, 12)));
  EXPECT_TRUE(Has(pull_statuses, "verifying sha256 digest"));
  EXPECT_TRUE(Has(pull_statuses, "writing manifest"));
  ASSERT_EQ(pull_statuses.back(), "success") << pulled.back().dump();
  for (const json& line : pulled) {
    if (line.value("status", "") == "pulling " + digest->hex().substr(0, 12)) {
      EXPECT_EQ(line["digest"], digest->String());
      EXPECT_EQ(line["total"], blobs[digest->String()].size());
    }
  }

  EXPECT_EQ(ReadFile(manifest_path), manifest);
  for (const auto& [d, bytes] : blobs) {
    EXPECT_EQ(ReadFile(dir_ / "models" / "blobs" / ("sha256-" + d.substr(7))), bytes) << d;
  }
  // Only final blobs: no partial files left.
  for (const auto& entry : fs::directory_iterator(dir_ / "models" / "blobs")) {
    EXPECT_EQ(entry.path().filename().string().find("partial"), std::string::npos) << entry.path();
  }

  json after = Post("/api/generate", generate);
  ASSERT_TRUE(after.contains("response")) << after.dump();
  EXPECT_EQ(after["response"], before["response"]);

  // Non-streamed pull of a tag the registry does not have.
  json missing = Post(
      "/api/pull", {{"model", "127.0.0.1:" + std::to_string(registry_port_) + "/ns/stories:nope"},
                    {"insecure", true},
                    {"stream", false}});
  EXPECT_EQ(missing.value("error", ""), "pull model manifest: file does not exist")
      << missing.dump();
  json invalid = Post("/api/pull", {{"model", "a/../b"}});
  EXPECT_EQ(invalid.value("error", ""), "invalid model name");
  json push_missing = Post("/api/push", json::object());
  EXPECT_EQ(push_missing.value("error", ""), "model is required");
}

}  // namespace
}  // namespace corral::testing
