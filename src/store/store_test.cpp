#include "store/store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

namespace corral::store {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "corral-store-XXXXXX").string();
    CHECK(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    // Restore write permission first (a test may have made a directory read-only).
    for (auto it = fs::recursive_directory_iterator(path_, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory()) chmod(it->path().c_str(), 0755);
    }
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, std::string_view bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void SetMTime(const std::string& path, std::time_t seconds) {
  timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

// Every file (with its bytes) and directory ("<dir>") under root, by relative path.
std::map<std::string, std::string> Snapshot(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    std::string rel = fs::relative(e.path(), root).string();
    out[rel] = e.is_directory() ? "<dir>" : ReadFile(e.path().string());
  }
  return out;
}

mode_t Mode(const std::string& path) {
  struct stat st {};
  CHECK(stat(path.c_str(), &st) == 0) << path;
  return st.st_mode & 07777;
}

struct TestBlob {
  std::string media_type;
  std::string bytes;
  Digest digest() const { return Sha256Of(bytes); }
};

// The bytes Ollama's json.Encoder writes for a manifest, spelled out by hand so the fixture does
// not depend on our serializer.
std::string OllamaManifestJson(const TestBlob& config, const std::vector<TestBlob>& layers) {
  std::string s =
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
      R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" +
      config.digest().String() + R"(","size":)" + std::to_string(config.bytes.size()) +
      R"(},"layers":[)";
  for (size_t i = 0; i < layers.size(); ++i) {
    if (i > 0) s += ",";
    s += R"({"mediaType":")" + layers[i].media_type + R"(","digest":")" +
         layers[i].digest().String() + R"(","size":)" + std::to_string(layers[i].bytes.size()) +
         "}";
  }
  return s + "]}\n";
}

const TestBlob kModel1{"application/vnd.ollama.image.model", "GGUF-v3 model one weights"};
const TestBlob kModel2{"application/vnd.ollama.image.model", "GGUF-v3 model two weights!"};
const TestBlob kModel3{"application/vnd.ollama.image.model", "GGUF-v3 hf model"};
const TestBlob kTemplate{"application/vnd.ollama.image.template", "{{ .Prompt }}"};
const TestBlob kLicense{"application/vnd.ollama.image.license", "MIT License ..."};
const TestBlob kConfig1{"", R"({"model_format":"gguf","model_family":"llama","file_type":"Q8_0"})"};
const TestBlob kConfig2{"", R"({"model_format":"gguf","model_family":"qwen2","file_type":"F16"})"};
const TestBlob kConfig3{"",
                        R"({"model_format":"gguf","model_family":"gemma3","file_type":"Q4_K_M"})"};

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() + "/models";
    for (const TestBlob* b :
         {&kModel1, &kModel2, &kModel3, &kTemplate, &kLicense, &kConfig1, &kConfig2, &kConfig3}) {
      WriteFile(BlobFile(b->digest().Filename()), b->bytes);
    }
    llama_ = OllamaManifestJson(kConfig1, {kModel1, kTemplate, kLicense});
    mine_ = OllamaManifestJson(kConfig2, {kModel2, kLicense});
    hf_ = OllamaManifestJson(kConfig3, {kModel3});
    WriteFile(ManifestFile("registry.ollama.ai/library/llama3.2/latest"), llama_);
    WriteFile(ManifestFile("registry.ollama.ai/library/llama3.2/1b"), llama_);
    WriteFile(ManifestFile("registry.ollama.ai/user/mine/v1"), mine_);
    WriteFile(ManifestFile("hf.co/bartowski/Model-GGUF/Q4_K_M"), hf_);
    // Things a real folder collects, none of which is a model.
    WriteFile(ManifestFile("registry.ollama.ai/library/llama3.2/.DS_Store"), "Bud1");
    WriteFile(ManifestFile("registry.ollama.ai/library/stray"), llama_);
    WriteFile(ManifestFile("registry.ollama.ai/library/deep/tag/extra"), llama_);
    WriteFile(ManifestFile("bad host!/library/m/latest"), llama_);
    WriteFile(ManifestFile("registry.ollama.ai/lib.rary/m/latest"), llama_);
  }

  std::string ManifestFile(const std::string& rel) const { return root_ + "/manifests/" + rel; }
  std::string BlobFile(const std::string& file) const { return root_ + "/blobs/" + file; }
  Store MakeStore(internal::FaultHook hook = {}) const {
    return Store(StoreOptions{root_, std::move(hook)});
  }
  static Name N(std::string_view s) {
    Result<Name> n = ParseName(s);
    CHECK(n.ok()) << n.status().ToString();
    return *n;
  }

  TempDir dir_;
  std::string root_;
  std::string llama_, mine_, hf_;
};

TEST_F(StoreTest, ListsExistingOllamaLayout) {
  SetMTime(ManifestFile("registry.ollama.ai/library/llama3.2/latest"), 1'700'000'000);
  Store store = MakeStore();
  Result<std::vector<ModelEntry>> list = store.List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> names;
  for (const ModelEntry& e : *list) names.push_back(e.name.DisplayShortest());
  EXPECT_EQ(names, (std::vector<std::string>{"hf.co/bartowski/Model-GGUF:Q4_K_M", "llama3.2:1b",
                                             "llama3.2:latest", "user/mine:v1"}));
  const ModelEntry& llama = (*list)[2];
  EXPECT_EQ(llama.manifest_path, ManifestFile("registry.ollama.ai/library/llama3.2/latest"));
  EXPECT_EQ(llama.raw, llama_);
  EXPECT_EQ(llama.digest, Sha256Of(ReadFile(llama.manifest_path)));
  EXPECT_EQ(llama.size, static_cast<int64_t>(kConfig1.bytes.size() + kModel1.bytes.size() +
                                             kTemplate.bytes.size() + kLicense.bytes.size()));
  EXPECT_EQ(std::chrono::system_clock::to_time_t(llama.modified), 1'700'000'000);
  ASSERT_EQ(llama.manifest.layers.size(), 3u);
  EXPECT_EQ(llama.manifest.config.digest, kConfig1.digest());
  EXPECT_EQ(llama.manifest.layers[0].media_type, kMediaTypeModel);
  EXPECT_EQ(llama.manifest.layers[0].digest, kModel1.digest());
  // Same bytes, same digest: Ollama shows both tags with one ID.
  EXPECT_EQ((*list)[1].digest, llama.digest);
  EXPECT_NE((*list)[3].digest, llama.digest);
}

TEST_F(StoreTest, EmptyOrMissingRootListsNothing) {
  TempDir empty;
  Store store(StoreOptions{empty.path() + "/does/not/exist", {}});
  Result<std::vector<ModelEntry>> list = store.List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_TRUE(list->empty());
}

TEST_F(StoreTest, ReadModelResolvesCasingOnDisk) {
  Store store = MakeStore();
  Result<ModelEntry> e = store.ReadModel(N("LLama3.2:LATEST"));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->name, N("llama3.2:latest"));
  EXPECT_EQ(e->raw, llama_);

  Result<Name> r = store.Resolve(N("HF.CO/BARTOWSKI/model-gguf:q4_k_m"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->String(), "hf.co/bartowski/Model-GGUF:Q4_K_M");
  // Parts not on disk keep the casing given; the parts above them still resolve.
  r = store.Resolve(N("USER/NewModel:Tag"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->String(), "registry.ollama.ai/user/NewModel:Tag");
  // An exact match wins over a case-insensitive one.
  WriteFile(ManifestFile("registry.ollama.ai/user/mine/V1"), mine_);
  r = store.Resolve(N("user/mine:V1"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tag, "V1");
  r = store.Resolve(N("user/mine:v1"));  // "V1" sorts first and matches ignoring case
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tag, "v1");
}

TEST_F(StoreTest, ReadModelErrorsSayWhatIsWrong) {
  Store store = MakeStore();
  Result<ModelEntry> e = store.ReadModel(N("nosuch:1b"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(e.status().message(), "model \"nosuch:1b\" not found");

  WriteFile(ManifestFile("registry.ollama.ai/library/broken/latest"), "{\"schemaVersion\":2,");
  e = store.ReadModel(N("broken"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kCorruption);
  EXPECT_NE(e.status().message().find(ManifestFile("registry.ollama.ai/library/broken/latest")),
            std::string::npos)
      << e.status().message();

  // A directory where the manifest file should be.
  fs::create_directories(ManifestFile("registry.ollama.ai/library/isdir/latest"));
  e = store.ReadModel(N("isdir"));
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("not a regular file"), std::string::npos);

  // A hand-made Name that skipped validation never reaches the filesystem.
  Name evil{"", "registry.ollama.ai", "library", "../../../../etc", "passwd"};
  e = store.ReadModel(evil);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, ListSkipsCorruptManifests) {
  WriteFile(ManifestFile("registry.ollama.ai/library/broken/latest"), "not json");
  Store store = MakeStore();
  Result<std::vector<ModelEntry>> list = store.List();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 4u);
}

TEST_F(StoreTest, WriteManifestIsOllamasBytesWrittenAtomically) {
  Store store = MakeStore();
  store::Manifest m;
  m.config = Layer{std::string(kMediaTypeConfig), kConfig2.digest(),
                   static_cast<int64_t>(kConfig2.bytes.size()), "", ""};
  m.layers.push_back(Layer{std::string(kMediaTypeModel), kModel2.digest(),
                           static_cast<int64_t>(kModel2.bytes.size()), "", ""});
  ASSERT_TRUE(store.WriteManifest(N("new/model:v2"), m).ok());
  std::string path = ManifestFile("registry.ollama.ai/new/model/v2");
  EXPECT_EQ(ReadFile(path), SerializeManifest(m));
  EXPECT_EQ(ReadFile(path), OllamaManifestJson(kConfig2, {kModel2}));
  EXPECT_EQ(Mode(path), 0644u);
  EXPECT_EQ(Mode(ManifestFile("registry.ollama.ai/new")), 0755u);
  EXPECT_EQ(fs::directory_entry(path).path().parent_path(),
            fs::path(ManifestFile("registry.ollama.ai/new/model")));
  // Only the manifest in its directory: no temp file left.
  EXPECT_EQ(std::distance(fs::directory_iterator(ManifestFile("registry.ollama.ai/new/model")),
                          fs::directory_iterator()),
            1);
  Result<ModelEntry> e = store.ReadModel(N("new/model:v2"));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->manifest, m);

  // Overwriting replaces the content; a differently cased name lands on the same file.
  m.layers.push_back(Layer{std::string(kMediaTypeLicense), kLicense.digest(),
                           static_cast<int64_t>(kLicense.bytes.size()), "", ""});
  ASSERT_TRUE(store.WriteManifest(N("NEW/Model:V2"), m).ok());
  EXPECT_EQ(ReadFile(path), SerializeManifest(m));
  EXPECT_FALSE(fs::exists(ManifestFile("registry.ollama.ai/NEW")));
}

TEST_F(StoreTest, WriteManifestBytesStoresBytesAsGiven) {
  Store store = MakeStore();
  std::string bytes = "  " + mine_ + "\n\n";  // not our serialization: must be kept
  ASSERT_TRUE(store.WriteManifestBytes(N("pulled:x"), bytes).ok());
  EXPECT_EQ(ReadFile(ManifestFile("registry.ollama.ai/library/pulled/x")), bytes);
  Status s = store.WriteManifestBytes(N("pulled:y"), "{garbage");
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_FALSE(fs::exists(ManifestFile("registry.ollama.ai/library/pulled/y")));
}

TEST_F(StoreTest, WriteManifestRefusesMissingBlobs) {
  Store store = MakeStore();
  auto before = Snapshot(root_);
  store::Manifest m;
  m.layers.push_back(Layer{std::string(kMediaTypeModel), Sha256Of("not stored"), 10, "", ""});
  Status s = store.WriteManifest(N("ghost"), m);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find(Sha256Of("not stored").String()), std::string::npos) << s.message();
  EXPECT_EQ(Snapshot(root_), before);
}

TEST_F(StoreTest, ManifestWriteFailureAtAnyStageLeavesOldState) {
  for (const char* stage : {"manifest.write", "manifest.fsync", "manifest.rename"}) {
    SCOPED_TRACE(stage);
    Store store = MakeStore([stage](std::string_view at) {
      return at == stage ? IoError("injected failure at " + std::string(at)) : Status::Ok();
    });
    auto before = Snapshot(root_);
    // Replacing an existing manifest: the old bytes stay.
    Status s = store.WriteManifestBytes(N("llama3.2:latest"), mine_);
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("injected failure"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("llama3.2:latest"), std::string::npos) << s.message();
    // A new name: no file, no temp file, no directory made for it.
    s = store.WriteManifestBytes(N("brand/new:tag"), mine_);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(Snapshot(root_), before);
  }
}

TEST_F(StoreTest, WriteBlobVerifiesAndStores) {
  Store store = MakeStore();
  std::string data(3 << 20, 'x');
  for (size_t i = 0; i < data.size(); i += 7) data[i] = static_cast<char>(i);
  Digest want = Sha256Of(data);
  EXPECT_FALSE(store.HasBlob(want));
  std::istringstream in(data);
  Result<Digest> got = store.WriteBlob(in, want);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, want);
  EXPECT_TRUE(store.HasBlob(want));
  EXPECT_EQ(ReadFile(BlobFile(want.Filename())), data);
  EXPECT_EQ(Mode(BlobFile(want.Filename())), 0644u);
  Result<std::string> path = store.BlobPath(want.String());
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, BlobFile(want.Filename()));

  // Without an expected digest the computed one is returned; writing it again is harmless.
  std::istringstream again(data);
  got = store.WriteBlob(again, std::nullopt);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, want);
  for (const auto& e : fs::directory_iterator(root_ + "/blobs")) {
    EXPECT_TRUE(IsValidBlobFilename(e.path().filename().string())) << e.path();
  }
}

TEST_F(StoreTest, BlobDigestMismatchIsRefusedAndLeavesNothing) {
  Store store = MakeStore();
  auto before = Snapshot(root_);
  Digest claimed = Sha256Of("what the client claims");
  std::istringstream in("what the client sends");
  Result<Digest> got = store.WriteBlob(in, claimed);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(got.status().message().find("digest mismatch, expected \"" + claimed.String()),
            std::string::npos)
      << got.status().message();
  EXPECT_NE(got.status().message().find(Sha256Of("what the client sends").String()),
            std::string::npos);
  EXPECT_EQ(Snapshot(root_), before);
}

// A stream that breaks after `limit` bytes, as a client that disconnects mid-upload.
class BreakingBuf : public std::streambuf {
 public:
  explicit BreakingBuf(size_t limit) : limit_(limit) {}

 protected:
  int_type underflow() override {
    if (given_ >= limit_) throw std::runtime_error("connection reset");
    size_t n = std::min(sizeof(buf_), limit_ - given_);
    for (size_t i = 0; i < n; ++i) buf_[i] = static_cast<char>('a' + (given_ + i) % 26);
    given_ += n;
    setg(buf_, buf_, buf_ + n);
    return traits_type::to_int_type(buf_[0]);
  }

 private:
  size_t limit_;
  size_t given_ = 0;
  char buf_[4096];
};

TEST_F(StoreTest, BlobFailureMidWriteLeavesNothing) {
  auto before = Snapshot(root_);
  {
    Store store = MakeStore();
    BreakingBuf buf(100'000);
    std::istream in(&buf);
    Result<Digest> got = store.WriteBlob(in, std::nullopt);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), StatusCode::kIoError);
    EXPECT_NE(got.status().message().find("after"), std::string::npos) << got.status().message();
    EXPECT_EQ(Snapshot(root_), before);
  }
  for (const char* stage : {"blob.write", "blob.fsync", "blob.rename"}) {
    SCOPED_TRACE(stage);
    Store store = MakeStore([stage](std::string_view at) {
      return at == stage ? IoError("disk full (injected)") : Status::Ok();
    });
    std::istringstream in("some blob bytes");
    Result<Digest> got = store.WriteBlob(in, Sha256Of("some blob bytes"));
    ASSERT_FALSE(got.ok());
    EXPECT_NE(got.status().message().find("injected"), std::string::npos);
    EXPECT_EQ(Snapshot(root_), before);
  }
  {
    // A writer dropped without Commit (the handler returned early) removes its temp file.
    Store store = MakeStore();
    Result<BlobWriter> w = store.NewBlobWriter();
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->Write("partial").ok());
    EXPECT_NE(Snapshot(root_), before);  // the temp file exists meanwhile
  }
  EXPECT_EQ(Snapshot(root_), before);
}

TEST_F(StoreTest, UnwritableStoreIsAnErrorNotACrash) {
  // blobs/ is a file: every write must fail cleanly (works as root, unlike chmod).
  TempDir other;
  WriteFile(other.path() + "/blobs", "I am a file");
  Store store(StoreOptions{other.path(), {}});
  std::istringstream in("x");
  Result<Digest> got = store.WriteBlob(in, std::nullopt);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("blobs"), std::string::npos) << got.status().message();

  WriteFile(other.path() + "/manifests", "also a file");
  Status s = store.WriteManifestBytes(N("m"), R"({"schemaVersion":2,"layers":[]})");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("manifests"), std::string::npos) << s.message();

  if (geteuid() != 0) {
    // Read-only model directory: the write fails, the old manifest stays.
    std::string dir = ManifestFile("registry.ollama.ai/library/llama3.2");
    ASSERT_EQ(chmod(dir.c_str(), 0555), 0);
    Status ro = MakeStore().WriteManifestBytes(N("llama3.2"), mine_);
    chmod(dir.c_str(), 0755);
    EXPECT_EQ(ro.code(), StatusCode::kIoError);
    EXPECT_EQ(ReadFile(ManifestFile("registry.ollama.ai/library/llama3.2/latest")), llama_);
  }
}

TEST_F(StoreTest, TraversalNamesAndDigestsAreRefused) {
  Store store = MakeStore();
  auto before = Snapshot(dir_.path());
  for (const char* digest : {"sha256:../../../../etc/passwd", "sha256-../../x",
                             "../blobs/sha256:00", "/etc/passwd", "sha256:..%2f..%2fetc", ""}) {
    Result<std::string> p = store.BlobPath(std::string_view(digest));
    EXPECT_FALSE(p.ok()) << digest;
  }
  for (const char* name : {"../x", "a/../../b", "host/ns/m:../../t", "../../../../tmp/x:y",
                           "/etc/passwd", "m:..", "..:t"}) {
    EXPECT_FALSE(ParseName(name).ok()) << name;
  }
  // Names built by hand, bypassing ParseName, are refused by every operation.
  const Name evil[] = {
      {"", "..", "..", "..", "x"},
      {"", "registry.ollama.ai", "library", "..", "latest"},
      {"", "registry.ollama.ai", "library", "m", "../../../../../tmp/pwned"},
      {"", "/tmp", "library", "m", "t"},
  };
  for (const Name& n : evil) {
    EXPECT_EQ(store.WriteManifestBytes(n, mine_).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store.ReadModel(n).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store.DeleteModel(n).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store.CopyModel(N("llama3.2"), n).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store.CopyModel(n, N("x")).code(), StatusCode::kInvalidArgument);
  }
  // A manifest (as a registry might send) whose digests point outside blobs/.
  Status s = store.WriteManifestBytes(
      N("evil"), R"({"schemaVersion":2,"layers":[{"digest":"sha256:../../../../x","size":1}]})");
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(Snapshot(dir_.path()), before);
  EXPECT_FALSE(fs::exists("/tmp/pwned"));
}

TEST_F(StoreTest, CopyModelWritesTheSameManifest) {
  Store store = MakeStore();
  ASSERT_TRUE(store.CopyModel(N("LLAMA3.2"), N("me/copy:v1")).ok());
  EXPECT_EQ(ReadFile(ManifestFile("registry.ollama.ai/me/copy/v1")), llama_);
  Result<ModelEntry> a = store.ReadModel(N("llama3.2"));
  Result<ModelEntry> b = store.ReadModel(N("me/copy:v1"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->digest, b->digest);

  Status s = store.CopyModel(N("nosuch"), N("x"));
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("nosuch"), std::string::npos);
  // Copying onto itself (in another casing) changes nothing.
  auto before = Snapshot(root_);
  ASSERT_TRUE(store.CopyModel(N("llama3.2"), N("Llama3.2:Latest")).ok());
  EXPECT_EQ(Snapshot(root_), before);
}

TEST_F(StoreTest, DeleteRemovesManifestAndOnlyUnsharedBlobs) {
  Store store = MakeStore();
  // llama3.2:latest and :1b share every blob: deleting one keeps all of them.
  ASSERT_TRUE(store.DeleteModel(N("LLama3.2:latest")).ok());
  EXPECT_FALSE(fs::exists(ManifestFile("registry.ollama.ai/library/llama3.2/latest")));
  for (const TestBlob* b : {&kModel1, &kTemplate, &kLicense, &kConfig1}) {
    EXPECT_TRUE(store.HasBlob(b->digest()));
  }
  // Removing :1b too frees model1, template and config1; the license is shared with user/mine.
  ASSERT_TRUE(store.DeleteModel(N("llama3.2:1b")).ok());
  EXPECT_FALSE(store.HasBlob(kModel1.digest()));
  EXPECT_FALSE(store.HasBlob(kTemplate.digest()));
  EXPECT_FALSE(store.HasBlob(kConfig1.digest()));
  EXPECT_TRUE(store.HasBlob(kLicense.digest()));
  EXPECT_TRUE(store.HasBlob(kModel2.digest()));
  EXPECT_TRUE(store.HasBlob(kModel3.digest()));
  // The model's now-empty directory is gone (the .DS_Store kept llama3.2/ here, so check a
  // model whose directory had nothing else).
  ASSERT_TRUE(store.DeleteModel(N("hf.co/bartowski/Model-GGUF:Q4_K_M")).ok());
  EXPECT_FALSE(fs::exists(ManifestFile("hf.co")));
  EXPECT_TRUE(fs::exists(root_ + "/manifests"));
  EXPECT_FALSE(store.HasBlob(kModel3.digest()));

  Status s = store.DeleteModel(N("llama3.2:1b"));
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "model \"llama3.2:1b\" not found");
  Result<std::vector<ModelEntry>> list = store.List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name.DisplayShortest(), "user/mine:v1");
}

TEST_F(StoreTest, HousekeepingRenamesAndPrunesOldUnreferencedFiles) {
  const std::time_t now = 1'800'000'000;
  const std::time_t old = now - 2 * 3600;
  const std::time_t recent = now - 10 * 60;
  auto put = [&](const std::string& path, std::string_view bytes, std::time_t mtime) {
    WriteFile(path, bytes);
    SetMTime(path, mtime);
  };
  // Referenced blobs, all old: kept.
  for (const auto& e : fs::directory_iterator(root_ + "/blobs")) SetMTime(e.path(), old);
  // An old-style "sha256:" name for a referenced blob: renamed, kept.
  fs::rename(BlobFile(kTemplate.digest().Filename()),
             BlobFile("sha256:" + kTemplate.digest().hex()));
  Digest orphan_old = Sha256Of("orphan old");
  Digest orphan_new = Sha256Of("orphan new");
  put(BlobFile(orphan_old.Filename()), "orphan old", old);
  put(BlobFile(orphan_new.Filename()), "orphan new", recent);
  put(BlobFile(orphan_old.Filename() + "-partial"), "partial", old);
  put(BlobFile(orphan_old.Filename() + "-partial-0"), "{}", old);
  put(BlobFile(orphan_new.Filename() + "-partial"), "in progress", recent);
  put(BlobFile("sha256-tmp-abc123"), "crashed upload", old);
  put(ManifestFile("registry.ollama.ai/library/llama3.2/.latest.tmp-Ab12Cd"), "{", old);
  fs::create_directories(ManifestFile("registry.ollama.ai/gone/model"));
  // Junk that Scan skips (not corrupt manifests: not model names).
  fs::remove(ManifestFile("registry.ollama.ai/library/llama3.2/.DS_Store"));

  Store store = MakeStore();
  HousekeepingOptions opts;
  opts.now = std::chrono::system_clock::from_time_t(now);
  Result<HousekeepingReport> r = store.Housekeeping(opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->prune_skipped) << r->prune_skip_reason;
  EXPECT_EQ(r->renamed, 1);
  EXPECT_EQ(r->blobs_removed, 1);        // orphan_old
  EXPECT_EQ(r->other_files_removed, 4);  // -partial, -partial-0, sha256-tmp, manifest temp

  EXPECT_TRUE(fs::exists(BlobFile(kTemplate.digest().Filename())));
  EXPECT_FALSE(fs::exists(BlobFile("sha256:" + kTemplate.digest().hex())));
  for (const TestBlob* b :
       {&kModel1, &kModel2, &kModel3, &kLicense, &kConfig1, &kConfig2, &kConfig3}) {
    EXPECT_TRUE(store.HasBlob(b->digest()));
  }
  EXPECT_FALSE(fs::exists(BlobFile(orphan_old.Filename())));
  EXPECT_TRUE(fs::exists(BlobFile(orphan_new.Filename())));
  EXPECT_FALSE(fs::exists(BlobFile(orphan_old.Filename() + "-partial")));
  EXPECT_FALSE(fs::exists(BlobFile(orphan_old.Filename() + "-partial-0")));
  EXPECT_TRUE(fs::exists(BlobFile(orphan_new.Filename() + "-partial")));
  EXPECT_FALSE(fs::exists(BlobFile("sha256-tmp-abc123")));
  EXPECT_FALSE(fs::exists(ManifestFile("registry.ollama.ai/library/llama3.2/.latest.tmp-Ab12Cd")));
  EXPECT_FALSE(fs::exists(ManifestFile("registry.ollama.ai/gone")));
  EXPECT_TRUE(fs::exists(ManifestFile("registry.ollama.ai/library/llama3.2/latest")));
  Result<std::vector<ModelEntry>> list = store.List();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 4u);

  // Later (the clock seam): the recent orphan is old enough now.
  opts.now += std::chrono::hours(2);
  r = store.Housekeeping(opts);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->blobs_removed, 1);
  EXPECT_EQ(r->other_files_removed, 1);
  EXPECT_FALSE(fs::exists(BlobFile(orphan_new.Filename())));
}

TEST_F(StoreTest, HousekeepingWithNoPruneOnlyRenames) {
  Digest orphan = Sha256Of("orphan");
  WriteFile(BlobFile(orphan.Filename()), "orphan");
  SetMTime(BlobFile(orphan.Filename()), 1'000'000'000);
  fs::rename(BlobFile(kLicense.digest().Filename()), BlobFile("sha256:" + kLicense.digest().hex()));
  Store store = MakeStore();
  HousekeepingOptions opts;
  opts.no_prune = true;
  Result<HousekeepingReport> r = store.Housekeeping(opts);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->prune_skipped);
  EXPECT_EQ(r->renamed, 1);
  EXPECT_TRUE(store.HasBlob(kLicense.digest()));
  EXPECT_TRUE(fs::exists(BlobFile(orphan.Filename())));
}

TEST_F(StoreTest, HousekeepingIsSkippedWhenAManifestIsCorrupt) {
  Digest orphan = Sha256Of("orphan");
  WriteFile(BlobFile(orphan.Filename()), "orphan");
  SetMTime(BlobFile(orphan.Filename()), 1'000'000'000);
  WriteFile(ManifestFile("registry.ollama.ai/library/broken/latest"), "{\"layers\":[");
  auto before = Snapshot(root_);
  Store store = MakeStore();
  Result<HousekeepingReport> r = store.Housekeeping(HousekeepingOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->prune_skipped);
  EXPECT_NE(r->prune_skip_reason.find("corrupt"), std::string::npos);
  EXPECT_NE(r->prune_skip_reason.find("broken"), std::string::npos) << r->prune_skip_reason;
  EXPECT_EQ(r->blobs_removed, 0);
  EXPECT_EQ(Snapshot(root_), before);
}

TEST_F(StoreTest, HousekeepingOnAFreshRootIsANoOp) {
  TempDir empty;
  Store store(StoreOptions{empty.path() + "/models", {}});
  Result<HousekeepingReport> r = store.Housekeeping(HousekeepingOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->renamed + r->blobs_removed + r->other_files_removed, 0);
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value == nullptr) {
      unsetenv(name);
    } else {
      setenv(name, value, 1);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(StoreEnvTest, RootAndNoPruneFromEnvironment) {
  {
    ScopedEnv models("OLLAMA_MODELS", "/data/models");
    EXPECT_EQ(Store::DefaultRoot(), "/data/models");
    EXPECT_EQ(Store::FromEnv().root(), "/data/models");
  }
  {
    ScopedEnv models("OLLAMA_MODELS", " \"/quoted/models\" ");
    EXPECT_EQ(Store::DefaultRoot(), "/quoted/models");
  }
  {
    ScopedEnv models("OLLAMA_MODELS", nullptr);
    ScopedEnv home("HOME", "/home/someone");
    EXPECT_EQ(Store::DefaultRoot(), "/home/someone/.ollama/models");
  }
  EXPECT_EQ(Store(StoreOptions{"/x/models/", {}}).BlobsDir(), "/x/models/blobs");
  const std::pair<const char*, bool> cases[] = {{"", false},      {"1", true},  {"true", true},
                                                {"false", false}, {"0", false}, {"yes", true}};
  for (const auto& [value, want] : cases) {
    ScopedEnv noprune("OLLAMA_NOPRUNE", value);
    EXPECT_EQ(Store::NoPruneFromEnv(), want) << value;
  }
}

}  // namespace
}  // namespace corral::store
