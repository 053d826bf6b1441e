// Pull and push against an in-process fake registry (httplib::Server on a loopback port) that
// can misbehave: wrong content, a short blob, a body cut off, an endless body, a traversal
// digest in the manifest, a redirect to a non-http URL. Every failure must leave no manifest
// and no final blob in the store.
#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>
#include <sys/statvfs.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "registry/http.h"
#include "registry/registry.h"
#include "store/digest.h"
#include "store/manifest.h"
#include "store/store.h"

namespace corral::registry {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "corral-registry-XXXXXX").string();
    CHECK(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Deterministic bytes, different for each seed.
std::string Bytes(size_t size, uint32_t seed) {
  std::string out(size, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (char& c : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return out;
}

// kStallOnce: the first GET of the blob sends half of what was asked, then nothing (the
// connection stays open); later GETs are served normally. kThrottled: every GET is sent at
// about 1.6 MB/s, as a CDN that caps each connection.
enum class Mode {
  kNormal,
  kWrongContent,
  kShortHead,
  kCutOff,
  kEndless,
  kRedirectFtp,
  kStallOnce,
  kThrottled,
  kHuge  // HEAD declares 3 TiB (the manifest says the same); a GET would send the small content
};

constexpr int64_t kHugeBlob = int64_t{3} << 40;

class FakeRegistry {
 public:
  FakeRegistry() {
    server_.Get(R"(/v2/(.+)/manifests/([^/]+))", [this](const auto& req, auto& res) {
      std::lock_guard lock(mu_);
      auto it = manifests_.find(req.matches[1].str() + ":" + req.matches[2].str());
      if (it == manifests_.end()) {
        res.status = 404;
        res.set_content(R"({"errors":[{"code":"MANIFEST_UNKNOWN"}]})", "application/json");
        return;
      }
      accept_ = req.get_header_value("Accept");
      res.set_content(it->second, "application/vnd.docker.distribution.manifest.v2+json");
    });
    server_.Put(R"(/v2/(.+)/manifests/([^/]+))", [this](const auto& req, auto& res) {
      std::lock_guard lock(mu_);
      manifests_[req.matches[1].str() + ":" + req.matches[2].str()] = req.body;
      manifest_content_type_ = req.get_header_value("Content-Type");
      res.status = 201;
    });
    server_.Get(R"(/v2/(.+)/blobs/([^/]+))",
                [this](const httplib::Request& req, httplib::Response& res) { Blob(req, res); });
    server_.Post(R"(/v2/(.+)/blobs/uploads/)", [this](const auto& req, auto& res) {
      std::lock_guard lock(mu_);
      std::string mount = req.get_param_value("mount");
      if (req.has_param("mount") && in_repo_.contains(req.get_param_value("from") + "@" + mount)) {
        mounts_.push_back(req.get_param_value("from"));
        in_repo_.insert(req.matches[1].str() + "@" + mount);
        res.status = 201;
        return;
      }
      std::string id = "u" + std::to_string(uploads_.size());
      uploads_[id] = "";
      res.status = 202;
      res.set_header("Location", "/v2/" + req.matches[1].str() + "/blobs/uploads/" + id);
    });
    server_.Patch(R"(/v2/(.+)/blobs/uploads/([^/]+))", [this](const auto& req, auto& res) {
      std::lock_guard lock(mu_);
      std::string& data = uploads_[req.matches[2].str()];
      long long start = -1, end = -1;
      std::sscanf(req.get_header_value("Content-Range").c_str(), "%lld-%lld", &start, &end);
      if (start != static_cast<long long>(data.size()) ||
          end + 1 != start + static_cast<long long>(req.body.size())) {
        res.status = 416;
        return;
      }
      data += req.body;
      ++patches_;
      res.status = 202;
      res.set_header("Location", req.path + "?state=" + std::to_string(data.size()));
    });
    server_.Put(R"(/v2/(.+)/blobs/uploads/([^/]+))", [this](const auto& req, auto& res) {
      std::lock_guard lock(mu_);
      const std::string& data = uploads_[req.matches[2].str()];
      std::string digest = req.get_param_value("digest");
      if (store::Sha256Of(data).String() != digest) {
        res.status = 400;
        res.set_content(R"({"errors":[{"code":"DIGEST_INVALID"}]})", "application/json");
        return;
      }
      blobs_[digest] = {data, Mode::kNormal};
      in_repo_.insert(req.matches[1].str() + "@" + digest);
      res.status = 201;
    });
    // With RequireToken: every /v2/ request needs the bearer token, got from /token.
    server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      if (token_.empty() || !req.path.starts_with("/v2/") ||
          req.get_header_value("Authorization") == "Bearer " + token_) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      res.status = 401;
      res.set_header(
          "WWW-Authenticate",
          "Bearer realm=\"" + realm_ + "\",service=\"fake\",scope=\"repository:ns/model:pull\"");
      return httplib::Server::HandlerResponse::Handled;
    });
    server_.Get("/token", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      token_requests_.push_back(req.get_param_value("service") + " " +
                                req.get_param_value("scope"));
      res.set_content(nlohmann::json{{"token", token_}}.dump(), "application/json");
    });
    // More workers than any test has connections (httplib's default is 8), so the streams a
    // pull opens are never held back by the fake registry.
    server_.new_task_queue = [] { return new httplib::ThreadPool(32); };
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeRegistry() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      hold_ = false;
    }
    cv_.notify_all();
    server_.stop();
    thread_.join();
  }

  std::string Host() const { return "127.0.0.1:" + std::to_string(port_); }

  // While held, blob GETs wait before sending anything.
  void HoldBlobs(bool hold) {
    {
      std::lock_guard lock(mu_);
      hold_ = hold;
    }
    cv_.notify_all();
  }

  void RequireToken(const std::string& token, const std::string& realm_host) {
    std::lock_guard lock(mu_);
    token_ = token;
    realm_ = "http://" + realm_host + "/token";
  }
  std::vector<std::string> token_requests() {
    std::lock_guard lock(mu_);
    return token_requests_;
  }

  store::Digest AddBlob(const std::string& content, Mode mode = Mode::kNormal) {
    store::Digest d = store::Sha256Of(content);
    std::lock_guard lock(mu_);
    blobs_[d.String()] = {content, mode};
    in_repo_.insert("ns/model@" + d.String());
    return d;
  }
  void AddManifest(const std::string& repo_tag, const std::string& bytes) {
    std::lock_guard lock(mu_);
    manifests_[repo_tag] = bytes;
  }
  std::vector<std::string> Ranges(const store::Digest& d) {
    std::lock_guard lock(mu_);
    return ranges_[d.String()];
  }
  bool HasBlob(const std::string& digest) {
    std::lock_guard lock(mu_);
    return blobs_.contains(digest) && blobs_[digest].mode == Mode::kNormal;
  }
  std::string BlobContent(const std::string& digest) {
    std::lock_guard lock(mu_);
    return blobs_[digest].content;
  }
  std::string Manifest(const std::string& repo_tag) {
    std::lock_guard lock(mu_);
    return manifests_[repo_tag];
  }
  int patches() {
    std::lock_guard lock(mu_);
    return patches_;
  }
  std::vector<std::string> mounts() {
    std::lock_guard lock(mu_);
    return mounts_;
  }
  std::string accept() {
    std::lock_guard lock(mu_);
    return accept_;
  }
  std::string manifest_content_type() {
    std::lock_guard lock(mu_);
    return manifest_content_type_;
  }
  // The most blob GETs that were sending at the same time.
  int most_gets_at_once() {
    std::lock_guard lock(mu_);
    return most_gets_at_once_;
  }

 private:
  struct Stored {
    std::string content;
    Mode mode = Mode::kNormal;
  };

  void Blob(const httplib::Request& req, httplib::Response& res) {
    Stored blob;
    bool stall = false;
    {
      std::lock_guard lock(mu_);
      auto it = blobs_.find(req.matches[2].str());
      if (it == blobs_.end() || !in_repo_.contains(req.matches[1].str() + "@" + it->first)) {
        res.status = 404;
        return;
      }
      blob = it->second;
      if (req.method == "GET") ranges_[it->first].push_back(req.get_header_value("Range"));
      stall =
          blob.mode == Mode::kStallOnce && req.method == "GET" && ranges_[it->first].size() == 1;
    }
    if (req.method == "GET") {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return !hold_; });
    }
    if (req.method == "HEAD" && blob.mode == Mode::kHuge) {
      res.set_header("Content-Length", std::to_string(kHugeBlob));
      return;
    }
    if (req.method == "HEAD") {
      size_t size = blob.content.size() - (blob.mode == Mode::kShortHead ? 10 : 0);
      res.set_content(std::string(size, '\0'), "application/octet-stream");
      return;
    }
    auto data = std::make_shared<std::string>(blob.content);
    if (blob.mode == Mode::kShortHead) data->resize(data->size() - 10);
    if (blob.mode == Mode::kWrongContent) (*data)[data->size() / 2] ^= 1;
    if (blob.mode == Mode::kRedirectFtp) {
      res.status = 307;
      res.set_header("Location", "ftp://127.0.0.1/etc/passwd");
      return;
    }
    if (blob.mode == Mode::kEndless) {
      res.status = 200;  // the whole blob asked for (one part): then bytes without end
      res.set_chunked_content_provider("application/octet-stream",
                                       [data](size_t, httplib::DataSink& sink) {
                                         return sink.write(data->data(), data->size());
                                       });
      return;
    }
    const bool cut_off = blob.mode == Mode::kCutOff;
    const bool throttled = blob.mode == Mode::kThrottled;
    // Counts the GETs sending now: up when the body starts, down when it is done.
    auto sending = std::make_shared<bool>(false);
    res.set_content_provider(
        data->size(), "application/octet-stream",
        [this, data, cut_off, stall, throttled, sending](size_t offset, size_t length,
                                                         httplib::DataSink& sink) {
          if (!*sending) {
            *sending = true;
            std::lock_guard lock(mu_);
            most_gets_at_once_ = std::max(most_gets_at_once_, ++gets_now_);
          }
          if (throttled) std::this_thread::sleep_for(std::chrono::milliseconds(10));
          if (cut_off && offset >= data->size() / 2) return false;  // the connection drops
          if (stall && offset >= data->size() / 2) {
            // Silent but open, until the test ends (the client must give up first).
            std::unique_lock lock(mu_);
            cv_.wait_for(lock, std::chrono::seconds(20), [this] { return stopping_; });
            return false;
          }
          size_t n = std::min<size_t>(length, 16 << 10);
          if (cut_off || stall) n = std::min(n, data->size() / 2 - offset);
          return sink.write(data->data() + offset, n);
        },
        [this, sending](bool) {
          if (!*sending) return;
          std::lock_guard lock(mu_);
          --gets_now_;
        });
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  bool stopping_ = false;
  std::map<std::string, Stored> blobs_;
  std::set<std::string> in_repo_;  // "<repo>@<digest>": what HEAD/GET answer for
  std::map<std::string, std::string> manifests_;
  std::map<std::string, std::vector<std::string>> ranges_;
  std::map<std::string, std::string> uploads_;
  std::vector<std::string> mounts_;
  int patches_ = 0;
  int gets_now_ = 0;
  int most_gets_at_once_ = 0;
  std::string accept_;
  std::string manifest_content_type_;
  std::string token_, realm_;
  std::vector<std::string> token_requests_;
};

constexpr int64_t kPart = 512 << 10;

RegistryOptions TestOptions() {
  RegistryOptions o;
  o.insecure = true;
  o.part_size = kPart;
  o.max_parallel = 4;
  o.max_tries = 3;
  o.retry_delay = std::chrono::milliseconds(1);
  o.stall_timeout = std::chrono::milliseconds(3000);
  o.progress_interval = std::chrono::milliseconds(5);
  return o;
}

class RegistryTest : public ::testing::Test {
 protected:
  RegistryTest() : store_(store::StoreOptions{dir_.path() + "/models", nullptr}) {}

  // A model whose layer (mode as given) is `size` bytes; its manifest is served under
  // ns/model:tag. Returns the manifest bytes.
  std::string Serve(size_t size, Mode mode = Mode::kNormal, uint32_t seed = 1) {
    layer_ = Bytes(size, seed);
    config_ = R"({"model_format":"gguf","model_family":"llama"})";
    store::Manifest m;
    m.config = {std::string(store::kMediaTypeConfig), registry_.AddBlob(config_),
                static_cast<int64_t>(config_.size()), "", ""};
    m.layers.push_back({std::string(store::kMediaTypeModel), registry_.AddBlob(layer_, mode),
                        mode == Mode::kHuge ? kHugeBlob : static_cast<int64_t>(layer_.size()), "",
                        ""});
    layer_digest_ = m.layers[0].digest;
    std::string bytes = store::SerializeManifest(m);
    registry_.AddManifest("ns/model:tag", bytes);
    return bytes;
  }

  store::Name Name() const { return *store::ParseName(registry_.Host() + "/ns/model:tag"); }

  Status DoPull(const RegistryOptions& options = TestOptions()) {
    progress_.clear();
    return Pull(store_, Name(), options, [this](const Progress& p) {
      progress_.push_back(p);
      return true;
    });
  }

  // Nothing of the model in the store: no manifest, no final blob.
  void ExpectNothingStored() {
    EXPECT_FALSE(fs::exists(store_.ManifestPath(Name())));
    EXPECT_FALSE(store_.HasBlob(layer_digest_));
  }

  std::vector<std::string> BlobFiles() {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(store_.BlobsDir(), ec)) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  TempDir dir_;
  FakeRegistry registry_;
  store::Store store_;
  std::string layer_, config_;
  store::Digest layer_digest_;
  std::vector<Progress> progress_;
};

TEST_F(RegistryTest, PullsInSeveralPartsAndVerifies) {
  std::string manifest = Serve(3 * kPart + 1000);
  ASSERT_TRUE(DoPull().ok());
  EXPECT_EQ(ReadFile(store_.ManifestPath(Name())), manifest);
  EXPECT_EQ(ReadFile(store_.BlobPath(layer_digest_)), layer_);
  EXPECT_EQ(registry_.accept(), "application/vnd.docker.distribution.manifest.v2+json");
  std::vector<std::string> ranges = registry_.Ranges(layer_digest_);
  std::sort(ranges.begin(), ranges.end());
  EXPECT_EQ(ranges, (std::vector<std::string>{"bytes=0-524287", "bytes=1048576-1572863",
                                              "bytes=1572864-1573863", "bytes=524288-1048575"}));
  // Only the two blobs: no partial or part files left.
  EXPECT_EQ(BlobFiles().size(), 2u);

  ASSERT_GE(progress_.size(), 6u);
  EXPECT_EQ(progress_.front().status, "pulling manifest");
  const std::string pulling = "pulling " + layer_digest_.hex().substr(0, 12);
  bool saw_layer_done = false;
  for (const Progress& p : progress_) {
    if (p.status != pulling) continue;
    EXPECT_EQ(p.digest, layer_digest_.String());
    EXPECT_EQ(p.total, static_cast<int64_t>(layer_.size()));
    saw_layer_done |= p.completed == p.total;
  }
  EXPECT_TRUE(saw_layer_done);
  size_t n = progress_.size();
  EXPECT_EQ(progress_[n - 3].status, "verifying sha256 digest");
  EXPECT_EQ(progress_[n - 2].status, "writing manifest");
  EXPECT_EQ(progress_[n - 1].status, "success");

  // Again: every blob is there, nothing is downloaded, each reports complete once.
  ASSERT_TRUE(DoPull().ok());
  EXPECT_EQ(registry_.Ranges(layer_digest_).size(), 4u);
  ASSERT_EQ(progress_.size(), 6u);
  EXPECT_EQ(progress_[1].status, pulling);
  EXPECT_EQ(progress_[1].completed, progress_[1].total);
}

TEST_F(RegistryTest, StreamsGrowWhileEachAddsSpeed) {
  // 24 parts from a registry that sends each connection at ~1.6 MB/s: every doubling of the
  // streams doubles the rate, so the download grows from 2 to its limit of 8.
  Serve(24 * kPart, Mode::kThrottled);
  RegistryOptions options = TestOptions();
  options.max_parallel = 8;
  options.ramp_window = std::chrono::milliseconds(100);
  ASSERT_TRUE(DoPull(options).ok());
  EXPECT_EQ(ReadFile(store_.BlobPath(layer_digest_)), layer_);
  // 8 when the test has the machine to itself; on a loaded one the doublings can come late,
  // when fewer parts are left than streams wanted. Never more than the limit.
  EXPECT_GE(registry_.most_gets_at_once(), 4);
  EXPECT_LE(registry_.most_gets_at_once(), 8);
}

TEST_F(RegistryTest, StreamsStayAtTwoWhenTheLimitIsTwo) {
  Serve(4 * kPart, Mode::kThrottled);
  RegistryOptions options = TestOptions();
  options.max_parallel = 2;
  options.ramp_window = std::chrono::milliseconds(50);
  ASSERT_TRUE(DoPull(options).ok());
  EXPECT_EQ(registry_.most_gets_at_once(), 2);
}

TEST_F(RegistryTest, ResumeRequestsOnlyMissingRanges) {
  Serve(4 * kPart);
  // A previous pull stopped with parts 0 and 2 done and part 1 half done; part 3 not started.
  fs::create_directories(store_.BlobsDir());
  std::string partial = store_.BlobPath(layer_digest_) + "-partial";
  std::string data(layer_.size(), '\0');
  std::copy_n(layer_.begin(), kPart + kPart / 2, data.begin());
  std::copy_n(layer_.begin() + 2 * kPart, kPart, data.begin() + 2 * kPart);
  WriteFile(partial, data);
  const int64_t completed[] = {kPart, kPart / 2, kPart, 0};
  for (int n = 0; n < 4; ++n) {
    nlohmann::json j = {
        {"N", n}, {"Offset", n * kPart}, {"Size", kPart}, {"Completed", completed[n]}};
    WriteFile(partial + "-" + std::to_string(n), j.dump());
  }
  ASSERT_TRUE(DoPull().ok());
  std::vector<std::string> ranges = registry_.Ranges(layer_digest_);
  std::sort(ranges.begin(), ranges.end());
  EXPECT_EQ(ranges, (std::vector<std::string>{"bytes=1572864-2097151", "bytes=786432-1048575"}));
  EXPECT_EQ(ReadFile(store_.BlobPath(layer_digest_)), layer_);
  EXPECT_EQ(BlobFiles().size(), 2u);
}

TEST_F(RegistryTest, InconsistentPartFilesStartOver) {
  Serve(2 * kPart);
  fs::create_directories(store_.BlobsDir());
  std::string partial = store_.BlobPath(layer_digest_) + "-partial";
  WriteFile(partial, std::string(layer_.size(), 'x'));
  WriteFile(partial + "-0", R"({"N":0,"Offset":5,"Size":10,"Completed":10})");
  ASSERT_TRUE(DoPull().ok());
  EXPECT_EQ(registry_.Ranges(layer_digest_).size(), 2u);
  EXPECT_EQ(ReadFile(store_.BlobPath(layer_digest_)), layer_);
}

TEST_F(RegistryTest, WrongContentIsRefusedAndRemoved) {
  Serve(2 * kPart, Mode::kWrongContent);
  Status s = DoPull();
  ASSERT_FALSE(s.ok());
  std::string want = "digest mismatch, file must be downloaded again: want " +
                     layer_digest_.String() + ", got sha256:";
  EXPECT_TRUE(s.message().starts_with(want)) << s.message();
  ExpectNothingStored();
  // No partial files of the bad layer; the config (after it) was never fetched.
  EXPECT_TRUE(BlobFiles().empty());
}

TEST_F(RegistryTest, ABlobLargerThanTheDiskFailsBeforeDownloading) {
  // 3 TiB does not fit the test machine's disk: the space is asked for before any GET.
  Serve(kPart, Mode::kHuge);
  Status s = DoPull();
  ASSERT_FALSE(s.ok());
  struct statvfs disk {};
  ASSERT_EQ(statvfs(store_.BlobsDir().c_str(), &disk), 0);
  if (static_cast<double>(disk.f_bavail) * disk.f_frsize >= static_cast<double>(kHugeBlob)) {
    GTEST_SKIP() << "the disk has 3 TiB free";
  }
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.message();
  EXPECT_NE(s.message().find("not enough disk space for " + layer_digest_.String()),
            std::string::npos)
      << s.message();
  EXPECT_TRUE(registry_.Ranges(layer_digest_).empty());
  ExpectNothingStored();
  EXPECT_TRUE(BlobFiles().empty()) << BlobFiles().front();
}

TEST_F(RegistryTest, ShortBlobIsRefusedBeforeDownloading) {
  Serve(kPart, Mode::kShortHead);
  Status s = DoPull();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("bytes on the registry, but the manifest says"), std::string::npos)
      << s.message();
  EXPECT_TRUE(registry_.Ranges(layer_digest_).empty());
  ExpectNothingStored();
}

TEST_F(RegistryTest, BodyCutOffFailsAfterRetriesAndKeepsTheResumableParts) {
  Serve(4 * kPart, Mode::kCutOff);
  Status s = DoPull();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("failed after 3 tries"), std::string::npos) << s.message();
  ExpectNothingStored();
  // The first half arrived and is kept for the next try.
  std::string partial = store_.BlobPath(layer_digest_) + "-partial";
  EXPECT_TRUE(fs::exists(partial));
  EXPECT_NE(ReadFile(partial + "-0").find("\"Completed\":524288"), std::string::npos);
}

TEST_F(RegistryTest, EndlessBodyIsCutAtTheDeclaredSize) {
  Serve(kPart / 2, Mode::kEndless);
  Status s = DoPull();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("is longer than its declared 262144 bytes"), std::string::npos)
      << s.message();
  ExpectNothingStored();
  EXPECT_TRUE(BlobFiles().empty());  // the config comes after the layer: never started
}

TEST_F(RegistryTest, TraversalDigestInManifestIsRefused) {
  Serve(100);
  std::string evil =
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
      R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json",)"
      R"("digest":"sha256:../../x","size":2},"layers":[]})";
  registry_.AddManifest("ns/model:tag", evil);
  Status s = DoPull();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.message();
  EXPECT_FALSE(fs::exists(store_.ManifestPath(Name())));
  EXPECT_TRUE(BlobFiles().empty());
  EXPECT_FALSE(fs::exists(dir_.path() + "/x"));
}

TEST_F(RegistryTest, RedirectToNonHttpSchemeIsRefused) {
  Serve(kPart, Mode::kRedirectFtp);
  Status s = DoPull();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("only http and https URLs are followed"), std::string::npos)
      << s.message();
  ExpectNothingStored();
}

TEST_F(RegistryTest, ErrorsForNamesAndManifests) {
  Serve(100);
  RegistryOptions secure = TestOptions();
  secure.insecure = false;
  store::Name http_name = *store::ParseName("http://" + registry_.Host() + "/ns/model:tag");
  Status s = Pull(store_, http_name, secure, [](const Progress&) { return true; });
  EXPECT_EQ(s.message(), "insecure protocol http");

  store::Name missing = *store::ParseName(registry_.Host() + "/ns/none:tag");
  s = Pull(store_, missing, TestOptions(), [](const Progress&) { return true; });
  EXPECT_EQ(s.message(), "pull model manifest: file does not exist");

  registry_.AddManifest("ns/model:tag", std::string(store::kMaxManifestBytes + 1, ' '));
  s = DoPull();
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.message();
  EXPECT_TRUE(BlobFiles().empty());
}

TEST_F(RegistryTest, StalledPartIsRetriedFromWhereItStopped) {
  Serve(kPart, Mode::kStallOnce);
  RegistryOptions options = TestOptions();
  options.stall_timeout = std::chrono::milliseconds(300);
  options.retry_delay = std::chrono::milliseconds(1000);  // not used: the stalled try made progress
  auto start = std::chrono::steady_clock::now();
  Status s = DoPull(options);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(ReadFile(store_.BlobPath(layer_digest_)), layer_);
  // The second request asks only for the half the stalled one did not deliver.
  EXPECT_EQ(registry_.Ranges(layer_digest_),
            (std::vector<std::string>{"bytes=0-524287", "bytes=262144-524287"}));
  // Given up after the 300 ms stall timeout, not after the server's 20 s.
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST_F(RegistryTest, ConcurrentPullsShareOneDownload) {
  std::string manifest = Serve(4 * kPart);
  registry_.HoldBlobs(true);
  std::mutex mu;
  std::vector<Progress> second_progress;
  Status first, second;
  std::thread a([&] { first = Pull(store_, Name(), TestOptions(), [](auto&) { return true; }); });
  // Pull A has all four parts of the layer in flight (held by the registry).
  for (int i = 0; i < 5000 && registry_.Ranges(layer_digest_).size() < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(registry_.Ranges(layer_digest_).size(), 4u);
  std::thread b([&] {
    second = Pull(store_, Name(), TestOptions(), [&](const Progress& p) {
      std::lock_guard lock(mu);
      second_progress.push_back(p);
      return true;
    });
  });
  // Pull B reports the layer (A's progress) while it waits for A's download.
  const std::string pulling = "pulling " + layer_digest_.hex().substr(0, 12);
  auto b_waits = [&] {
    std::lock_guard lock(mu);
    return std::any_of(second_progress.begin(), second_progress.end(),
                       [&](const Progress& p) { return p.status == pulling; });
  };
  for (int i = 0; i < 5000 && !b_waits(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(b_waits());
  registry_.HoldBlobs(false);
  a.join();
  b.join();
  ASSERT_TRUE(first.ok()) << first.message();
  ASSERT_TRUE(second.ok()) << second.message();
  // Each part was fetched once: B found the blob in the store.
  EXPECT_EQ(registry_.Ranges(layer_digest_).size(), 4u);
  EXPECT_EQ(ReadFile(store_.BlobPath(layer_digest_)), layer_);
  EXPECT_EQ(ReadFile(store_.ManifestPath(Name())), manifest);
  ASSERT_FALSE(second_progress.empty());
  EXPECT_EQ(second_progress.back().status, "success");
  for (const Progress& p : second_progress) {
    if (p.status != pulling) continue;
    EXPECT_EQ(p.digest, layer_digest_.String());
    EXPECT_EQ(p.total, static_cast<int64_t>(layer_.size()));
  }
}

TEST_F(RegistryTest, CancelStopsThePullAndKeepsParts) {
  Serve(4 * kPart, Mode::kThrottled);  // slow enough that the cancel comes mid-download
  int calls = 0;
  Status s = Pull(store_, Name(), TestOptions(), [&calls](const Progress& p) {
    return p.status == "pulling manifest" || ++calls < 2;
  });
  EXPECT_EQ(s.code(), StatusCode::kCancelled) << s.message();
  ExpectNothingStored();
}

TEST_F(RegistryTest, BearerChallengeIsAnsweredWithAToken) {
  std::string manifest = Serve(2 * kPart);
  registry_.RequireToken("t0k", registry_.Host());
  Status s = DoPull();
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(ReadFile(store_.ManifestPath(Name())), manifest);
  EXPECT_EQ(ReadFile(store_.BlobPath(layer_digest_)), layer_);
  ASSERT_FALSE(registry_.token_requests().empty());
  EXPECT_EQ(registry_.token_requests()[0], "fake repository:ns/model:pull");
}

TEST_F(RegistryTest, TokenRealmOnAnotherHostIsRefused) {
  Serve(100);
  registry_.RequireToken("t0k", "localhost:1");
  Status s = DoPull();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("is not the registry host"), std::string::npos) << s.message();
  EXPECT_TRUE(registry_.token_requests().empty());
  EXPECT_FALSE(fs::exists(store_.ManifestPath(Name())));
}

TEST_F(RegistryTest, PushUploadsInChunksThenTheManifest) {
  // A local model made by pulling, pushed under another name.
  std::string manifest = Serve(3 * kPart + 7);
  ASSERT_TRUE(DoPull().ok());
  store::Name other = *store::ParseName(registry_.Host() + "/ns/model:v1");
  ASSERT_TRUE(store_.CopyModel(Name(), other).ok());
  registry_.AddManifest("ns/model:tag", "");  // not used by the push
  std::vector<Progress> progress;
  // The registry has both blobs already (from Serve): the existence check skips them.
  Status s = Push(store_, other, TestOptions(), [&progress](const Progress& p) {
    progress.push_back(p);
    return true;
  });
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(registry_.patches(), 0);
  EXPECT_EQ(registry_.Manifest("ns/model:v1"), manifest);
  EXPECT_EQ(registry_.manifest_content_type(),
            "application/vnd.docker.distribution.manifest.v2+json");
  ASSERT_EQ(progress.size(), 5u);
  EXPECT_EQ(progress[0].status, "retrieving manifest");
  EXPECT_EQ(progress[1].status, "pushing " + layer_digest_.hex().substr(0, 12));
  EXPECT_EQ(progress[1].completed, progress[1].total);
  EXPECT_EQ(progress[3].status, "pushing manifest");
  EXPECT_EQ(progress[4].status, "success");
}

TEST(RegistryPushTest, UploadsMissingBlobsInChunks) {
  TempDir dir;
  FakeRegistry registry;
  store::Store store(store::StoreOptions{dir.path() + "/models", nullptr});
  std::string layer = Bytes(2 * kPart + 5, 9);
  std::istringstream in(layer);
  ASSERT_TRUE(store.WriteBlob(in, std::nullopt).ok());
  std::string config = "{}";
  std::istringstream cin(config);
  ASSERT_TRUE(store.WriteBlob(cin, std::nullopt).ok());
  store::Manifest m;
  m.config = {std::string(store::kMediaTypeConfig), store::Sha256Of(config), 2, "", ""};
  m.layers.push_back({std::string(store::kMediaTypeModel), store::Sha256Of(layer),
                      static_cast<int64_t>(layer.size()), "", ""});
  store::Name name = *store::ParseName(registry.Host() + "/ns/up:latest");
  ASSERT_TRUE(store.WriteManifest(name, m).ok());
  Status s = Push(store, name, TestOptions(), [](const Progress&) { return true; });
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(registry.patches(), 4);  // 3 chunks of the layer, 1 of the config
  EXPECT_EQ(registry.BlobContent(store::Sha256Of(layer).String()), layer);
  EXPECT_EQ(registry.Manifest("ns/up:latest"), store::SerializeManifest(m));

  // A layer that came from another model of the registry is mounted, not uploaded.
  store::Name second = *store::ParseName(registry.Host() + "/other/mounted:latest");
  store::Manifest m2 = m;
  m2.layers[0].from = registry.Host() + "/ns/up:latest";
  ASSERT_TRUE(store.WriteManifest(second, m2).ok());
  s = Push(store, second, TestOptions(), [](const Progress&) { return true; });
  ASSERT_TRUE(s.ok()) << s.message();
  // The layer was mounted from ns/up; the config has no `from`, so it is uploaded again under
  // the new repository (one more chunk).
  EXPECT_EQ(registry.mounts(), (std::vector<std::string>{"ns/up"}));
  EXPECT_EQ(registry.patches(), 5);
  EXPECT_EQ(registry.Manifest("other/mounted:latest"), store::SerializeManifest(m2));
}

TEST(RegistryHttpTest, LocationsResolveOnlyToHttp) {
  internal::Url base = *internal::ParseUrl("http://127.0.0.1:5000/v2/ns/m/blobs/x");
  EXPECT_EQ(internal::ResolveLocation(base, "/a?b=1")->String(), "http://127.0.0.1:5000/a?b=1");
  EXPECT_EQ(internal::ResolveLocation(base, "https://cdn.example/x")->String(),
            "https://cdn.example/x");
  EXPECT_EQ(internal::ResolveLocation(base, "//h2/p")->String(), "http://h2/p");
  EXPECT_EQ(internal::ResolveLocation(base, "y")->String(),
            "http://127.0.0.1:5000/v2/ns/m/blobs/y");
  EXPECT_FALSE(internal::ResolveLocation(base, "ftp://x/y").ok());
  EXPECT_FALSE(internal::ResolveLocation(base, "file:///etc/passwd").ok());
  EXPECT_FALSE(internal::ResolveLocation(base, "javascript:alert(1)").ok());
  EXPECT_FALSE(internal::ParseUrl("http://user:pw@host/").ok());
  EXPECT_EQ(internal::WithQuery(base, "digest", "sha256:ab").target,
            "/v2/ns/m/blobs/x?digest=sha256%3Aab");
}

TEST(RegistryHttpTest, CredentialsStayWithTheRegistryHost) {
  httplib::Server server;
  std::mutex mu;
  std::vector<std::string> seen;  // the Authorization header at /target, per request
  int port = server.bind_to_any_port("127.0.0.1");
  server.Get("/same", [](const auto&, auto& res) {
    res.status = 302;
    res.set_header("Location", "/target");
  });
  server.Get("/other", [port](const auto&, auto& res) {
    res.status = 307;  // another host name for the same server: a different host all the same
    res.set_header("Location", "http://localhost:" + std::to_string(port) + "/target");
  });
  server.Get("/target", [&](const auto& req, auto& res) {
    std::lock_guard lock(mu);
    seen.push_back(req.get_header_value("Authorization"));
    res.set_content("ok", "text/plain");
  });
  std::thread thread([&server] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  internal::Http http(internal::HttpOptions{});
  internal::Url base = *internal::ParseUrl("http://127.0.0.1:" + std::to_string(port) + "/same");
  auto same = http.Get(base, {{"Authorization", "Bearer secret"}}, nullptr, 1024);
  base.target = "/other";
  auto other = http.Get(base, {{"Authorization", "Bearer secret"}}, nullptr, 1024);
  server.stop();
  thread.join();
  ASSERT_TRUE(same.ok()) << same.status().message();
  ASSERT_TRUE(other.ok()) << other.status().message();
  EXPECT_EQ(same->body, "ok");
  EXPECT_EQ(other->body, "ok");
  EXPECT_EQ(seen, (std::vector<std::string>{"Bearer secret", ""}));
}

TEST(RegistryHttpTest, PlainGetReadsChunkedAndSizedBodies) {
  httplib::Server server;
  server.Get("/chunked", [](const auto&, auto& res) {
    auto step = std::make_shared<int>(0);
    res.set_chunked_content_provider("text/plain", [step](size_t, httplib::DataSink& sink) {
      if (*step == 2) {
        sink.done();
        return true;
      }
      int n = (*step)++;
      return n == 0 ? sink.write("hello ", 6) : sink.write("world", 5);
    });
  });
  server.Get("/sized", [](const auto&, auto& res) { res.set_content("abc", "text/plain"); });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&server] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto get = [&](const std::string& path, int* status) {
    std::string body;
    internal::Url url = *internal::ParseUrl("http://127.0.0.1:" + std::to_string(port) + path);
    Result<bool> done = internal::PlainGet(
        url, {}, internal::HttpOptions{},
        [status](const httplib::Response& r) {
          *status = r.status;
          return true;
        },
        [&body](const char* data, size_t size) {
          body.append(data, size);
          return true;
        });
    return done.ok() && *done ? body : "error: " + done.status().message();
  };
  int status = 0;
  EXPECT_EQ(get("/chunked", &status), "hello world");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(get("/sized", &status), "abc");
  EXPECT_EQ(get("/none", &status), "");  // httplib's 404: Content-Length 0
  EXPECT_EQ(status, 404);
  server.stop();
  thread.join();
}

TEST(RegistryPartSizeTest, OllamaSizing) {
  EXPECT_EQ(DefaultPartSize(1000), 100'000'000);
  EXPECT_EQ(DefaultPartSize(3'200'000'000), 200'000'000);
  EXPECT_EQ(DefaultPartSize(100'000'000'000), 1'000'000'000);
}

}  // namespace
}  // namespace corral::registry
