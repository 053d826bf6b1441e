// Helpers the end-to-end tests share: waiting for a server to answer, Debian's docker-registry
// on a loopback port, and stand-in Ollama servers: one whose /api/generate never answers (for
// Ctrl+C while a model "loads"), one that records what `run` sends. Header-only: each test
// binary includes what it uses.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "testing/subprocess.h"

namespace corral::testing {

// Polls GET `path` on 127.0.0.1:`port` for up to 10 s; whether it answered 200.
inline bool WaitForHttp(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::milliseconds(200));
  for (int i = 0; i < 500; ++i) {
    if (auto res = client.Get(path); res && res->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

inline constexpr char kDockerRegistryBinary[] = "/usr/bin/docker-registry";

// Debian's docker-registry (distribution v2.8) serving plain http on 127.0.0.1 with filesystem
// storage under `dir` and no auth (reference-and-testdata.md §3). Tests skip when it is absent.
class DockerRegistry {
 public:
  static bool Available() { return std::filesystem::exists(kDockerRegistryBinary); }

  explicit DockerRegistry(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // Starts it and waits until /v2/ answers; a fatal failure (check HasFatalFailure) if not.
  void Start() {
    std::filesystem::create_directories(dir_ / "data");
    port_ = FreeLoopbackPort();
    {
      std::ofstream config(dir_ / "config.yml");
      config << "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: "
             << (dir_ / "data").string()
             << "\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:" << port_ << "\n";
    }
    auto child =
        ChildProcess::Start({kDockerRegistryBinary, "serve", (dir_ / "config.yml").string()});
    ASSERT_TRUE(child.ok()) << child.status().ToString();
    child_ = std::make_unique<ChildProcess>(std::move(*child));
    ASSERT_TRUE(WaitForHttp(port_, "/v2/")) << child_->ReadStderr();
  }

  int port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::filesystem::path dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> child_;  // killed and reaped with this
};

// Answers like an Ollama server for one completion model (HEAD /, /api/show), but holds every
// POST to the stalled route (/api/generate: a model "loading"; or /api/chat: a reply that has
// not started) open without a byte until released or the client goes away. With /api/chat
// stalled, /api/generate answers a load at once.
class StalledServer {
 public:
  explicit StalledServer(const std::string& stalled_route = "/api/generate") {
    server_.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("Ollama is running", "text/plain");
    });
    server_.Post("/api/show", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"capabilities":["completion"],"details":{"format":"gguf"}})",
                      "application/json");
    });
    if (stalled_route != "/api/generate") {
      server_.Post("/api/generate", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(R"({"model":"m","done":true,"done_reason":"load"})"
                        "\n",
                        "application/x-ndjson");
      });
    }
    server_.Post(stalled_route, [this](const httplib::Request&, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++stalled_requests_;
      }
      cv_.notify_all();
      res.set_chunked_content_provider(
          "application/x-ndjson", [this](size_t, httplib::DataSink& sink) {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait_for(lock, std::chrono::milliseconds(50), [this] { return released_; });
            if (released_ || !sink.is_writable()) {
              sink.done();
              return false;
            }
            return true;  // called again: keep the reply open, empty
          });
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Bound already, so connections queue; wait only so stop() cannot come first.
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  ~StalledServer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  int port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

  // Waits up to `timeout` until the stalled route has had `count` requests.
  bool WaitForStalled(std::chrono::milliseconds timeout, int count = 1) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return stalled_requests_ >= count; });
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  int stalled_requests_ = 0;
  bool released_ = false;
};

// Answers like an Ollama server for one model whose /api/show reply is `show`, replying to
// POST /api/generate with one NDJSON line ({"response": `response`, "done": true}) and keeping
// the request's body for the test to check.
class RecordingServer {
 public:
  RecordingServer(std::string show, std::string response) {
    server_.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("Ollama is running", "text/plain");
    });
    server_.Post("/api/show", [show](const httplib::Request&, httplib::Response& res) {
      res.set_content(show, "application/json");
    });
    server_.Post("/api/generate",
                 [this, response](const httplib::Request& req, httplib::Response& res) {
                   {
                     std::lock_guard<std::mutex> lock(mu_);
                     generate_bodies_.push_back(req.body);
                   }
                   nlohmann::json line = {{"model", "m"}, {"response", response}, {"done", true}};
                   res.set_content(line.dump() + "\n", "application/x-ndjson");
                 });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  ~RecordingServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

  // The bodies of the POST /api/generate requests so far, decoded.
  std::vector<nlohmann::json> GenerateBodies() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<nlohmann::json> out;
    for (const std::string& body : generate_bodies_) {
      out.push_back(nlohmann::json::parse(body, nullptr, false));
    }
    return out;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<std::string> generate_bodies_;
};

}  // namespace corral::testing
