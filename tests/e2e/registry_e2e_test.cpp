// /api/push and /api/pull of `corral serve` against a real registry: Debian's docker-registry
// (distribution v2.8) on a loopback port (reference-and-testdata.md §3). A model made from
// stories260K is pushed, deleted locally and pulled back: the manifest and blobs come back byte
// for byte and the model generates the same text as before. Skips without
// /usr/bin/docker-registry (scripts/install-deps.sh installs it) or without the test data.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <csignal>
#include <iostream>
#include <mutex>
#include <utility>
#include <vector>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "base/check.h"
#include "store/digest.h"
#include "store/manifest.h"
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

// A TCP proxy between corral and the registry. It counts the bytes the registry sends through it
// (what corral downloads, HTTP headers included: a slight overcount) and, with a budget, stops
// forwarding them once the budget is reached: a pull held still at a known point.
class CountingProxy {
 public:
  explicit CountingProxy(int upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = Loopback(0);
    CHECK(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    CHECK(listen(listen_fd_, 64) == 0);
    socklen_t len = sizeof addr;
    CHECK(getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~CountingProxy() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    accept_thread_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
    close(listen_fd_);
  }

  int port() const { return port_; }
  // Bytes from the registry forwarded since the last Reset; Reset returns them.
  int64_t Downloaded() {
    std::lock_guard lock(mu_);
    return downloaded_;
  }
  int64_t Reset() {
    std::lock_guard lock(mu_);
    return std::exchange(downloaded_, 0);
  }
  // 0: no budget.
  void SetBudget(int64_t budget) {
    {
      std::lock_guard lock(mu_);
      budget_ = budget;
    }
    cv_.notify_all();
  }
  bool Paused() {
    std::lock_guard lock(mu_);
    return budget_ > 0 && downloaded_ >= budget_;
  }

 private:
  static sockaddr_in Loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    return addr;
  }
  bool Stopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }
  // Waits up to 100 ms for `fd` to be readable.
  static bool Readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, 100) > 0;
  }

  void AcceptLoop() {
    while (!Stopping()) {
      if (!Readable(listen_fd_)) continue;
      int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      int upstream = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr = Loopback(upstream_port_);
      if (connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(upstream);
        close(client);
        continue;
      }
      // Both directions share the two descriptors; the last one out closes them.
      auto fds = std::shared_ptr<std::pair<int, int>>(new std::pair<int, int>(client, upstream),
                                                      [](std::pair<int, int>* p) {
                                                        close(p->first);
                                                        close(p->second);
                                                        delete p;
                                                      });
      std::lock_guard lock(mu_);
      threads_.emplace_back([this, fds] { Pipe(fds->first, fds->second, false); });
      threads_.emplace_back([this, fds] { Pipe(fds->second, fds->first, true); });
    }
  }

  void Pipe(int from, int to, bool count) {
    std::vector<char> buf(256 << 10);
    while (!Stopping()) {
      if (!Readable(from)) continue;
      ssize_t n = recv(from, buf.data(), buf.size(), 0);
      if (n <= 0) break;
      if (count) {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || budget_ == 0 || downloaded_ < budget_; });
        if (stopping_) break;
      }
      ssize_t sent = 0;
      while (sent < n) {
        ssize_t k = send(to, buf.data() + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
        if (k <= 0) break;
        sent += k;
      }
      if (count) {
        std::lock_guard lock(mu_);
        downloaded_ += sent;
      }
      if (sent < n) break;
    }
    // The other direction ends too (a dead peer on one side is dead for both).
    shutdown(from, SHUT_RDWR);
    shutdown(to, SHUT_RDWR);
  }

  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread accept_thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread> threads_;
  int64_t downloaded_ = 0;
  int64_t budget_ = 0;
  bool stopping_ = false;
};

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
    ASSERT_NO_FATAL_FAILURE(StartServer());
  }

  // `corral serve` on a fresh port over the test's store.
  void StartServer() {
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

  fs::path ManifestPath(const std::string& ns, const std::string& model, const std::string& tag,
                        int port = 0) {
    return dir_ / "models" / "manifests" /
           ("127.0.0.1:" + std::to_string(port != 0 ? port : registry_port_)) / ns / model / tag;
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

// Issue 10: "Kill the server during the pull of a model of 200 MB or more, restart it, pull
// again: it resumes and re-downloads at most one part." The model (a 250 MB random layer: the
// pull does not read GGUF) is written into the store, pushed to the registry and deleted; the
// pull goes through a CountingProxy that stops the registry's bytes after 200 MB, so the server
// is SIGKILLed mid-pull at a known point. The bytes the proxy forwards in both pulls, less the
// layer's size, are what was downloaded twice.
TEST_F(RegistryE2eTest, KilledPullResumesAfterRestart) {
  constexpr int64_t kLayerBytes = 250'000'000;
  // Ollama's part size: 250 MB / 16 clamped to [100 MB, 1000 MB]; parts of 100, 100 and 50 MB.
  constexpr int64_t kPartBytes = 100'000'000;
  constexpr int64_t kBudget = 200'000'000;
  CountingProxy proxy(registry_port_);
  const std::string host = "127.0.0.1:" + std::to_string(proxy.port());
  const std::string name = host + "/ns/big:v1";

  // The model, straight into the store: random layer, small config, manifest.
  const fs::path blobs = dir_ / "models" / "blobs";
  fs::create_directories(blobs);
  store::Manifest manifest;
  {
    const fs::path temp = blobs / "layer.tmp";
    std::ofstream out(temp, std::ios::binary);
    store::Sha256 hash;
    std::vector<uint64_t> chunk((4 << 20) / sizeof(uint64_t));
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int64_t done = 0; done < kLayerBytes;) {
      for (uint64_t& v : chunk) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v = x;
      }
      size_t n = static_cast<size_t>(
          std::min<int64_t>(kLayerBytes - done, static_cast<int64_t>(chunk.size() * 8)));
      out.write(reinterpret_cast<const char*>(chunk.data()), static_cast<std::streamsize>(n));
      hash.Update(chunk.data(), n);
      done += static_cast<int64_t>(n);
    }
    ASSERT_TRUE(out.flush());
    store::Digest digest = hash.Finish();
    fs::rename(temp, blobs / digest.Filename());
    manifest.layers.push_back({std::string(store::kMediaTypeModel), digest, kLayerBytes, "", ""});
    const std::string config = R"({"model_format":"gguf","model_family":"llama"})";
    store::Digest config_digest = store::Sha256Of(config);
    std::ofstream(blobs / config_digest.Filename(), std::ios::binary) << config;
    manifest.config = {std::string(store::kMediaTypeConfig), config_digest,
                       static_cast<int64_t>(config.size()), "", ""};
    const fs::path manifest_path = ManifestPath("ns", "big", "v1", proxy.port());
    fs::create_directories(manifest_path.parent_path());
    std::ofstream(manifest_path, std::ios::binary) << store::SerializeManifest(manifest);
  }
  const store::Digest layer = manifest.layers[0].digest;
  const fs::path final_blob = blobs / layer.Filename();
  const fs::path partial = final_blob.string() + "-partial";

  std::vector<json> pushed = Stream("/api/push", {{"model", name}, {"insecure", true}});
  ASSERT_FALSE(pushed.empty());
  ASSERT_EQ(pushed.back().value("status", ""), "success") << pushed.back().dump();
  {
    httplib::Client client = Client();
    auto res = client.Delete("/api/delete", json{{"model", name}}.dump(), "application/json");
    ASSERT_TRUE(res && res->status == 200) << (res ? res->body : "no reply");
  }
  ASSERT_FALSE(fs::exists(final_blob));

  // First pull: held at 200 MB (parts at about 75, 75 and 50 MB), then the server is killed.
  proxy.Reset();
  proxy.SetBudget(kBudget);
  std::thread first([&] { Stream("/api/pull", {{"model", name}, {"insecure", true}}); });
  for (int i = 0; i < 6000 && !proxy.Paused(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  bool paused = proxy.Paused();
  if (paused) std::this_thread::sleep_for(std::chrono::milliseconds(500));  // corral drains
  server_->Signal(SIGKILL);
  ASSERT_TRUE(server_->Wait(std::chrono::seconds(10)).ok());
  first.join();
  ASSERT_TRUE(paused) << "the pull never reached " << kBudget << " bytes";
  const int64_t first_bytes = proxy.Reset();
  proxy.SetBudget(0);
  ASSERT_FALSE(fs::exists(final_blob));
  ASSERT_TRUE(fs::exists(partial));
  // What the part files say is on disk (Ollama's {"N","Offset","Size","Completed"}).
  int64_t saved = 0;
  int parts = 0;
  for (;; ++parts) {
    fs::path part = partial.string() + "-" + std::to_string(parts);
    if (!fs::exists(part)) break;
    saved += json::parse(ReadFile(part)).value("Completed", int64_t{0});
  }
  EXPECT_EQ(parts, 3);
  EXPECT_GE(saved, first_bytes - kPartBytes) << "first pull: " << first_bytes << " bytes";

  // Restart over the same store, pull again.
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::vector<json> pulled = Stream("/api/pull", {{"model", name}, {"insecure", true}});
  ASSERT_FALSE(pulled.empty());
  ASSERT_EQ(pulled.back().value("status", ""), "success") << pulled.back().dump();
  const int64_t second_bytes = proxy.Downloaded();
  const int64_t again = first_bytes + second_bytes - kLayerBytes;
  RecordProperty("first_pull_bytes", std::to_string(first_bytes));
  RecordProperty("second_pull_bytes", std::to_string(second_bytes));
  std::cout << "first pull " << first_bytes << " bytes (" << saved << " saved in part files), "
            << "second pull " << second_bytes << " bytes: " << again << " bytes downloaded twice\n";
  EXPECT_LE(again, kPartBytes);
  EXPECT_GE(again, 0);

  EXPECT_EQ(ReadFile(ManifestPath("ns", "big", "v1", proxy.port())),
            store::SerializeManifest(manifest));
  auto digest = store::Sha256OfFile(final_blob.string());
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(*digest, layer);
  for (const auto& entry : fs::directory_iterator(blobs)) {
    EXPECT_EQ(entry.path().filename().string().find("partial"), std::string::npos) << entry.path();
  }
}

}  // namespace
}  // namespace corral::testing
