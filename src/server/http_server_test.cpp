#include "server/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "base/version.h"
#include "server/server_test_util.h"

namespace corral::server {
namespace {

using ServerTest = test_util::ServerFixture;

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
  test_util::TempDir dir;
  ServerState state(store::Store(store::StoreOptions{dir.path(), {}}));
  Server first(ServerOptions{"127.0.0.1", 0}, state);
  ASSERT_TRUE(first.Bind().ok());
  Server second(ServerOptions{"127.0.0.1", first.port()}, state);
  Status s = second.Bind();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "listen tcp 127.0.0.1:" + std::to_string(first.port()) +
                             ": bind: Address already in use");
}

}  // namespace
}  // namespace corral::server
