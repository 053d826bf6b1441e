// CORS and the Host-header guard: the rules on their own, then through a running server.
#include "server/middleware.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "server/server_test_util.h"

namespace corral::server {
namespace {

TEST(CorsPolicyTest, BuiltinOriginsAndWildcards) {
  CorsPolicy p({});
  for (const char* ok :
       {"http://localhost", "https://localhost", "http://localhost:3000", "https://127.0.0.1:8443",
        "http://127.0.0.1", "http://0.0.0.0:1", "app://anything", "file://", "tauri://localhost",
        "vscode-webview://abc", "vscode-file://vscode-app"}) {
    EXPECT_TRUE(p.Allows(ok)) << ok;
  }
  for (const char* bad :
       {"http://evil.com", "http://localhost.evil.com", "https://example.com",
        "chrome-extension://abc", "http://127.0.0.2", "null", "", "http://LOCALHOST"}) {
    EXPECT_FALSE(p.Allows(bad)) << bad;
  }
  EXPECT_FALSE(p.allow_all());
}

TEST(CorsPolicyTest, ExtraOriginsFromTheEnvironment) {
  std::vector<std::string> origins =
      ParseOrigins(" https://example.com ,chrome-extension://*,, http://*.corp.test ");
  EXPECT_EQ(origins, (std::vector<std::string>{"https://example.com", "chrome-extension://*",
                                               "http://*.corp.test"}));
  CorsPolicy p(origins);
  EXPECT_TRUE(p.Allows("https://example.com"));
  EXPECT_FALSE(p.Allows("https://example.com.evil"));
  EXPECT_TRUE(p.Allows("chrome-extension://abcdef"));
  EXPECT_TRUE(p.Allows("http://app.corp.test"));
  EXPECT_FALSE(p.Allows("http://app.corp.test.evil"));
  EXPECT_TRUE(p.Allows("http://localhost:8080"));  // built-ins stay
  CorsPolicy all({"*"});
  EXPECT_TRUE(all.allow_all());
  EXPECT_TRUE(all.Allows("http://anything.example"));
}

TEST(HostGuardTest, AllowedHosts) {
  char name[256] = {};
  ASSERT_EQ(gethostname(name, sizeof name - 1), 0);
  for (std::string ok :
       {"", "localhost", "LOCALHOST:11434", "127.0.0.1", "127.0.0.1:11434", "[::1]:11434", "::1",
        "10.1.2.3", "172.16.0.1:80", "192.168.1.1", "0.0.0.0", "[fd00::1]:1", "foo.localhost",
        "printer.local:631", "db.internal", "[::ffff:127.0.0.1]:80"}) {
    EXPECT_TRUE(IsAllowedHost(ok)) << ok;
  }
  EXPECT_TRUE(IsAllowedHost(std::string(name) + ":11434"));
  for (std::string bad :
       {"evil.com", "evil.com:11434", "localhost.evil.com", "8.8.8.8", "1.2.3.4:11434",
        "172.32.0.1", "[2001:4860::8888]:80", "internal.example"}) {
    EXPECT_FALSE(IsAllowedHost(bad)) << bad;
  }
}

TEST(HostGuardTest, OnlyLoopbackListenersAreGuarded) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackAddress("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackAddress("::1"));
  EXPECT_TRUE(IsLoopbackAddress("localhost"));
  EXPECT_FALSE(IsLoopbackAddress(""));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackAddress("::"));
  EXPECT_FALSE(IsLoopbackAddress("192.168.1.10"));
}

class MiddlewareServerTest : public test_util::ServerFixture {
 protected:
  httplib::Result Get(const std::string& path, httplib::Headers headers) {
    return client_->Get(path, headers);
  }
};

TEST_F(MiddlewareServerTest, PreflightFromAnAllowedOriginIs204WithTheLists) {
  auto res = client_->Options("/api/chat", {{"Origin", "http://localhost:3000"},
                                            {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "http://localhost:3000");
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Methods"),
            "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS");
  std::string headers = res->get_header_value("Access-Control-Allow-Headers");
  for (const char* h :
       {"Authorization", "Content-Type", "User-Agent", "Accept", "X-Requested-With", "Openai-Beta",
        "X-Stainless-Arch", "X-Stainless-Timeout", "X-Stainless-Runtime-Version"}) {
    EXPECT_NE(headers.find(h), std::string::npos) << h;
  }
  EXPECT_EQ(res->get_header_value("Access-Control-Max-Age"), "43200");
  EXPECT_TRUE(res->body.empty());
}

TEST_F(MiddlewareServerTest, AllowedOriginGetsTheHeaderOnNormalRequests) {
  auto res = Get("/api/version", {{"Origin", "app://ollama"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "app://ollama");
  auto plain = Get("/api/version", {});
  EXPECT_EQ(plain->status, 200);
  EXPECT_FALSE(plain->has_header("Access-Control-Allow-Origin"));
}

TEST_F(MiddlewareServerTest, DisallowedOriginIs403) {
  auto res = Get("/api/tags", {{"Origin", "https://evil.example"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_FALSE(res->has_header("Access-Control-Allow-Origin"));
  auto preflight = client_->Options("/api/tags", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(preflight->status, 403);
  auto post = client_->Post("/api/show", {{"Origin", "chrome-extension://abc"}}, R"({"model":"x"})",
                            "application/json");
  EXPECT_EQ(post->status, 403);
  // Its own origin (http://<Host>) is not a cross-origin request.
  std::string self = "http://127.0.0.1:" + std::to_string(server_->port());
  EXPECT_EQ(Get("/api/version", {{"Origin", self}})->status, 200);
}

TEST_F(MiddlewareServerTest, OriginsFromTheEnvironmentAreAllowed) {
  server_->Shutdown();
  thread_.join();
  state_.cors_origins = ParseOrigins("https://*.example.org,chrome-extension://*");
  StartServer();
  auto res = Get("/api/version", {{"Origin", "https://app.example.org"}});
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "https://app.example.org");
  EXPECT_EQ(Get("/api/version", {{"Origin", "chrome-extension://x"}})->status, 200);
  EXPECT_EQ(Get("/api/version", {{"Origin", "https://example.com"}})->status, 403);
}

TEST_F(MiddlewareServerTest, HostGuardOnLoopback) {
  EXPECT_EQ(Get("/api/version", {{"Host", "evil.com"}})->status, 403);
  EXPECT_EQ(Get("/api/version", {{"Host", "evil.com:11434"}})->status, 403);
  EXPECT_TRUE(Get("/api/version", {{"Host", "evil.com"}})->body.empty());
  EXPECT_EQ(Get("/api/version", {{"Host", "8.8.8.8"}})->status, 403);
  EXPECT_EQ(Get("/api/version", {{"Host", "localhost:11434"}})->status, 200);
  EXPECT_EQ(Get("/api/version", {{"Host", "my.localhost"}})->status, 200);
  EXPECT_EQ(Get("/api/version", {{"Host", "192.168.0.5:11434"}})->status, 200);
  EXPECT_EQ(Get("/api/version", {{"Host", "[::1]:11434"}})->status, 200);
  // OPTIONS to an allowed host name is answered 204 by the guard itself.
  EXPECT_EQ(client_->Options("/api/version", {{"Host", "localhost"}})->status, 204);
  EXPECT_EQ(client_->Options("/api/version", {{"Host", "evil.com"}})->status, 403);
}

TEST_F(MiddlewareServerTest, NoHostGuardOnOtherInterfaces) {
  server_->Shutdown();
  thread_.join();
  StartServer("0.0.0.0");
  EXPECT_EQ(Get("/api/version", {{"Host", "evil.com"}})->status, 200);
}

}  // namespace
}  // namespace corral::server
