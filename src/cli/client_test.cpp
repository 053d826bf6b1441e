// The client side of the verbs: cancelling a request the server is silent on (Ctrl+C while a
// model loads), the SIGINT hook, and the small pieces `run` and `push` print or send.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "cli/api_client.h"
#include "cli/client_common.h"
#include "cli/commands.h"
#include "cli/run_output.h"

namespace corral::cli {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// A loopback port that accepts connections (the kernel's backlog does) and never answers.
class SilentServer {
 public:
  SilentServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(fd_, 8);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentServer() { close(fd_); }
  config::HostAddress host() const {
    return config::ParseHost("127.0.0.1:" + std::to_string(port_));
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(ApiClientCancelTest, CancelEndsARequestTheServerIsSilentOn) {
  SilentServer server;
  ApiClient client(server.host());
  CancelSource cancel;
  client.set_cancel_source(&cancel);
  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(300));
    cancel.Cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  Status streamed =
      client.Stream("/api/generate", {{"model", "m"}}, [](const json&) { return Status::Ok(); });
  const auto took = std::chrono::steady_clock::now() - start;
  canceller.join();
  EXPECT_EQ(streamed.code(), StatusCode::kCancelled) << streamed.ToString();
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, std::chrono::seconds(5)) << "the read must end when the socket is shut";

  // Still cancelled: the next request is refused at once.
  EXPECT_EQ(client.Post("/api/show", {{"model", "m"}}).status().code(), StatusCode::kCancelled);
  // Reset: a new request goes out (and is cancelled again, its own socket shut this time).
  cancel.Reset();
  std::thread again([&] {
    std::this_thread::sleep_for(milliseconds(200));
    cancel.Cancel();
  });
  EXPECT_EQ(client.Post("/api/show", {{"model", "m"}}).status().code(), StatusCode::kCancelled);
  again.join();
}

TEST(SigintCancelsTest, CtrlCCancelsInsteadOfKillingThenTheOldHandlerReturns) {
  struct sigaction before {};
  ASSERT_EQ(sigaction(SIGINT, nullptr, &before), 0);
  CancelSource cancel;
  {
    SigintCancels guard(cancel);
    ASSERT_EQ(raise(SIGINT), 0);  // would end the test binary without the guard
    EXPECT_TRUE(cancel.cancelled());
  }
  struct sigaction after {};
  ASSERT_EQ(sigaction(SIGINT, nullptr, &after), 0);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

TEST(PushDestinationTest, FullNameOrTheOllamaComPage) {
  EXPECT_EQ(PushDestination("127.0.0.1:5000/ns/stories:v1"), "127.0.0.1:5000/ns/stories:v1");
  EXPECT_EQ(PushDestination("example.com/ns/m"), "example.com/ns/m:latest");
  EXPECT_EQ(PushDestination("alice/m"), "https://ollama.com/alice/m");
  EXPECT_EQ(PushDestination("alice/m:q4"), "https://ollama.com/alice/m:q4");
}

TEST(IsMultimodalTest, VisionCapabilityOrOlderServersHints) {
  EXPECT_TRUE(IsMultimodal({{"capabilities", {"completion", "vision"}}}));
  EXPECT_FALSE(IsMultimodal({{"capabilities", {"completion"}}}));
  EXPECT_TRUE(IsMultimodal({{"projector_info", {{"general.architecture", "clip"}}}}));
  EXPECT_FALSE(IsMultimodal({{"projector_info", json::object()}}));
  EXPECT_TRUE(IsMultimodal({{"model_info", {{"mllama.vision.block_count", 32}}}}));
  EXPECT_FALSE(IsMultimodal({{"model_info", {{"llama.block_count", 32}}}}));
  EXPECT_FALSE(IsMultimodal(json::array()));
}

TEST(FormatValueTest, JsonOrASchema) {
  EXPECT_EQ(FormatValue("json"), json("json"));
  EXPECT_EQ(FormatValue(R"({"type":"object"})"), json({{"type", "object"}}));
  EXPECT_EQ(FormatValue("yaml"), json("yaml"));
  EXPECT_EQ(FormatValue("[1]"), json("[1]")) << "a schema is an object";
}

TEST(RenderToolCallsTest, PlainAndColoured) {
  const json calls = {{{"function", {{"name", "get_weather"}, {"arguments", {{"city", "Oslo"}}}}}},
                      {{"function", {{"name", "noop"}}}}};
  EXPECT_EQ(RenderToolCalls(calls, /*plain_text=*/true),
            "  Model called a non-existent function 'get_weather()' with arguments: "
            "{\"city\":\"Oslo\"}\n"
            "  Model called a non-existent function 'noop()' with arguments: {}");
  const std::string grey = "\033[38;5;245m\033[1m", plain = "\033[0m";
  EXPECT_EQ(RenderToolCalls(json::array({calls[1]}), false),
            grey + "  Model called a non-existent function '" + plain + "noop" + grey +
                "()' with arguments: " + plain + "{}" + grey + plain);
}

TEST(ResponsePrinterTest, WrapsWordsAtTheTerminalWidth) {
  // 20 columns: the character that would pass column 15 (the "e" of "time") moves its word to
  // the next line: the cursor backs over "tim", the rest of the line is cleared.
  ResponsePrinter printer(false, false, /*wrap_width=*/20);
  EXPECT_EQ(printer.OnChunk("", "Once upon a time there", false),
            "Once upon a tim\033[3D\033[K\ntime there");
  ResponsePrinter unwrapped(false, false, /*wrap_width=*/0);
  EXPECT_EQ(unwrapped.OnChunk("", "Once upon a time there", false), "Once upon a time there");
}

}  // namespace
}  // namespace corral::cli
