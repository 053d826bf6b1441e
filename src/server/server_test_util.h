// Test helpers for the server: a temporary store, models written into it with our GGUF writer,
// and a Server on a free loopback port with a client.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/check.h"
#include "gguf/gguf_writer.h"
#include "server/http_server.h"
#include "server/server_state.h"
#include "store/store.h"

namespace corral::server::test_util {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "corral-server-XXXXXX").string();
    CHECK(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// What to put in a test model.
struct ModelSpec {
  std::string arch = "llama";
  bool with_gguf = true;
  uint32_t file_type = 15;       // Q4_K_M
  uint64_t parameter_count = 0;  // 0: not written (the tensors are counted)
  bool pooling = false;          // <arch>.pooling_type -> embedding
  bool vision = false;           // <arch>.vision.block_count -> vision
  std::string chat_template;     // tokenizer.chat_template, when not empty
  std::optional<std::string> template_text;
  std::optional<std::string> system;
  std::vector<std::string> licenses;
  std::string params_json;    // params layer, when not empty
  std::string messages_json;  // messages layer, when not empty
  nlohmann::json config = {
      {"model_format", "gguf"}, {"model_family", "llama"}, {"model_families", {"llama"}},
      {"model_type", ""},       {"file_type", ""},         {"architecture", "amd64"},
      {"os", "linux"}};
  std::string from;  // the model layer's "from"
};

inline std::vector<uint8_t> MakeGguf(const ModelSpec& spec) {
  gguf::GgufWriter w;
  using gguf::MetaValue;
  const std::string& a = spec.arch;
  CHECK(w.Set("general.architecture", MetaValue::String(a)).ok());
  CHECK(w.Set("general.name", MetaValue::String("Test Model")).ok());
  CHECK(w.Set("general.file_type", MetaValue::U32(spec.file_type)).ok());
  if (spec.parameter_count > 0) {
    CHECK(w.Set("general.parameter_count", MetaValue::U64(spec.parameter_count)).ok());
  }
  CHECK(w.Set(a + ".context_length", MetaValue::U32(4096)).ok());
  CHECK(w.Set(a + ".embedding_length", MetaValue::U32(64)).ok());
  CHECK(w.Set(a + ".attention.layer_norm_rms_epsilon", MetaValue::F32(1e-5f)).ok());
  CHECK(w.Set(a + ".rope.freq_base", MetaValue::F32(10000.0f)).ok());
  CHECK(w.Set(a + ".use_parallel_residual", MetaValue::Bool(true)).ok());
  if (spec.pooling) CHECK(w.Set(a + ".pooling_type", MetaValue::U32(1)).ok());
  if (spec.vision) CHECK(w.Set(a + ".vision.block_count", MetaValue::U32(2)).ok());
  CHECK(w.Set("tokenizer.ggml.model", MetaValue::String("llama")).ok());
  CHECK(w.Set("tokenizer.ggml.tokens",
              MetaValue::StringArray({"<unk>", "<s>", "</s>", "a", "b", "c", "d", "e"}))
            .ok());
  CHECK(w.Set("tokenizer.ggml.scores", MetaValue::F32Array({0, 0, 0, -1, -2, -3, -4, -5})).ok());
  CHECK(w.Set("tokenizer.ggml.small", MetaValue::I32Array({1, 2})).ok());
  CHECK(w.Set("tokenizer.ggml.empty", MetaValue::Array(gguf::ValueType::kUint32, {})).ok());
  if (!spec.chat_template.empty()) {
    CHECK(w.Set("tokenizer.chat_template", MetaValue::String(spec.chat_template)).ok());
  }
  auto zeros = [](std::span<uint8_t> out) {
    std::fill(out.begin(), out.end(), 0);
    return Status::Ok();
  };
  CHECK(w.AddTensor("token_embd.weight", gguf::GgmlType::kF32, {64, 8}, zeros).ok());
  CHECK(w.AddTensor("output_norm.weight", gguf::GgmlType::kF32, {64}, zeros).ok());
  Result<std::vector<uint8_t>> bytes = w.WriteToBuffer();
  CHECK(bytes.ok()) << bytes.status().ToString();
  return std::move(bytes).value();
}

inline store::Layer AddBlob(store::Store& s, std::string_view media_type, std::string_view bytes) {
  std::istringstream in{std::string(bytes)};
  Result<store::Digest> d = s.WriteBlob(in, std::nullopt);
  CHECK(d.ok()) << d.status().ToString();
  store::Layer layer;
  layer.media_type = std::string(media_type);
  layer.digest = *d;
  layer.size = static_cast<int64_t>(bytes.size());
  return layer;
}

// Writes the blobs and the manifest of `spec` under `name`.
inline void AddModel(store::Store& s, std::string_view name, const ModelSpec& spec = {}) {
  store::Manifest m;
  m.config = AddBlob(s, store::kMediaTypeConfig, spec.config.dump());
  if (spec.with_gguf) {
    std::vector<uint8_t> g = MakeGguf(spec);
    m.layers.push_back(
        AddBlob(s, store::kMediaTypeModel,
                std::string_view(reinterpret_cast<const char*>(g.data()), g.size())));
    m.layers.back().from = spec.from;
  }
  if (spec.template_text) {
    m.layers.push_back(AddBlob(s, store::kMediaTypeTemplate, *spec.template_text));
  }
  if (spec.system) m.layers.push_back(AddBlob(s, store::kMediaTypeSystem, *spec.system));
  for (const std::string& l : spec.licenses) {
    m.layers.push_back(AddBlob(s, store::kMediaTypeLicense, l));
  }
  if (!spec.params_json.empty()) {
    m.layers.push_back(AddBlob(s, store::kMediaTypeParams, spec.params_json));
  }
  if (!spec.messages_json.empty()) {
    m.layers.push_back(AddBlob(s, store::kMediaTypeMessages, spec.messages_json));
  }
  Result<store::Name> n = store::ParseName(name);
  CHECK(n.ok()) << n.status().ToString();
  Status written = s.WriteManifest(*n, m);
  CHECK(written.ok()) << written.ToString();
}

// A Server on 127.0.0.1:<free port> over a temporary store.
class ServerFixture : public ::testing::Test {
 protected:
  // Tests adjust state_ (limits, origins) before StartServer().
  ServerFixture() : state_(store::Store(store::StoreOptions{dir_.path() + "/models", {}})) {}

  void StartServer(std::string host = "127.0.0.1") {
    server_ = std::make_unique<Server>(ServerOptions{host, 0}, state_);
    ASSERT_TRUE(server_->Bind().ok());
    thread_ = std::thread([this] { serve_status_ = server_->Serve(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    for (int i = 0; i < 200 && !client_->Get("/"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  void SetUp() override { StartServer(); }
  void TearDown() override {
    if (!server_) return;
    client_->stop();  // a kept-alive connection would hold Shutdown for its idle timeout
    server_->Shutdown();
    thread_.join();
    EXPECT_TRUE(serve_status_.ok()) << serve_status_.ToString();
  }

  store::Store& store() { return state_.store; }

  // POST/DELETE with a JSON (or any) body; the reply's JSON when it has one.
  httplib::Result Post(const std::string& path, const std::string& body) {
    return client_->Post(path, body, "application/json");
  }
  httplib::Result Delete(const std::string& path, const std::string& body) {
    return client_->Delete(path, body, "application/json");
  }
  static nlohmann::json Json(const httplib::Result& res) {
    return nlohmann::json::parse(res->body, nullptr, false);
  }
  static std::string Error(const httplib::Result& res) {
    nlohmann::json j = Json(res);
    return j.is_object() && j.contains("error") && j["error"].is_string()
               ? j["error"].get<std::string>()
               : "<no error field: " + res->body + ">";
  }

  TempDir dir_;
  ServerState state_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  Status serve_status_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace corral::server::test_util
