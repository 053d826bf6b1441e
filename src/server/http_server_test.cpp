#include "server/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "base/version.h"

namespace corral::server {
namespace {

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<Server>(ServerOptions{"127.0.0.1", 0});
    ASSERT_TRUE(server_->Bind().ok());
    thread_ = std::thread([this] { serve_status_ = server_->Serve(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    for (int i = 0; i < 200 && !client_->Get("/"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  void TearDown() override {
    server_->Shutdown();
    thread_.join();
    EXPECT_TRUE(serve_status_.ok()) << serve_status_.ToString();
  }

  std::unique_ptr<Server> server_;
  std::thread thread_;
  Status serve_status_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ServerTest, RootSaysOllamaIsRunning) {
  auto res = client_->Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "Ollama is running");
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; charset=utf-8");
}

TEST_F(ServerTest, HeadRootHasNoBody) {
  auto res = client_->Head("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(res->body.empty());
}

TEST_F(ServerTest, VersionIsJson) {
  auto res = client_->Get("/api/version");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json; charset=utf-8");
  nlohmann::json body = nlohmann::json::parse(res->body);
  EXPECT_EQ(body, (nlohmann::json{{"version", kVersion}}));
  auto head = client_->Head("/api/version");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
}

TEST_F(ServerTest, UnknownPathIs404Text) {
  auto res = client_->Get("/api/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(res->body, "404 page not found");
}

TEST_F(ServerTest, WrongMethodOnKnownPathIs405) {
  auto res = client_->Post("/api/version", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->body, "405 method not allowed");
  auto del = client_->Delete("/");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 405);
}

TEST(ServerBindTest, PortInUseIsAClearError) {
  Server first(ServerOptions{"127.0.0.1", 0});
  ASSERT_TRUE(first.Bind().ok());
  Server second(ServerOptions{"127.0.0.1", first.port()});
  Status s = second.Bind();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "listen tcp 127.0.0.1:" + std::to_string(first.port()) +
                             ": bind: Address already in use");
}

}  // namespace
}  // namespace corral::server
