// HEAD/POST /api/blobs/:digest: existence checks, streamed uploads with verification, and
// digests that try to leave the blobs directory.
#include "server/blob_routes.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "server/json_request.h"
#include "server/server_test_util.h"

namespace corral::server {
namespace {

using test_util::AddBlob;

class BlobRoutesTest : public test_util::ServerFixture {
 protected:
  std::vector<std::string> BlobFiles() {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(store().BlobsDir(), ec)) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
};

TEST(BlobDigestParamTest, OllamasPattern) {
  std::string hex(64, 'a');
  EXPECT_TRUE(IsBlobDigestParam("sha256:" + hex));
  EXPECT_TRUE(IsBlobDigestParam("sha256-" + hex));
  EXPECT_TRUE(IsBlobDigestParam("sha256:" + std::string(64, 'F')));
  EXPECT_FALSE(IsBlobDigestParam("sha256:" + std::string(63, 'a')));
  EXPECT_FALSE(IsBlobDigestParam("sha256:" + std::string(65, 'a')));
  EXPECT_FALSE(IsBlobDigestParam("sha512:" + hex));
  EXPECT_FALSE(IsBlobDigestParam("sha256:" + std::string(62, 'a') + ".."));
  EXPECT_FALSE(IsBlobDigestParam("sha256_" + hex));
  EXPECT_FALSE(IsBlobDigestParam(""));
}

TEST_F(BlobRoutesTest, HeadSaysWhetherABlobExists) {
  store::Layer layer = AddBlob(store(), store::kMediaTypeSystem, "hello");
  std::string digest = layer.digest.String();
  auto found = client_->Head("/api/blobs/" + digest);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status, 200);
  // Ollama maps sha256-<hex> to the same file name.
  EXPECT_EQ(client_->Head("/api/blobs/sha256-" + layer.digest.hex())->status, 200);

  std::string missing = "sha256:" + std::string(64, '0');
  EXPECT_EQ(client_->Head("/api/blobs/" + missing)->status, 404);
  // HEAD replies carry no body, so the error text is checked through the handler directly.
  httplib::Request req;
  req.matches = std::smatch();
  httplib::Response res;
  RequestBody body(nullptr);
  std::string path = "/api/blobs/" + missing;
  std::regex re("/api/blobs/([^/]+)");
  std::regex_match(path, req.matches, re);
  HeadBlobHandler(state_, req, body, res);
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, R"({"error":"blob \")" + missing + R"(\" not found"})");
  EXPECT_EQ(client_->Head("/api/blobs/sha256:nothex")->status, 400);
}

TEST_F(BlobRoutesTest, UploadStoresTheBlobAndAnswers201) {
  std::string data = "some blob bytes";
  std::string digest = store::Sha256Of(data).String();
  auto res = client_->Post("/api/blobs/" + digest, data, "application/octet-stream");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 201);
  EXPECT_TRUE(res->body.empty());
  EXPECT_TRUE(store().HasBlob(store::Sha256Of(data)));
  EXPECT_EQ(BlobFiles(), std::vector<std::string>{store::Sha256Of(data).Filename()});
  // Again: it exists, 200 without storing anything new.
  auto again = client_->Post("/api/blobs/" + digest, data, "application/octet-stream");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(client_->Head("/api/blobs/" + digest)->status, 200);
}

TEST_F(BlobRoutesTest, UploadIsNotBoundByTheJsonLimitAndIsStreamed) {
  server_->Shutdown();
  thread_.join();
  state_.limits.max_json_body_bytes = 1024;
  StartServer();
  std::string data(8 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 % 251);
  store::Digest digest = store::Sha256Of(data);
  // Chunked transfer: the server cannot know the size in advance.
  size_t sent = 0;
  auto res = client_->Post(
      "/api/blobs/" + digest.String(),
      [&](size_t offset, httplib::DataSink& sink) {
        size_t n = std::min<size_t>(64 << 10, data.size() - offset);
        sink.write(data.data() + offset, n);
        sent += n;
        if (sent == data.size()) sink.done();
        return true;
      },
      "application/octet-stream");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 201) << res->body;
  std::ifstream in(store().BlobPath(digest), std::ios::binary);
  std::string stored((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(stored == data);
}

TEST_F(BlobRoutesTest, MismatchIs400AndLeavesNothingBehind) {
  std::string other = "sha256:" + std::string(64, 'a');
  auto res = client_->Post("/api/blobs/" + other, "payload", "application/octet-stream");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(Error(res), "digest mismatch, expected \"" + other + "\", got \"" +
                            store::Sha256Of("payload").String() + "\"");
  EXPECT_TRUE(BlobFiles().empty());

  // Ollama compares the text: the '-' form and upper-case hex never match an upload.
  std::string hex = store::Sha256Of("payload").hex();
  std::string dash = "sha256-" + hex;
  auto r2 = client_->Post("/api/blobs/" + dash, "payload", "application/octet-stream");
  EXPECT_EQ(r2->status, 400);
  EXPECT_EQ(Error(r2), "digest mismatch, expected \"" + dash + "\", got \"sha256:" + hex + "\"");
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto r3 = client_->Post("/api/blobs/sha256:" + upper, "payload", "application/octet-stream");
  EXPECT_EQ(r3->status, 400);
  EXPECT_TRUE(BlobFiles().empty());
}

TEST_F(BlobRoutesTest, InvalidAndTraversalDigestsAreRefused) {
  std::filesystem::create_directories(store().BlobsDir());
  for (const std::string& bad :
       std::vector<std::string>{"sha256:abc", "sha256:..", "..", "sha256:" + std::string(64, 'g'),
                                "sha256%3A..%2F..%2Fetc%2Fpasswd", "sha256:%2E%2E"}) {
    auto res = client_->Post("/api/blobs/" + bad, "x", "application/octet-stream");
    ASSERT_TRUE(res) << bad;
    EXPECT_TRUE(res->status == 400 || res->status == 404) << bad << " " << res->status;
    if (res->status == 400) {
      EXPECT_EQ(Error(res), "invalid digest format") << bad;
    }
    auto head = client_->Head("/api/blobs/" + bad);
    EXPECT_TRUE(head->status == 400 || head->status == 404) << bad;
  }
  auto res = client_->Post("/api/blobs/sha256:abc", "x", "application/octet-stream");
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(Error(res), "invalid digest format");
  // A path with more segments is not the blob route at all.
  auto deeper = client_->Post("/api/blobs/../../x", "x", "application/octet-stream");
  EXPECT_EQ(deeper->status, 404);
  EXPECT_TRUE(BlobFiles().empty());
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/x"));
  auto get = client_->Get("/api/blobs/sha256:" + std::string(64, 'a'));
  EXPECT_EQ(get->status, 405);
}

}  // namespace
}  // namespace corral::server
