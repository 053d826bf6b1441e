// POST /api/create: from uploaded GGUF blobs, from a local model with overrides, quantization,
// every request error of ollama-api.md §1.5, pruning, and crash safety (a failure injected at
// each write step leaves the old manifest and no new one).
#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "modelgen/model_factory.h"
#include "server/create_model.h"
#include "server/create_routes.h"
#include "server/json_request.h"
#include "server/model_facts.h"
#include "server/model_info.h"
#include "server/server_state.h"
#include "server/server_test_util.h"
#include "store/store.h"
#include "template/library.h"

namespace corral::server {
namespace {

using nlohmann::json;
using test_util::AddModel;
using test_util::MakeGguf;
using test_util::ModelSpec;
using test_util::TempDir;

constexpr char kLlama3ChatTemplate[] =
    "{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>"
    "\n\n{{ message['content'] }}<|eot_id|>{% endfor %}";

std::string AsString(const std::vector<uint8_t>& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    setenv(name, value, 1);
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

// A GGUF without tensors and with chosen metadata (projectors, adapters).
std::string MetadataGguf(const std::vector<std::pair<std::string, gguf::MetaValue>>& kvs) {
  gguf::GgufWriter w;
  for (const auto& [k, v] : kvs) CHECK(w.Set(k, v).ok());
  auto zeros = [](std::span<uint8_t> out) {
    std::fill(out.begin(), out.end(), 0);
    return Status::Ok();
  };
  CHECK(w.AddTensor("v.weight", gguf::GgmlType::kF32, {32, 2}, zeros).ok());
  Result<std::vector<uint8_t>> bytes = w.WriteToBuffer();
  CHECK(bytes.ok());
  return AsString(*bytes);
}

// A store, the create handler on a loopback server, and helpers. Faults can be armed for the
// store's write stages.
class CreateTest : public ::testing::Test {
 protected:
  CreateTest()
      : state_(store::Store(
            store::StoreOptions{dir_.path() + "/models", [this](std::string_view stage) -> Status {
                                  if (!fault_stage_.empty() && stage == fault_stage_) {
                                    return IoError("injected fault at " + std::string(stage));
                                  }
                                  return Status::Ok();
                                }})) {}

  void SetUp() override {
    auto streaming = [this](const httplib::Request& req, httplib::Response& res,
                            const httplib::ContentReader& reader) {
      RequestBody body([&reader](const RequestBody::Chunk& sink) { return reader(sink); });
      CreateModelHandler(state_, req, body, res);
      body.Drain();
    };
    auto buffered = [this](const httplib::Request& req, httplib::Response& res) {
      RequestBody body([&req](const RequestBody::Chunk& sink) {
        return req.body.empty() || sink(req.body.data(), req.body.size());
      });
      CreateModelHandler(state_, req, body, res);
    };
    http_.Post("/api/create", streaming).Post("/api/create", buffered);
    port_ = http_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { http_.listen_after_bind(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    for (int i = 0; i < 500 && !http_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    client_->set_read_timeout(120, 0);
  }
  void TearDown() override {
    http_.stop();
    thread_.join();
  }

  store::Store& store() { return state_.store; }

  // Uploads bytes as a blob (what POST /api/blobs does); returns "sha256:<hex>".
  std::string Blob(std::string_view bytes) {
    std::istringstream in{std::string(bytes)};
    Result<store::Digest> d = store().WriteBlob(in, std::nullopt);
    CHECK(d.ok()) << d.status().ToString();
    return d->String();
  }

  httplib::Result Create(const json& body) {
    return client_->Post("/api/create", body.dump(), "application/json");
  }

  // The status stream's lines.
  static std::vector<json> Lines(const httplib::Result& res) {
    std::vector<json> out;
    std::istringstream in(res->body);
    for (std::string line; std::getline(in, line);) {
      out.push_back(json::parse(line, nullptr, false));
    }
    return out;
  }
  static std::vector<std::string> Statuses(const httplib::Result& res) {
    std::vector<std::string> out;
    for (const json& j : Lines(res)) {
      out.push_back(j.contains("status") ? j["status"].get<std::string>()
                                         : "error: " + j.value("error", j.dump()));
    }
    return out;
  }
  static std::string Error(const httplib::Result& res) {
    json j = json::parse(res->body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"].get<std::string>()
                                                : "<no error: " + res->body + ">";
  }

  LocalModel Load(std::string_view name) {
    Result<store::Name> n = store::ParseName(name);
    CHECK(n.ok());
    Result<store::ModelEntry> e = store().ReadModel(*n);
    CHECK(e.ok()) << e.status().ToString();
    Result<LocalModel> m = LoadLocalModel(store(), std::move(e).value());
    CHECK(m.ok()) << m.status().ToString();
    return std::move(m).value();
  }
  bool Exists(std::string_view name) {
    Result<store::Name> n = store::ParseName(name);
    return n.ok() && store().ReadModel(*n).ok();
  }
  std::string BlobText(const store::Digest& d) {
    std::ifstream in(store().BlobPath(d), std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  const store::Layer* FindLayer(const LocalModel& m, std::string_view media) {
    for (const store::Layer& l : m.entry.manifest.layers) {
      if (l.media_type == media) return &l;
    }
    return nullptr;
  }
  json Config(const LocalModel& m) {
    return json::parse(BlobText(m.entry.manifest.config.digest), nullptr, false);
  }

  // A random-weight F16 llama model (for quantization), as a blob.
  std::string F16ModelBlob() {
    Result<modelgen::ModelSpec> spec = modelgen::TinySpec("llama");
    CHECK(spec.ok());
    spec->base_type = gguf::GgmlType::kF16;
    std::string path = dir_.path() + "/f16.gguf";
    Status s = modelgen::WriteRandomModel(*spec, path);
    CHECK(s.ok()) << s.ToString();
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return Blob(ss.str());
  }

  TempDir dir_;
  std::string fault_stage_;
  ServerState state_;
  httplib::Server http_;
  int port_ = 0;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(CreateTest, FromFilesStreamsStatusesAndAutodetectsTheTemplate) {
  ModelSpec spec;
  spec.chat_template = kLlama3ChatTemplate;
  std::string model = Blob(AsString(MakeGguf(spec)));
  httplib::Result res = Create({{"model", "imported"}, {"files", {{"model.gguf", model}}}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/x-ndjson");

  LocalModel m = Load("imported");
  const tmpl::LibraryTemplate* llama3 = tmpl::FindLibraryTemplate("llama3-instruct");
  ASSERT_NE(llama3, nullptr);
  ASSERT_FALSE(llama3->stop.empty());
  const store::Layer* params = FindLayer(m, store::kMediaTypeParams);
  ASSERT_NE(params, nullptr);
  std::vector<std::string> want = {"parsing GGUF",
                                   "using existing layer " + model,
                                   "using autodetected template llama3-instruct",
                                   "creating new layer " + params->digest.String(),
                                   "writing manifest",
                                   "success"};
  EXPECT_EQ(Statuses(res), want);

  // Layers: the uploaded blob as is (from = the file name), the library template, the stops.
  const store::Layer* weights = FindLayer(m, store::kMediaTypeModel);
  ASSERT_NE(weights, nullptr);
  EXPECT_EQ(weights->digest.String(), model);
  EXPECT_EQ(weights->from, "model.gguf");
  ASSERT_TRUE(m.template_text.has_value());
  EXPECT_EQ(*m.template_text, llama3->text);
  json stop = json::array();
  for (std::string_view s : llama3->stop) stop.push_back(std::string(s));
  EXPECT_EQ(m.options, nlohmann::ordered_json({{"stop", stop}}));
  // Go's encoder escapes < and > in the params blob, as Ollama's bytes do.
  EXPECT_NE(BlobText(params->digest).find("\\u003c"), std::string::npos);
  EXPECT_EQ(BlobText(params->digest).back(), '\n');

  json config = Config(m);
  EXPECT_EQ(config["model_format"], "gguf");
  EXPECT_EQ(config["model_family"], "llama");
  EXPECT_EQ(config["model_families"], json({"llama"}));
  EXPECT_EQ(config["file_type"], "Q4_K_M");
  EXPECT_EQ(config["model_type"], HumanNumber(64 * 8 + 64));
  EXPECT_EQ(config["os"], "linux");
}

TEST_F(CreateTest, NonStreamingRepliesWithTheLastStatus) {
  std::string model = Blob(AsString(MakeGguf({})));
  httplib::Result res =
      Create({{"model", "quiet"}, {"files", {{"model.gguf", model}}}, {"stream", false}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body), json({{"status", "success"}}));
  EXPECT_TRUE(Exists("quiet"));
  // No chat template: no template layer and no params layer.
  LocalModel m = Load("quiet");
  EXPECT_FALSE(m.template_text.has_value());
  EXPECT_EQ(FindLayer(m, store::kMediaTypeParams), nullptr);
}

TEST_F(CreateTest, GgufWithoutExtensionIsDetectedByMagic) {
  std::string model = Blob(AsString(MakeGguf({})));
  httplib::Result res = Create({{"model", "magic"},
                                {"files", {{"weights", model}, {"config.json", Blob("{}")}}},
                                {"stream", false}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(Load("magic").entry.manifest.layers.size(), 1u);
}

TEST_F(CreateTest, FromLocalModelReplacesLayersAndAppendsLicense) {
  ModelSpec base;
  base.template_text = "{{ .Prompt }}";
  base.system = "old system";
  base.licenses = {"MIT"};
  base.params_json = R"({"stop":["a"],"temperature":0.5})";
  base.messages_json = R"([{"role":"user","content":"old"}])";
  AddModel(store(), "base", base);
  LocalModel before = Load("base");

  httplib::Result res = Create({{"model", "derived"},
                                {"from", "base"},
                                {"template", "{{ .System }} {{ .Prompt }}"},
                                {"system", "new system"},
                                {"license", {"Apache"}},
                                {"parameters", {{"temperature", 0.9}, {"num_ctx", 4096}}},
                                {"messages", {{{"role", "User"}, {"content", "hi"}}}},
                                {"requires", "0.14.0"},
                                {"renderer", "r1"}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  std::vector<std::string> statuses = Statuses(res);
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.back(), "success");
  const store::Layer* old_model = FindLayer(before, store::kMediaTypeModel);
  EXPECT_NE(std::find(statuses.begin(), statuses.end(),
                      "using existing layer " + old_model->digest.String()),
            statuses.end());

  LocalModel m = Load("derived");
  EXPECT_EQ(FindLayer(m, store::kMediaTypeModel)->digest, old_model->digest);
  EXPECT_EQ(FindLayer(m, store::kMediaTypeModel)->from, "base:latest");
  EXPECT_EQ(m.template_text, "{{ .System }} {{ .Prompt }}");
  EXPECT_EQ(m.system, "new system");
  EXPECT_EQ(m.licenses, (std::vector<std::string>{"MIT", "Apache"}));
  EXPECT_EQ(m.options,
            nlohmann::ordered_json::parse(R"({"num_ctx":4096,"stop":["a"],"temperature":0.9})"));
  EXPECT_EQ(m.messages, nlohmann::ordered_json::parse(R"([{"role":"user","content":"hi"}])"));
  const store::Layer* system = FindLayer(m, store::kMediaTypeSystem);
  EXPECT_NE(
      std::find(statuses.begin(), statuses.end(), "creating new layer " + system->digest.String()),
      statuses.end());
  // Exactly one layer of each replaced type.
  int templates = 0;
  for (const store::Layer& l : m.entry.manifest.layers) {
    templates += l.media_type == store::kMediaTypeTemplate;
  }
  EXPECT_EQ(templates, 1);
  // The config is the base's, with the family it had.
  EXPECT_EQ(Config(m)["model_family"], "llama");
  EXPECT_EQ(Config(m)["requires"], "0.14.0");
  EXPECT_EQ(Config(m)["renderer"], "r1");
  // The base is untouched.
  EXPECT_EQ(Load("base").entry.raw, before.entry.raw);
}

TEST_F(CreateTest, QuantizesF16ToQ8_0) {
  std::string source = F16ModelBlob();
  httplib::Result res =
      Create({{"model", "tiny:q8"}, {"files", {{"model.gguf", source}}}, {"quantize", "q8_0"}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  std::vector<json> lines = Lines(res);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), json({{"status", "success"}}));
  int progress = 0;
  int64_t last_completed = -1, total = 0;
  for (const json& l : lines) {
    if (l.value("status", "") != "quantizing F16 model to Q8_0") continue;
    ++progress;
    EXPECT_EQ(l["digest"], source);
    total = l["total"].get<int64_t>();
    int64_t completed = l.value("completed", int64_t{0});
    EXPECT_GE(completed, last_completed);
    last_completed = completed;
  }
  EXPECT_GT(progress, 2);
  EXPECT_EQ(last_completed, total);

  LocalModel m = Load("tiny:q8");
  const store::Layer* weights = FindLayer(m, store::kMediaTypeModel);
  ASSERT_NE(weights, nullptr);
  EXPECT_NE(weights->digest.String(), source);
  EXPECT_EQ(weights->from, "");
  Result<std::unique_ptr<gguf::GgufFile>> f = gguf::GgufFile::Open(m.model_path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(*(*f)->GetUint("general.file_type"), 7u);
  const gguf::TensorInfo* wq = (*f)->FindTensor("blk.0.attn_q.weight");
  ASSERT_NE(wq, nullptr);
  EXPECT_EQ(wq->type, gguf::GgmlType::kQ8_0);
  EXPECT_EQ(Config(m)["file_type"], "Q8_0");
  // No temporary file is left in blobs/.
  for (const auto& e : std::filesystem::directory_iterator(store().BlobsDir())) {
    EXPECT_TRUE(store::IsValidBlobFilename(e.path().filename().string())) << e.path();
  }

  // Quantizing to the type the model already has keeps the blob.
  res = Create({{"model", "tiny:f16"},
                {"files", {{"model.gguf", source}}},
                {"quantize", "F16"},
                {"stream", false}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(FindLayer(Load("tiny:f16"), store::kMediaTypeModel)->digest.String(), source);
}

TEST_F(CreateTest, QuantizesALocalModel) {
  std::string source = F16ModelBlob();
  ASSERT_EQ(
      Create({{"model", "tiny"}, {"files", {{"model.gguf", source}}}, {"stream", false}})->status,
      200);
  EXPECT_EQ(Config(Load("tiny"))["file_type"], "F16");
  httplib::Result res =
      Create({{"model", "tiny:q4"}, {"from", "tiny"}, {"quantize", "Q4_K"}, {"stream", false}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  LocalModel m = Load("tiny:q4");
  Result<std::unique_ptr<gguf::GgufFile>> f = gguf::GgufFile::Open(m.model_path);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*(*f)->GetUint("general.file_type"), 15u);  // Q4_K means Q4_K_M
  // The base config said F16; the quantized model's says what it is now.
  EXPECT_EQ(Config(m)["file_type"], "Q4_K_M");
  EXPECT_EQ(Config(m)["model_family"], "llama");
  EXPECT_TRUE(store().HasBlob(*store::Digest::Parse(source)));  // the base keeps its weights
}

TEST_F(CreateTest, QuantizeErrors) {
  std::string q4 = Blob(AsString(MakeGguf({})));  // general.file_type 15 (Q4_K_M)
  httplib::Result res =
      Create({{"model", "m"}, {"files", {{"model.gguf", q4}}}, {"quantize", "q9_9"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(Error(res), "unsupported quantization type Q9_9");
  res = Create({{"model", "m"}, {"files", {{"model.gguf", q4}}}, {"quantize", "q8_0"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(Error(res),
            "quantization is only supported for F16, BF16 and F32 models (Q4_K_M given)");
  EXPECT_FALSE(Exists("m"));
}

TEST_F(CreateTest, RequestErrorsAreAnsweredWithTheirStatusAndWriteNothing) {
  std::string model = Blob(AsString(MakeGguf({})));
  std::string text = Blob("hello, not a gguf");
  std::string never_uploaded = store::Sha256Of("never uploaded").String();
  std::string truncated = AsString(MakeGguf({})).substr(0, 40);
  std::string adapter =
      Blob(MetadataGguf({{"general.architecture", gguf::MetaValue::String("llama")},
                         {"general.type", gguf::MetaValue::String("adapter")}}));
  std::string adapter2 =
      Blob(MetadataGguf({{"general.architecture", gguf::MetaValue::String("llama")},
                         {"general.type", gguf::MetaValue::String("adapter")},
                         {"general.name", gguf::MetaValue::String("two")}}));
  std::string projector =
      Blob(MetadataGguf({{"general.architecture", gguf::MetaValue::String("clip")},
                         {"clip.has_vision_encoder", gguf::MetaValue::Bool(true)}}));
  struct Case {
    json body;
    int status;
    std::string error;  // exact, or a prefix when it ends with "..."
  };
  std::vector<Case> cases = {
      {json::object(), 400, "invalid model name"},  // the name is checked first, as Ollama
      {{{"model", "m"}}, 400, "neither 'from' or 'files' was specified"},
      {{{"model", "m"}, {"modelfile", "FROM x"}}, 400, "neither 'from' or 'files' was specified"},
      {{{"model", "bad name!"}, {"from", "base"}}, 400, "invalid model name"},
      {{{"from", "base"}}, 400, "invalid model name"},
      {{{"model", "m"}, {"from", "a//b"}}, 400, "invalid model name"},
      {{{"model", "m"}, {"from", "nope"}}, 404, "model 'nope' not found..."},
      {{{"model", "m"}, {"files", {{"../x.gguf", model}}}}, 400, "file path must be relative"},
      {{{"model", "m"}, {"files", {{"/x.gguf", model}}}}, 400, "file path must be relative"},
      {{{"model", "m"}, {"files", {{"a\\x.gguf", model}}}}, 400, "file path must be relative"},
      {{{"model", "m"}, {"files", {{".", model}}}}, 400, "file path must be relative"},
      {{{"model", "m"}, {"files", {{"x.gguf", ""}}}}, 400, "invalid digest format"},
      {{{"model", "m"}, {"files", {{"x.gguf", "sha256:abc"}}}}, 400, "invalid digest format"},
      {{{"model", "m"}, {"adapters", {{"../a.gguf", adapter}}}, {"from", "x"}},
       400,
       "file path must be relative"},
      {{{"model", "m"}, {"files", {{"x.gguf", never_uploaded}}}}, 400, "blob not found for..."},
      {{{"model", "m"}, {"files", {{"x.gguf", text}}}},
       400,
       "supplied file was not in GGUF format"},
      {{{"model", "m"}, {"files", {{"x.safetensors", text}}}},
       400,
       "supplied file was not in GGUF format..."},
      {{{"model", "m"}, {"files", {{"x.gguf", Blob(truncated)}}}},
       400,
       "invalid GGUF file x.gguf..."},
      {{{"model", "m"}, {"files", {{"config.json", text}}}}, 400, "unknown type"},
      {{{"model", "m"}, {"files", json::object()}}, 400, "no files provided to convert"},
      {{{"model", "m"}, {"files", {{"mmproj.gguf", projector}}}},
       400,
       "files has no GGUF model, only projectors or adapters"},
      {{{"model", "m"},
        {"files", {{"a.gguf", model}, {"b.gguf", Blob(AsString(MakeGguf({.arch = "qwen2"})))}}}},
       400,
       "only one GGUF model file is supported, got a.gguf and b.gguf"},
      {{{"model", "m"},
        {"files", {{"model.gguf", model}}},
        {"adapters", {{"a.gguf", adapter}, {"b.gguf", adapter2}}}},
       400,
       "only one adapter is currently supported"},
      {{{"model", "m"}, {"files", {{"model.gguf", model}}}, {"template", "{{ .Prompt"}},
       400,
       "template error: template: ..."},
      {{{"model", "m"}, {"files", 3}},
       400,
       "json: cannot unmarshal number into Go struct field CreateRequest.files of type "
       "map[string]string"},
      {{{"model", "m"}, {"files", {{"x.gguf", 1}}}},
       400,
       "json: cannot unmarshal number into Go struct field CreateRequest.files of type string"},
      {{{"model", "m"}, {"files", {{"x.gguf", model}}}, {"license", 5}},
       400,
       "json: cannot unmarshal number into Go value of type []string"},
      {{{"model", "m"}, {"files", {{"x.gguf", model}}}, {"messages", "hi"}},
       400,
       "json: cannot unmarshal string into Go struct field CreateRequest.messages of type "
       "[]api.Message"},
      {{{"model", "m"}, {"files", {{"x.gguf", model}}}, {"messages", {{{"role", 1}}}}},
       400,
       "json: cannot unmarshal number into Go struct field CreateRequest.messages.role of type "
       "string"},
      {{{"model", "m"}, {"files", {{"x.gguf", model}}}, {"parameters", {1, 2}}},
       400,
       "json: cannot unmarshal array into Go struct field CreateRequest.parameters of type "
       "map[string]interface {}"},
      {{{"model", "m"}, {"files", {{"x.gguf", model}}}, {"stream", "yes"}},
       400,
       "json: cannot unmarshal string into Go struct field CreateRequest.stream of type bool"},
      {{{"model", "m"}, {"files", {{"x.gguf", model}}}, {"requires", "one.two"}},
       400,
       "requires must be a valid semver (e.g. 0.14.0)"},
      {{{"model", "m"}, {"from", "x"}, {"remote_host", "http://h"}},
       400,
       "remote models (remote_host) are not supported by this server"},
  };
  for (bool stream : {true, false}) {
    for (const Case& c : cases) {
      json body = c.body;
      if (!stream) body["stream"] = false;
      if (c.body.contains("stream")) body["stream"] = c.body["stream"];
      httplib::Result res = Create(body);
      ASSERT_TRUE(res);
      EXPECT_EQ(res->status, c.status) << body.dump() << " -> " << res->body;
      std::string error = Error(res);
      if (c.error.ends_with("...")) {
        EXPECT_TRUE(error.starts_with(c.error.substr(0, c.error.size() - 3)))
            << body.dump() << " -> " << error;
      } else {
        EXPECT_EQ(error, c.error) << body.dump();
      }
      EXPECT_EQ(res->get_header_value("Content-Type"), kJsonContentType) << body.dump();
    }
  }
  httplib::Result empty = client_->Post("/api/create", "", "application/json");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 400);
  EXPECT_EQ(Error(empty), "missing request body");
  Result<std::vector<store::ModelEntry>> all = store().List();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

TEST_F(CreateTest, DetectsProjectorAndAdapterLayers) {
  std::string model = Blob(AsString(MakeGguf({})));
  std::string projector =
      Blob(MetadataGguf({{"general.architecture", gguf::MetaValue::String("clip")},
                         {"clip.has_vision_encoder", gguf::MetaValue::Bool(true)}}));
  std::string vision =
      Blob(MetadataGguf({{"general.architecture", gguf::MetaValue::String("mllama")},
                         {"mllama.vision.block_count", gguf::MetaValue::U32(2)}}));
  std::string adapter =
      Blob(MetadataGguf({{"general.architecture", gguf::MetaValue::String("llama")},
                         {"general.type", gguf::MetaValue::String("adapter")}}));
  httplib::Result res = Create({{"model", "vision"},
                                {"files", {{"model.gguf", model}, {"mmproj.gguf", projector}}},
                                {"adapters", {{"lora.gguf", adapter}}},
                                {"stream", false}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  LocalModel m = Load("vision");
  ASSERT_EQ(m.projector_paths.size(), 1u);
  EXPECT_EQ(FindLayer(m, store::kMediaTypeProjector)->from, "mmproj.gguf");
  EXPECT_EQ(FindLayer(m, store::kMediaTypeProjector)->digest.String(), projector);
  ASSERT_EQ(m.adapter_paths.size(), 1u);
  EXPECT_EQ(FindLayer(m, store::kMediaTypeAdapter)->digest.String(), adapter);
  EXPECT_EQ(FindLayer(m, store::kMediaTypeModel)->digest.String(), model);

  // A vision block count without a language-model block count is a projector too.
  res = Create({{"model", "vision2"},
                {"files", {{"a.gguf", model}, {"b.gguf", vision}}},
                {"stream", false}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(FindLayer(Load("vision2"), store::kMediaTypeProjector)->digest.String(), vision);
}

TEST_F(CreateTest, ReplacingAModelPrunesItsUnusedBlobsUnlessNoPrune) {
  std::string model = Blob(AsString(MakeGguf({})));
  auto create = [&](const std::string& system) {
    httplib::Result res = Create({{"model", "m"},
                                  {"files", {{"model.gguf", model}}},
                                  {"system", system},
                                  {"stream", false}});
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
  };
  create("one");
  store::Digest one = FindLayer(Load("m"), store::kMediaTypeSystem)->digest;
  create("two");
  EXPECT_FALSE(store().HasBlob(one));
  EXPECT_TRUE(store().HasBlob(*store::Digest::Parse(model)));
  store::Digest two = FindLayer(Load("m"), store::kMediaTypeSystem)->digest;
  {
    ScopedEnv noprune("OLLAMA_NOPRUNE", "1");
    create("three");
  }
  EXPECT_TRUE(store().HasBlob(two));
  // A blob another model still uses is never pruned.
  httplib::Result res = Create({{"model", "other"}, {"from", "m"}, {"stream", false}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  store::Digest three = FindLayer(Load("m"), store::kMediaTypeSystem)->digest;
  create("four");
  EXPECT_TRUE(store().HasBlob(three));
}

TEST_F(CreateTest, ExistingNameKeepsItsCasing) {
  std::string model = Blob(AsString(MakeGguf({})));
  ASSERT_EQ(
      Create({{"model", "MyModel"}, {"files", {{"m.gguf", model}}}, {"stream", false}})->status,
      200);
  ASSERT_EQ(
      Create({{"model", "mymodel"}, {"files", {{"m.gguf", model}}}, {"stream", false}})->status,
      200);
  Result<std::vector<store::ModelEntry>> all = store().List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].name.model, "MyModel");
}

// A failure at any write step: the previous manifest stays byte for byte, no manifest appears
// for a new name, and the blobs the failed create wrote are gone again.
TEST_F(CreateTest, FailureMidCreateLeavesNoHalfModel) {
  AddModel(store(), "m", ModelSpec{.system = "old"});
  const std::string old_raw = Load("m").entry.raw;
  for (const char* stage : {"blob.write", "blob.fsync", "blob.rename", "manifest.write",
                            "manifest.fsync", "manifest.rename"}) {
    SCOPED_TRACE(stage);
    fault_stage_ = stage;
    const std::string system = std::string("new system for ") + stage;
    for (const char* target : {"m", "fresh"}) {
      CreateRequest r;
      r.model = target;
      r.from = "m";
      r.system = system;
      r.licenses = {std::string("license ") + stage};
      std::vector<std::string> statuses;
      Status s = CreateModel(store(), r, {}, [&](const CreateProgress& p) {
        statuses.push_back(p.status);
        return true;
      });
      ASSERT_FALSE(s.ok()) << target;
      EXPECT_NE(s.message().find("injected fault"), std::string::npos) << s.message();
      EXPECT_TRUE(std::find(statuses.begin(), statuses.end(), "success") == statuses.end());
    }
    EXPECT_EQ(Load("m").entry.raw, old_raw);
    EXPECT_FALSE(Exists("fresh"));
    EXPECT_FALSE(store().HasBlob(store::Sha256Of(system)));
    // Nothing but blobs (no temp files) is left behind.
    for (const auto& e : std::filesystem::directory_iterator(store().BlobsDir())) {
      EXPECT_TRUE(store::IsValidBlobFilename(e.path().filename().string())) << e.path();
    }
  }
  // Once the fault is gone, the same create works.
  fault_stage_.clear();
  CreateRequest r;
  r.model = "m";
  r.from = "m";
  r.system = "new";
  ASSERT_TRUE(CreateModel(store(), r, {}, nullptr).ok());
  EXPECT_EQ(Load("m").system, "new");
}

TEST_F(CreateTest, AFailureAfterTheStreamStartedIsAnErrorLine) {
  AddModel(store(), "m", ModelSpec{});
  fault_stage_ = "manifest.rename";
  httplib::Result res = Create({{"model", "m2"}, {"from", "m"}, {"system", "s"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  std::vector<json> lines = Lines(res);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[lines.size() - 2], json({{"status", "writing manifest"}}));
  ASSERT_TRUE(lines.back().contains("error"));
  EXPECT_NE(lines.back()["error"].get<std::string>().find("injected fault"), std::string::npos);
  EXPECT_FALSE(Exists("m2"));

  res = Create({{"model", "m2"}, {"from", "m"}, {"system", "s"}, {"stream", false}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_NE(Error(res).find("injected fault"), std::string::npos);
}

TEST(GoJsonEncodeTest, MatchesGoEncoder) {
  json v = json::parse(
      R"({"z":1,"a":0.7,"b":1e-7,"c":4096,"d":"<&> \u2028 \u0001","e":1e21,"f":[true,null],)"
      R"("g":-0.000001,"h":123456.5})");
  EXPECT_EQ(GoJsonEncode(v),
            R"({"a":0.7,"b":1e-7,"c":4096,"d":"\u003c\u0026\u003e \u2028 \u0001","e":1e+21,)"
            R"("f":[true,null],"g":-0.000001,"h":123456.5,"z":1})"
            "\n");
  nlohmann::ordered_json ordered = {{"role", "user"}, {"content", "hi"}};
  EXPECT_EQ(GoJsonEncode(ordered), "{\"role\":\"user\",\"content\":\"hi\"}\n");
}

}  // namespace
}  // namespace corral::server
