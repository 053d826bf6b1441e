#include "server/native_bridge.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/json_request.h"
#include "server/server_state.h"

namespace corral::server {
namespace {

using ojson = nlohmann::ordered_json;

// Frames every native object as "data: <json>\n\n" with a running count, and a whole reply as
// {"status": ..., "native": ...}, so the test sees exactly what the bridge handed over.
class RecordingTranslator : public ReplyTranslator {
 public:
  void Whole(int status, const ojson& native, httplib::Response& res) override {
    res.status = status == 200 ? 200 : 418;
    res.set_content(ojson{{"status", status}, {"native", native}}.dump(), "application/json");
  }
  std::string StreamContentType() const override { return "text/event-stream"; }
  void StreamObject(const ojson& native, std::string* out) override {
    *out += "data: " + std::to_string(++count_) + " " + native.dump() + "\n\n";
  }
  void StreamEnd(std::string* out) override { *out += "data: [DONE]\n\n"; }

 private:
  int count_ = 0;
};

// A native handler that answers the body it was given: {"echo": body} whole, or as a stream
// of its characters with lines split across writes, or an error.
void FakeNative(ServerState&, const httplib::Request& req, RequestBody& body,
                httplib::Response& res) {
  std::string text;
  EXPECT_EQ(body.ReadAll(1 << 20, &text), RequestBody::ReadStatus::kOk);
  if (text == "fail") return WriteError(res, 404, "model \"x\" not found");
  if (req.path != "/stream") return WriteJson(res, ojson{{"echo", text}});
  res.set_chunked_content_provider("application/x-ndjson", [text](size_t, httplib::DataSink& sink) {
    // Two objects, the first split in the middle, then an error line without '\n'.
    std::string all;
    for (char c : text) all += ojson{{"c", std::string(1, c)}}.dump() + "\n";
    all += R"({"error":"boom"})";
    const size_t half = all.size() / 3;
    sink.write(all.data(), half);
    sink.write(all.data() + half, all.size() - half);
    sink.done();
    return true;
  });
}

class NativeBridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto handle = [this](const httplib::Request& req, httplib::Response& res) {
      CallNative(*state_, req, FakeNative, req.body, std::make_shared<RecordingTranslator>(), res);
    };
    http_.Post("/whole", handle);
    http_.Post("/stream", handle);
    port_ = http_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { http_.listen_after_bind(); });
    for (int i = 0; i < 500 && !http_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  void TearDown() override {
    http_.stop();
    thread_.join();
  }

  httplib::Result Post(const std::string& path, const std::string& body) {
    httplib::Client client("127.0.0.1", port_);
    return client.Post(path, body, "text/plain");
  }

  // The fake handler never touches the state or its (empty) store.
  std::unique_ptr<ServerState> state_ =
      std::make_unique<ServerState>(store::Store(store::StoreOptions{"/nonexistent", {}}));
  httplib::Server http_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(NativeBridgeTest, WholeReplyIsTranslatedOnce) {
  httplib::Result r = Post("/whole", "hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(ojson::parse(r->body), (ojson{{"status", 200}, {"native", {{"echo", "hello"}}}}));
}

TEST_F(NativeBridgeTest, ErrorsReachTheTranslatorWithTheirStatus) {
  httplib::Result r = Post("/stream", "fail");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 418);
  EXPECT_EQ(ojson::parse(r->body),
            (ojson{{"status", 404}, {"native", {{"error", "model \"x\" not found"}}}}));
}

TEST_F(NativeBridgeTest, StreamIsTranslatedObjectByObject) {
  httplib::Result r = Post("/stream", "abc");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  EXPECT_EQ(r->body,
            "data: 1 {\"c\":\"a\"}\n\n"
            "data: 2 {\"c\":\"b\"}\n\n"
            "data: 3 {\"c\":\"c\"}\n\n"
            "data: 4 {\"error\":\"boom\"}\n\n"
            "data: [DONE]\n\n");
}

}  // namespace
}  // namespace corral::server
