// /api/tags, /api/show, /api/copy, /api/delete against a Server over a temporary store.
#include "server/model_routes.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <regex>

#include "server/server_test_util.h"

namespace corral::server {
namespace {

using nlohmann::json;
using test_util::AddModel;
using test_util::ModelSpec;

class ModelRoutesTest : public test_util::ServerFixture {
 protected:
  std::string ManifestPath(std::string_view name) {
    return store().ManifestPath(*store::ParseName(name));
  }
  void SetModified(std::string_view name, time_t when) {
    utimbuf t{when, when};
    ASSERT_EQ(utime(ManifestPath(name).c_str(), &t), 0);
  }
  size_t BlobCount() {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(store().BlobsDir())) {
      (void)e;
      ++n;
    }
    return n;
  }
};

// Go's time.Time JSON form with an offset (local time).
const std::regex kRfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d))");

TEST_F(ModelRoutesTest, TagsOfAnEmptyStoreIsAnEmptyList) {
  auto res = client_->Get("/api/tags");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(res->body, R"({"models":[]})");
}

TEST_F(ModelRoutesTest, TagsListsEveryFieldNewestFirst) {
  AddModel(store(), "older");
  ModelSpec spec;
  spec.parameter_count = 3'212'749'888;
  AddModel(store(), "user/newer:q4", spec);
  SetModified("older", 1'700'000'000);
  SetModified("user/newer:q4", 1'800'000'000);

  auto res = client_->Get("/api/tags");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  json models = Json(res)["models"];
  ASSERT_EQ(models.size(), 2u);
  json first = models[0];
  EXPECT_EQ(first["name"], "user/newer:q4");
  EXPECT_EQ(first["model"], "user/newer:q4");
  EXPECT_EQ(models[1]["name"], "older:latest");

  Result<store::ModelEntry> entry = store().ReadModel(*store::ParseName("user/newer:q4"));
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(first["digest"], entry->digest.hex());
  EXPECT_EQ(first["size"], entry->manifest.Size());
  std::string modified = first["modified_at"];
  EXPECT_TRUE(std::regex_match(modified, kRfc3339)) << modified;
  EXPECT_FALSE(first.contains("expires_at"));
  EXPECT_EQ(first["details"], (json{{"parent_model", ""},
                                    {"format", "gguf"},
                                    {"family", "llama"},
                                    {"families", {"llama"}},
                                    {"parameter_size", "3.2B"},
                                    {"quantization_level", "Q4_K_M"},
                                    {"context_length", 4096},
                                    {"embedding_length", 64}}));
  EXPECT_EQ(first["capabilities"], json({"completion"}));
  // The parameter count falls back to the tensors' elements (64*8 + 64).
  EXPECT_EQ(models[1]["details"]["parameter_size"], "576");
}

TEST_F(ModelRoutesTest, TagsAnswersHeadWithoutBody) {
  AddModel(store(), "m");
  auto res = client_->Head("/api/tags");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(res->body.empty());
  auto post = Post("/api/tags", "{}");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
}

TEST_F(ModelRoutesTest, ConfigDetailsWinOverTheGguf) {
  ModelSpec spec;
  spec.config["model_family"] = "qwen2";
  spec.config["model_type"] = "7.6B";
  spec.config["file_type"] = "Q8_0";
  spec.from = "qwen2:7b";
  AddModel(store(), "m", spec);
  auto res = Post("/api/show", R"({"model":"m"})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json d = Json(res)["details"];
  EXPECT_EQ(d["family"], "qwen2");
  EXPECT_EQ(d["parameter_size"], "7.6B");
  EXPECT_EQ(d["quantization_level"], "Q8_0");
  EXPECT_EQ(d["parent_model"], "qwen2:7b");
}

TEST_F(ModelRoutesTest, ShowReturnsLayersModelInfoAndTensors) {
  ModelSpec spec;
  spec.template_text = "{{ if .System }}<|system|>{{ .System }}{{ end }}{{ .Prompt }}";
  spec.system = "You are terse.";
  spec.licenses = {"MIT", "Apache-2.0"};
  spec.params_json = R"({"stop":["<|end|>","<|user|>"],"temperature":0.6,"num_ctx":4096})";
  spec.messages_json =
      R"([{"role":"user","content":"hi","images":null},{"role":"assistant","content":"yo"}])";
  spec.chat_template = "{{ messages }}";
  AddModel(store(), "Mixed/Case:Tag", spec);

  auto res = Post("/api/show", R"({"model":"mixed/case:tag"})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json j = Json(res);
  EXPECT_EQ(j["template"], *spec.template_text);
  EXPECT_EQ(j["system"], "You are terse.");
  EXPECT_EQ(j["license"], "MIT\nApache-2.0");
  EXPECT_EQ(j["parameters"],
            "stop                           \"<|end|>\"\n"
            "stop                           \"<|user|>\"\n"
            "temperature                    0.6\n"
            "num_ctx                        4096");
  EXPECT_EQ(j["messages"], json::parse(R"([{"role":"user","content":"hi"},
                                            {"role":"assistant","content":"yo"}])"));
  // The Modelfile that recreates the model: FROM the weights blob, every layer, the parameters.
  const std::string mf = j["modelfile"];
  EXPECT_TRUE(mf.starts_with("# Modelfile generated by \"ollama show\"\n")) << mf;
  EXPECT_NE(mf.find("# FROM Mixed/Case:Tag\n"), std::string::npos) << mf;  // as on disk
  EXPECT_NE(mf.find("\nFROM " + store().BlobsDir() + "/sha256-"), std::string::npos) << mf;
  EXPECT_NE(mf.find("\nTEMPLATE " + *spec.template_text + "\n"), std::string::npos) << mf;
  EXPECT_NE(mf.find("SYSTEM You are terse."), std::string::npos) << mf;
  EXPECT_NE(mf.find("PARAMETER temperature 0.6\n"), std::string::npos) << mf;
  EXPECT_NE(mf.find("PARAMETER stop <|end|>\n"), std::string::npos) << mf;
  EXPECT_NE(mf.find("\nLICENSE MIT\nLICENSE Apache-2.0\n"), std::string::npos) << mf;
  EXPECT_NE(mf.find("MESSAGE assistant yo"), std::string::npos) << mf;
  // The request's options are merged over the params layer in the Modelfile.
  auto with_options =
      Post("/api/show", R"({"model":"mixed/case:tag","options":{"temperature":0.2}})");
  EXPECT_NE(Json(with_options)["modelfile"].get<std::string>().find("PARAMETER temperature 0.2\n"),
            std::string::npos);
  EXPECT_TRUE(std::regex_match(j["modified_at"].get<std::string>(), kRfc3339));
  EXPECT_EQ(j["capabilities"], json({"completion"}));

  json info = j["model_info"];
  EXPECT_FALSE(info.contains("general.name"));
  EXPECT_FALSE(info.contains("tokenizer.chat_template"));
  EXPECT_EQ(info["general.architecture"], "llama");
  EXPECT_EQ(info["general.file_type"], 15);
  EXPECT_EQ(info["llama.context_length"], 4096);
  EXPECT_EQ(info["llama.use_parallel_residual"], true);
  EXPECT_EQ(info["llama.rope.freq_base"], 10000.0);
  EXPECT_EQ(info["llama.attention.layer_norm_rms_epsilon"].dump(), "1e-05");
  // Without verbose Ollama's reader collects no array elements: null, but [] stays [].
  EXPECT_TRUE(info["tokenizer.ggml.tokens"].is_null());
  EXPECT_TRUE(info["tokenizer.ggml.small"].is_null());
  EXPECT_EQ(info["tokenizer.ggml.empty"], json::array());
  EXPECT_EQ(j["tensors"], json::parse(R"([{"name":"token_embd.weight","type":"F32","shape":[64,8]},
                                          {"name":"output_norm.weight","type":"F32","shape":[64]}])"));

  auto verbose =
      Post("/api/show", R"({"model":"Mixed/Case:Tag","verbose":true,"system":"Override"})");
  ASSERT_TRUE(verbose);
  ASSERT_EQ(verbose->status, 200);
  json v = Json(verbose);
  EXPECT_EQ(v["system"], "Override");
  EXPECT_EQ(v["model_info"]["tokenizer.ggml.tokens"].size(), 8u);
  EXPECT_EQ(v["model_info"]["tokenizer.ggml.tokens"][1], "<s>");
  EXPECT_EQ(v["model_info"]["tokenizer.ggml.small"], json({1, 2}));
  EXPECT_EQ(v["model_info"]["tokenizer.ggml.scores"][3], -1.0);

  // The GGUF's parts are cached per model after the first show: the same reply, and a verbose
  // show in between leaves no arrays behind.
  auto again = Post("/api/show", R"({"model":"mixed/case:tag"})");
  ASSERT_TRUE(again);
  EXPECT_EQ(Json(again), j);
}

TEST_F(ModelRoutesTest, ShowAcceptsNameAndTheCopilotQuirk) {
  AddModel(store(), "m");
  httplib::Headers headers = {{"User-Agent", "GitHubCopilotChat/0.1"}};
  auto res = client_->Post("/api/show", headers, R"({"name":"m"})", "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(Json(res)["model_info"]["general.basename"], "m");
  auto plain = Post("/api/show", R"({"name":"m"})");
  EXPECT_FALSE(Json(plain)["model_info"].contains("general.basename"));
}

TEST_F(ModelRoutesTest, ShowWithoutTemplateLayerUsesTheGgufChatTemplateOrDefault) {
  ModelSpec jinja;
  jinja.chat_template = "{% for m in messages %}<think>{{ tools }}</think>{% endfor %}";
  AddModel(store(), "jinja", jinja);
  AddModel(store(), "plain");
  json j = Json(Post("/api/show", R"({"model":"jinja"})"));
  EXPECT_EQ(j["template"], jinja.chat_template);
  EXPECT_EQ(j["capabilities"], json({"completion", "tools", "thinking"}));
  json p = Json(Post("/api/show", R"({"model":"plain"})"));
  EXPECT_EQ(p["template"], "{{ .Prompt }}");
  EXPECT_EQ(p["capabilities"], json({"completion"}));
}

TEST_F(ModelRoutesTest, ShowCapabilities) {
  ModelSpec tools;
  tools.template_text =
      "{{ range .Messages }}{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}"
      "{{ .Content }}{{ end }}{{ if .Tools }}{{ .Tools }}{{ end }}{{ .Suffix }}";
  AddModel(store(), "tools", tools);
  ModelSpec embed;
  embed.pooling = true;
  AddModel(store(), "embed", embed);
  ModelSpec vision;
  vision.vision = true;
  AddModel(store(), "vision", vision);
  ModelSpec image;
  image.with_gguf = false;
  image.config["capabilities"] = {"image"};
  AddModel(store(), "image", image);

  auto caps = [&](const char* name) {
    auto res = Post("/api/show", std::string(R"({"model":")") + name + "\"}");
    EXPECT_EQ(res->status, 200) << res->body;
    return Json(res)["capabilities"];
  };
  EXPECT_EQ(caps("tools"), json({"completion", "tools", "insert", "thinking"}));
  EXPECT_EQ(caps("embed"), json({"embedding"}));
  EXPECT_EQ(caps("vision"), json({"completion", "vision"}));
  EXPECT_EQ(caps("image"), json({"image"}));
}

TEST_F(ModelRoutesTest, ShowErrors) {
  AddModel(store(), "m");
  struct Case {
    std::string body;
    int status;
    std::string error;
  };
  std::vector<Case> cases = {
      {"", 400, "missing request body"},
      {"  \n", 400, "missing request body"},
      {"{}", 400, "model is required"},
      {"null", 400, "model is required"},
      {R"({"model":""})", 400, "model is required"},
      {R"({"model":"nope"})", 404, "model 'nope:latest' not found"},
      {R"({"model":"ns/nope:v1"})", 404, "model 'ns/nope:v1' not found"},
      {R"({"model":"../../etc/passwd"})", 400, "invalid model name"},
      {R"({"model":"a/../../b"})", 400, "invalid model name"},
      {R"({"model":"m:"})", 400, "invalid model name"},
      {R"({"model":1})", 400,
       "json: cannot unmarshal number into Go struct field ShowRequest.model of type string"},
      {R"({"model":"m","verbose":"yes"})", 400,
       "json: cannot unmarshal string into Go struct field ShowRequest.verbose of type bool"},
      {R"({"model":"m","options":[1]})", 400,
       "json: cannot unmarshal array into Go struct field ShowRequest.options of type "
       "map[string]interface {}"},
      {R"([1,2])", 400, "json: cannot unmarshal array into Go value of type api.ShowRequest"},
      {R"({"model":"m")", 400, "unexpected EOF"},
      {R"({"model" "m"})", 400, "invalid character '\"' after object key"},
      {R"({model:"m"})", 400, "invalid character 'm' looking for beginning of object key string"},
      {R"(nope)", 400, "invalid character 'o' in literal null (expecting 'u')"},
  };
  for (const Case& c : cases) {
    auto res = Post("/api/show", c.body);
    ASSERT_TRUE(res) << c.body;
    EXPECT_EQ(res->status, c.status) << c.body;
    EXPECT_EQ(Error(res), c.error) << c.body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json; charset=utf-8");
  }
  // Trailing bytes after the first JSON value are ignored, as Go's json.Decoder does; field
  // names match case-insensitively.
  auto ok = Post("/api/show", R"({"Model":"m"} trailing)");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  auto get = client_->Get("/api/show");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
}

// A raw request on its own connection; returns everything the server sent back.
std::string RawRequest(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

TEST_F(ModelRoutesTest, PostWithoutContentLengthIsAnEmptyBodyNotAWait) {
  auto start = std::chrono::steady_clock::now();
  std::string reply = RawRequest(server_->port(),
                                 "POST /api/show HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 "Connection: close\r\n\r\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_NE(reply.find("HTTP/1.1 400"), std::string::npos) << reply;
  EXPECT_NE(reply.find(R"({"error":"missing request body"})"), std::string::npos) << reply;
}

TEST_F(ModelRoutesTest, OversizedJsonBodyIs413AndTheConnectionStaysUsable) {
  server_->Shutdown();
  thread_.join();
  state_.limits.max_json_body_bytes = 1024;
  StartServer();
  AddModel(store(), "m");
  client_->set_keep_alive(true);
  std::string big = R"({"model":"m","system":")" + std::string(4096, 'x') + "\"}";
  auto res = Post("/api/show", big);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(Error(res), "request body too large");
  auto next = Post("/api/show", R"({"model":"m"})");  // same connection
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
}

TEST_F(ModelRoutesTest, CopyMakesASecondNameForTheSameBlobs) {
  AddModel(store(), "src");
  size_t blobs = BlobCount();
  auto res = Post("/api/copy", R"({"source":"SRC","destination":"user/dst:v2"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_TRUE(res->body.empty());
  Result<store::ModelEntry> a = store().ReadModel(*store::ParseName("src"));
  Result<store::ModelEntry> b = store().ReadModel(*store::ParseName("user/dst:v2"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->raw, b->raw);
  EXPECT_EQ(BlobCount(), blobs);
  // Copying onto itself is a no-op success.
  auto self = Post("/api/copy", R"({"source":"src","destination":"src:latest"})");
  EXPECT_EQ(self->status, 200);
}

TEST_F(ModelRoutesTest, CopyErrors) {
  AddModel(store(), "src");
  struct Case {
    std::string body;
    int status;
    std::string error;
  };
  std::vector<Case> cases = {
      {"", 400, "missing request body"},
      {"{}", 400, "source \"\" is invalid"},
      {R"({"source":"../x","destination":"y"})", 400, "source \"../x\" is invalid"},
      {R"({"source":"src","destination":"a/b/c/d/e"})", 400,
       "destination \"a/b/c/d/e\" is invalid"},
      {R"({"source":"src","destination":"..%2f"})", 400, "destination \"..%2f\" is invalid"},
      {R"({"source":"missing","destination":"y"})", 404, "model \"missing\" not found"},
      {R"({"source":true,"destination":"y"})", 400,
       "json: cannot unmarshal bool into Go struct field CopyRequest.source of type string"},
  };
  for (const Case& c : cases) {
    auto res = Post("/api/copy", c.body);
    ASSERT_TRUE(res) << c.body;
    EXPECT_EQ(res->status, c.status) << c.body;
    EXPECT_EQ(Error(res), c.error) << c.body;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/x"));
}

TEST_F(ModelRoutesTest, DeleteRemovesTheManifestAndOnlyUnsharedBlobs) {
  ModelSpec other;
  other.system = "only in a";
  AddModel(store(), "a", other);
  AddModel(store(), "b");
  size_t before = BlobCount();
  auto res = Delete("/api/delete", R"({"model":"A"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_TRUE(res->body.empty());
  EXPECT_FALSE(std::filesystem::exists(ManifestPath("a")));
  // The config and weights are shared with b (same bytes); only the system layer goes.
  EXPECT_EQ(BlobCount(), before - 1);
  EXPECT_EQ(Post("/api/show", R"({"model":"b"})")->status, 200);
  auto again = Delete("/api/delete", R"({"model":"a"})");
  EXPECT_EQ(again->status, 404);
  EXPECT_EQ(Error(again), "model 'a' not found");
}

TEST_F(ModelRoutesTest, DeleteErrors) {
  AddModel(store(), "keep");
  struct Case {
    std::string body;
    int status;
    std::string error;
  };
  std::vector<Case> cases = {
      {"", 400, "missing request body"},
      {"{}", 400, "name \"\" is invalid"},
      {R"({"name":"../../keep"})", 400, "name \"../../keep\" is invalid"},
      {R"({"model":"registry.ollama.ai/library/../keep"})", 400,
       "name \"registry.ollama.ai/library/../keep\" is invalid"},
      {R"({"name":"Nope:v1"})", 404, "model 'Nope:v1' not found"},
      {R"({"model":{}})", 400,
       "json: cannot unmarshal object into Go struct field DeleteRequest.model of type string"},
  };
  for (const Case& c : cases) {
    auto res = Delete("/api/delete", c.body);
    ASSERT_TRUE(res) << c.body;
    EXPECT_EQ(res->status, c.status) << c.body;
    EXPECT_EQ(Error(res), c.error) << c.body;
  }
  EXPECT_TRUE(std::filesystem::exists(ManifestPath("keep")));
  auto post = Post("/api/delete", R"({"model":"keep"})");
  EXPECT_EQ(post->status, 405);
}

TEST(FormatTest, ParametersAndGoFloats) {
  EXPECT_EQ(GoFloatV(40), "40");
  EXPECT_EQ(GoFloatV(0.6), "0.6");
  EXPECT_EQ(GoFloatV(1e-5), "1e-05");
  EXPECT_EQ(GoFloatV(0.0001), "0.0001");
  EXPECT_EQ(GoFloatV(100000), "100000");
  EXPECT_EQ(GoFloatV(1e6), "1e+06");
  EXPECT_EQ(GoFloatV(123456789), "1.23456789e+08");
  EXPECT_EQ(GoFloatV(-2.5), "-2.5");
  nlohmann::ordered_json opts = nlohmann::ordered_json::parse(
      R"({"stop":["a\"b"],"mirostat":true,"a_very_long_parameter_name_over_30":1})");
  EXPECT_EQ(FormatParameters(opts),
            "stop                           \"a\\\"b\"\n"
            "mirostat                       true\n"
            "a_very_long_parameter_name_over_30 1");
  EXPECT_EQ(FormatParameters(nlohmann::ordered_json::object()), "");
}

}  // namespace
}  // namespace corral::server
