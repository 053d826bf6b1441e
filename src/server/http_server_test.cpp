#include "server/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

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

// This process's TCP sockets whose local port is `port`: the listener (no peer) and the
// connections it accepted (with a peer), found through /proc/self/fd.
struct OwnSocket {
  int fd;
  bool connected;
};
std::vector<OwnSocket> SocketsOnPort(int port) {
  std::vector<OwnSocket> out;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return out;
  while (dirent* e = readdir(dir)) {
    int fd = std::atoi(e->d_name);
    sockaddr_in local{};
    socklen_t len = sizeof local;
    if (fd <= 2 || getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0 ||
        local.sin_family != AF_INET || ntohs(local.sin_port) != port) {
      continue;
    }
    sockaddr_in peer{};
    len = sizeof peer;
    out.push_back({fd, getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0});
  }
  closedir(dir);
  return out;
}

int SocketOption(int fd, int level, int name) {
  int value = -1;
  socklen_t len = sizeof value;
  EXPECT_EQ(getsockopt(fd, level, name, &value, &len), 0);
  return value;
}

// Nagle held a reply's body (written after its headers) until the client's delayed ACK, up to
// 40 ms per request; the listener sets TCP_NODELAY and the accepted sockets inherit it. No
// SO_REUSEPORT, so a second server cannot share the port.
TEST_F(ServerTest, SocketsHaveNoDelayAndNoReusePort) {
  const int port = server_->port();
  int client = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(client, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string request = "GET /api/version HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(write(client, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  char reply[512];
  ASSERT_GT(read(client, reply, sizeof reply), 0);  // answered: the connection is accepted

  int listeners = 0, accepted = 0;
  for (const OwnSocket& s : SocketsOnPort(port)) {
    EXPECT_EQ(SocketOption(s.fd, IPPROTO_TCP, TCP_NODELAY), 1) << "fd " << s.fd;
    if (s.connected) {
      ++accepted;
    } else {
      ++listeners;
      EXPECT_EQ(SocketOption(s.fd, SOL_SOCKET, SO_REUSEPORT), 0);
      EXPECT_EQ(SocketOption(s.fd, SOL_SOCKET, SO_REUSEADDR), 1);
    }
  }
  EXPECT_EQ(listeners, 1);
  EXPECT_GE(accepted, 1);
  close(client);
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
