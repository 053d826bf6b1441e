// /api/generate, /api/chat, /api/embed, /api/embeddings and /api/ps against a running Server
// with real (tiny) models: random-weight ones made by tools/modelgen and, where the shared test
// data is present, stories260K compared with llama.cpp.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <future>
#include <sstream>

#include <gtest/gtest.h>

#include "modelgen/model_factory.h"
#include "server/inference_routes.h"
#include "server/server_test_util.h"
#include "testing/reference.h"
#include "testing/testdata.h"

namespace corral::server {
namespace {

using json = nlohmann::json;

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class InferenceRoutesTest : public test_util::ServerFixture {
 protected:
  void SetUp() override {}  // each test picks its Inference options, then StartServer()

  void Start(int num_parallel = 1, int max_queue = 512) {
    InferenceOptions o;
    o.num_parallel = num_parallel;
    o.n_threads = 2;
    o.scheduler.max_queue = max_queue;
    state_.inference = std::make_unique<Inference>(o);
    StartServer();
    client_->set_read_timeout(120, 0);  // generations on a busy machine take more than 5 s
  }

  // Stores a GGUF file as model `name` with optional template and params layers.
  void AddGguf(const std::string& name, const std::string& gguf_path,
               std::optional<std::string> template_text = std::nullopt,
               const std::string& params = "") {
    store::Manifest m;
    m.config = test_util::AddBlob(store(), store::kMediaTypeConfig,
                                  R"({"model_format":"gguf","model_family":"llama"})");
    m.layers.push_back(test_util::AddBlob(store(), store::kMediaTypeModel, ReadBytes(gguf_path)));
    if (template_text) {
      m.layers.push_back(test_util::AddBlob(store(), store::kMediaTypeTemplate, *template_text));
    }
    if (!params.empty()) {
      m.layers.push_back(test_util::AddBlob(store(), store::kMediaTypeParams, params));
    }
    ASSERT_TRUE(store().WriteManifest(*store::ParseName(name), m).ok());
  }

  // A tiny random-weight model of `arch`, stored as `name`.
  void AddTiny(const std::string& name, const std::string& arch = "llama",
               std::optional<std::string> template_text = std::nullopt) {
    auto spec = modelgen::TinySpec(arch);
    ASSERT_TRUE(spec.ok());
    spec->name = "inference-" + arch;
    auto path = modelgen::MakeModel(*spec, quantize::FileType::kQ8_0, dir_.path() + "/gguf", 2);
    ASSERT_TRUE(path.ok()) << path.status().ToString();
    AddGguf(name, *path, template_text);
  }

  // The NDJSON lines of a streamed reply.
  static std::vector<json> Lines(const std::string& body) {
    std::vector<json> out;
    std::istringstream in(body);
    std::string line;
    while (std::getline(in, line)) out.push_back(json::parse(line));
    return out;
  }
};

TEST_F(InferenceRoutesTest, RawGreedyOnStoriesEqualsLlamaCpp) {
  REQUIRE_SHARED_TESTDATA(stories, "models/stories260K.gguf");
  Start();
  AddGguf("stories", stories);
  auto res = Post("/api/generate", R"({"model":"stories","prompt":"Once upon a time","raw":true,
      "stream":false,"options":{"temperature":0,"num_predict":24}})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json j = Json(res);
  auto reference = testing::reference::Greedy(stories, "Once upon a time", 24);
  if (!reference.ok())
    GTEST_SKIP() << "llama.cpp reference unavailable: " << reference.status().ToString();
  EXPECT_EQ(j["response"], reference->text);
  EXPECT_EQ(j["done"], true);
  EXPECT_EQ(j["done_reason"], "length");
  EXPECT_EQ(j["eval_count"], 24);
  EXPECT_EQ(j["prompt_eval_count"], 5) << "BOS + 4 prompt tokens";
  EXPECT_FALSE(j.contains("context")) << "raw replies carry no context";
  for (const char* key :
       {"total_duration", "load_duration", "prompt_eval_duration", "eval_duration"}) {
    EXPECT_GT(j[key].get<int64_t>(), 0) << key;
  }
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json; charset=utf-8");
}

TEST_F(InferenceRoutesTest, StreamedEqualsNotStreamedAtTemperatureZero) {
  Start();
  AddTiny("tiny", "llama", "{{ .System }} USER: {{ .Prompt }} ASSISTANT:");
  const std::string body =
      R"({"model":"tiny","prompt":"hello there","options":{"temperature":0,"num_predict":20}})";
  auto whole = Post("/api/generate", body.substr(0, body.size() - 1) + R"(,"stream":false})");
  auto streamed = Post("/api/generate", body);
  ASSERT_EQ(whole->status, 200) << whole->body;
  ASSERT_EQ(streamed->status, 200) << streamed->body;
  EXPECT_EQ(streamed->get_header_value("Content-Type"), "application/x-ndjson");
  std::vector<json> lines = Lines(streamed->body);
  ASSERT_GE(lines.size(), 2u);
  std::string text;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    EXPECT_EQ(lines[i]["done"], false);
    EXPECT_EQ(lines[i]["model"], "tiny");
    EXPECT_TRUE(lines[i]["created_at"].get<std::string>().ends_with("Z"));
    text += lines[i]["response"].get<std::string>();
  }
  const json& last = lines.back();
  json w = Json(whole);
  EXPECT_EQ(text, w["response"]);
  EXPECT_EQ(last["done"], true);
  EXPECT_EQ(last["response"], "");
  EXPECT_EQ(last["context"], w["context"]);
  EXPECT_EQ(last["eval_count"], w["eval_count"]);
  // context = the rendered prompt's tokens + the generated ones.
  EXPECT_EQ(w["context"].size(),
            w["prompt_eval_count"].get<size_t>() + w["eval_count"].get<size_t>());
}

TEST_F(InferenceRoutesTest, ChatWithSchemaGivesValidJsonAndStopStringsAreHonoured) {
  Start();
  AddTiny("tiny", "llama",
          "{{ range .Messages }}<{{ .Role }}>{{ .Content }}</{{ .Role }}>{{ end }}<assistant>");
  auto res = Post("/api/chat", R"({"model":"tiny","stream":false,
      "messages":[{"role":"user","content":"Who?"}],
      "format":{"type":"object","properties":{"name":{"type":"string","maxLength":8},
                "age":{"type":"integer","minimum":0,"maximum":120}},"required":["name","age"]},
      "options":{"seed":5,"num_predict":200}})");
  ASSERT_EQ(res->status, 200) << res->body;
  json j = Json(res);
  EXPECT_EQ(j["message"]["role"], "assistant");
  EXPECT_EQ(j["done_reason"], "stop");
  json parsed = json::parse(j["message"]["content"].get<std::string>());
  ASSERT_TRUE(parsed.is_object());
  // Properties come in the schema's order (the request's key order is kept).
  EXPECT_LT(j["message"]["content"].get<std::string>().find("\"name\""),
            j["message"]["content"].get<std::string>().find("\"age\""));
  EXPECT_LE(parsed["name"].get<std::string>().size(), 8u);
  EXPECT_GE(parsed["age"].get<int>(), 0);
  EXPECT_LE(parsed["age"].get<int>(), 120);

  // A stop string taken from the middle of that output cuts it there.
  const std::string content = j["message"]["content"];
  const std::string stop = content.substr(content.find("\"age\""), 4);
  auto cut = Post("/api/chat", R"({"model":"tiny","stream":false,
      "messages":[{"role":"user","content":"Who?"}],
      "format":{"type":"object","properties":{"name":{"type":"string","maxLength":8},
                "age":{"type":"integer","minimum":0,"maximum":120}},"required":["name","age"]},
      "options":{"seed":5,"num_predict":200,"stop":[)" +
                                   json(stop).dump() + "]}}");
  ASSERT_EQ(cut->status, 200) << cut->body;
  EXPECT_EQ(Json(cut)["message"]["content"], content.substr(0, content.find(stop)));
  EXPECT_EQ(Json(cut)["done_reason"], "stop");
}

TEST_F(InferenceRoutesTest, LoadUnloadAndPs) {
  Start();
  AddTiny("tiny");
  auto ps = client_->Get("/api/ps");
  EXPECT_EQ(Json(ps), json::parse(R"({"models":[]})"));
  auto load = Post("/api/generate", R"({"model":"tiny"})");
  ASSERT_EQ(load->status, 200) << load->body;
  EXPECT_EQ(Json(load)["done_reason"], "load");
  ps = client_->Get("/api/ps");
  json models = Json(ps)["models"];
  ASSERT_EQ(models.size(), 1u);
  EXPECT_EQ(models[0]["name"], "tiny:latest");
  EXPECT_EQ(models[0]["context_length"], 2048) << "num_ctx 4096 clamped to the trained 2048";
  EXPECT_EQ(models[0]["size_vram"], 0);
  EXPECT_GT(models[0]["size"].get<int64_t>(), 0);
  EXPECT_EQ(models[0]["digest"].get<std::string>().size(), 64u);
  auto unload = Post("/api/chat", R"({"model":"tiny","messages":[],"keep_alive":0})");
  ASSERT_EQ(unload->status, 200);
  EXPECT_EQ(Json(unload)["done_reason"], "unload");
  EXPECT_EQ(Json(unload)["message"], json::parse(R"({"role":"assistant","content":""})"));
  EXPECT_EQ(Json(client_->Get("/api/ps"))["models"].size(), 0u);
}

TEST_F(InferenceRoutesTest, ErrorsNameTheProblem) {
  Start();
  AddTiny("tiny");
  struct Case {
    const char* path;
    std::string body;
    int status;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"/api/generate", R"({"model":"nope"})", 404, "model 'nope' not found"},
      {"/api/generate", R"({"model":""})", 404, "model '' not found"},
      {"/api/generate", R"({"model":"../../etc/passwd"})", 400, "invalid model name"},
      {"/api/chat", R"({"messages":[]})", 400, "model is required"},
      {"/api/embed", R"({"model":"nope","input":"x"})", 404,
       "model \"nope\" not found, try pulling it first"},
      {"/api/generate", R"({"model":"tiny","prompt":"x","raw":true,"system":"s"})", 400,
       "raw mode does not support template, system, or context"},
      {"/api/generate", R"({"model":"tiny","prompt":"x","top_logprobs":21})", 400,
       "top_logprobs must be between 0 and 20"},
      {"/api/generate", R"({"model":"tiny","prompt":"x","keep_alive":"3600"})", 400,
       "time: missing unit in duration \"3600\""},
      {"/api/generate", R"({"model":"tiny","prompt":"x","keep_alive":true})", 400,
       "Unsupported type: 'bool'"},
      {"/api/generate", R"({"model":"tiny","prompt":"x","format":"yaml"})", 400,
       "invalid format: \"\\\"yaml\\\"\"; expected \"json\" or a valid JSON Schema object"},
      {"/api/generate",
       R"({"model":"tiny","prompt":"x","format":{"type":"object","properties":{"a":{"type":"number","multipleOf":2}}}})",
       400, "unsupported JSON schema keyword 'multipleOf' at /properties/a"},
      {"/api/generate", R"({"model":"tiny","prompt":"x","think":true})", 400,
       "\"tiny\" does not support thinking"},
      {"/api/generate", R"({"model":"tiny","prompt":"x","images":["aGk="]})", 400,
       "\"tiny\" does not support image input"},
      {"/api/generate", R"({"model":"tiny","prompt":"x","options":{"top_k":"many"}})", 400,
       "option \"top_k\" must be of type integer"},
      {"/api/generate", R"({"model":"tiny","prompt":"x","options":{"top_k":-3}})", 400,
       "top_k must be >= 0, got -3"},
      {"/api/generate", R"({"model":"tiny","prompt":"x","stream":"yes"})", 400,
       "json: cannot unmarshal string into Go struct field GenerateRequest.stream of type bool"},
      {"/api/embed", R"({"model":"tiny","input":[1,2]})", 400, "invalid input type"},
      {"/api/generate", "", 400, "missing request body"},
  };
  for (const Case& c : cases) {
    auto res = Post(c.path, c.body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, c.status) << c.body << " -> " << res->body;
    EXPECT_EQ(Error(res), c.error) << c.body;
  }
}

// No silent truncation: a prompt longer than num_ctx is refused with both sizes; chat with an
// explicit truncate drops the oldest messages and says so.
TEST_F(InferenceRoutesTest, TooLongPromptIsRefusedUnlessTruncationIsAsked) {
  Start();
  AddTiny("tiny", "llama", "{{ range .Messages }}{{ .Content }} {{ end }}");
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "lorem ipsum ";
  auto res = Post("/api/generate",
                  R"({"model":"tiny","prompt":")" + long_text + R"(","options":{"num_ctx":32}})");
  ASSERT_EQ(res->status, 400) << res->body;
  EXPECT_NE(Error(res).find("more than the context length of 32"), std::string::npos) << Error(res);
  const std::string messages =
      R"([{"role":"user","content":")" + long_text +
      R"("},{"role":"assistant","content":"ok"},{"role":"user","content":"short"}])";
  auto refused = Post("/api/chat", R"({"model":"tiny","stream":false,"messages":)" + messages +
                                       R"(,"options":{"num_ctx":32,"num_predict":2}})");
  EXPECT_EQ(refused->status, 400) << refused->body;
  auto truncated =
      Post("/api/chat", R"({"model":"tiny","stream":false,"truncate":true,"messages":)" + messages +
                            R"(,"options":{"num_ctx":32,"num_predict":2}})");
  ASSERT_EQ(truncated->status, 200) << truncated->body;
  EXPECT_EQ(Json(truncated)["truncated"], true);
}

TEST_F(InferenceRoutesTest, EmbedNormalizesAndTruncatesDimensions) {
  Start();
  AddTiny("embedder", "bert");
  auto res = Post("/api/embed", R"({"model":"embedder","input":["hello world","hi"]})");
  ASSERT_EQ(res->status, 200) << res->body;
  json j = Json(res);
  ASSERT_EQ(j["embeddings"].size(), 2u);
  for (const auto& e : j["embeddings"]) {
    double norm = 0;
    for (double x : e) norm += x * x;
    EXPECT_NEAR(norm, 1.0, 1e-5);
  }
  EXPECT_GT(j["prompt_eval_count"].get<int>(), 2);
  auto cut = Post("/api/embed", R"({"model":"embedder","input":"hello world","dimensions":8})");
  json c = Json(cut);
  ASSERT_EQ(c["embeddings"][0].size(), 8u);
  double norm = 0;
  for (double x : c["embeddings"][0]) norm += x * x;
  EXPECT_NEAR(norm, 1.0, 1e-5);
  // Truncated then renormalized: proportional to the full vector's first 8 values.
  const double ratio = c["embeddings"][0][0].get<double>() / j["embeddings"][0][0].get<double>();
  for (int i = 1; i < 8; ++i) {
    EXPECT_NEAR(c["embeddings"][0][i].get<double>(), j["embeddings"][0][i].get<double>() * ratio,
                1e-5);
  }
  auto legacy = Post("/api/embeddings", R"({"model":"embedder","prompt":"hello world"})");
  json l = Json(legacy);
  ASSERT_EQ(l["embedding"].size(), j["embeddings"][0].size());
  double lnorm = 0;
  for (double x : l["embedding"]) lnorm += x * x;
  EXPECT_NEAR(l["embedding"][3].get<double>() / std::sqrt(lnorm),
              j["embeddings"][0][3].get<double>(), 1e-5)
      << "the legacy endpoint returns the same vector, not normalized";
  auto empty = Post("/api/embed", R"({"model":"embedder"})");
  EXPECT_EQ(Json(empty), json::parse(R"({"model":"embedder","embeddings":[]})"));
}

// A thinking model (its template has the tags around .Thinking, and the prompt opens the
// block): the output goes to `thinking` by default, to `content` with think:false.
TEST_F(InferenceRoutesTest, ThinkingIsSplitFromTheContent) {
  Start();
  AddTiny("thinker", "llama",
          "{{ range .Messages }}{{ if eq .Role \"user\" }}U: {{ .Content }}\n{{ else }}"
          "{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}A: {{ .Content }}\n"
          "{{ end }}{{ end }}A: <think>");
  auto show = Post("/api/show", R"({"model":"thinker"})");
  ASSERT_NE(Json(show)["capabilities"].dump().find("thinking"), std::string::npos) << show->body;
  const std::string messages = R"("messages":[{"role":"user","content":"why?"}])";
  auto on = Post("/api/chat", R"({"model":"thinker","stream":false,)" + messages +
                                  R"(,"options":{"temperature":0,"num_predict":12}})");
  ASSERT_EQ(on->status, 200) << on->body;
  json j = Json(on);
  EXPECT_FALSE(j["message"]["thinking"].get<std::string>().empty()) << on->body;
  EXPECT_EQ(j["message"]["content"], "") << "the thinking block never closed";
  auto off = Post("/api/chat", R"({"model":"thinker","stream":false,"think":false,)" + messages +
                                   R"(,"options":{"temperature":0,"num_predict":12}})");
  json k = Json(off);
  EXPECT_FALSE(k["message"].contains("thinking")) << off->body;
  EXPECT_FALSE(k["message"]["content"].get<std::string>().empty()) << off->body;
}

// The prompt setup is kept per manifest, but whether earlier thinking is dropped depends on the
// name too (deepseek-r1): a copy under such a name shares the manifest and must not reuse the
// original's setup, nor the original the copy's.
TEST_F(InferenceRoutesTest, PromptSetupCacheRespectsNameDependentThinkingRules) {
  Start();
  AddTiny("thinker", "llama",
          "{{ range .Messages }}{{ if eq .Role \"user\" }}U: {{ .Content }}\n{{ else }}"
          "A: {{ .Content }}\n{{ end }}{{ end }}A: ");
  auto copied = Post("/api/copy", R"({"source":"thinker","destination":"deepseek-r1-copy"})");
  ASSERT_EQ(copied->status, 200) << copied->body;
  auto render = [&](const std::string& model) {
    auto r = Post("/api/chat", R"({"model":")" + model +
                                   R"(","stream":false,)"
                                   R"("_debug_render_only":true,"messages":[)"
                                   R"({"role":"user","content":"q1"},)"
                                   R"({"role":"assistant","content":"<think>old</think>a1"},)"
                                   R"({"role":"user","content":"q2"}]})");
    EXPECT_EQ(r->status, 200) << r->body;
    return Json(r)["_debug_info"]["rendered_template"].get<std::string>();
  };
  const std::string kept = "U: q1\nA: <think>old</think>a1\nU: q2\nA: ";
  const std::string stripped = "U: q1\nA: a1\nU: q2\nA: ";
  EXPECT_EQ(render("thinker"), kept);
  EXPECT_EQ(render("deepseek-r1-copy"), stripped);
  EXPECT_EQ(render("thinker"), kept);
  EXPECT_EQ(render("deepseek-r1-copy"), stripped);
}

// Several streaming clients at once with 2 sequences: all finish with their own full text.
TEST_F(InferenceRoutesTest, ConcurrentStreamsAllFinish) {
  Start(/*num_parallel=*/2);
  AddTiny("tiny");
  const std::string body =
      R"({"model":"tiny","prompt":"p","raw":true,"options":{"temperature":0,"num_predict":16}})";
  const std::string expected = Json(
      Post("/api/generate", body.substr(0, body.size() - 1) + R"(,"stream":false})"))["response"];
  std::vector<std::future<std::string>> clients;
  for (int i = 0; i < 6; ++i) {
    clients.push_back(std::async(std::launch::async, [&] {
      httplib::Client c("127.0.0.1", server_->port());
      c.set_read_timeout(120, 0);  // slow generations on a busy machine
      auto r = c.Post("/api/generate", body, "application/json");
      std::string text;
      if (!r || r->status != 200) return std::string("<failed>");
      for (const json& line : Lines(r->body)) text += line["response"].get<std::string>();
      return text;
    }));
  }
  for (auto& f : clients) EXPECT_EQ(f.get(), expected);
}

// Beyond the sequences and the queue, requests get 503 at once; nothing hangs.
TEST_F(InferenceRoutesTest, FullQueueAnswers503) {
  Start(/*num_parallel=*/1, /*max_queue=*/1);
  AddTiny("tiny");
  ASSERT_EQ(Post("/api/generate", R"({"model":"tiny"})")->status, 200);  // loaded
  // The grammar lets the random model stop only after 1500 letters, so each request runs for
  // hundreds of tokens.
  const std::string slow = R"({"model":"tiny","prompt":"p","raw":true,"stream":false,
      "grammar":"root ::= [a-z]{1500}","options":{"num_predict":3000}})";
  std::vector<std::future<int>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(std::async(std::launch::async, [&] {
      httplib::Client c("127.0.0.1", server_->port());
      c.set_read_timeout(120, 0);  // slow generations on a busy machine
      auto r = c.Post("/api/generate", slow, "application/json");
      return r ? r->status : -1;
    }));
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  int ok = 0, busy = 0;
  for (auto& f : clients) {
    int status = f.get();
    ok += status == 200;
    busy += status == 503;
  }
  EXPECT_EQ(ok + busy, 5);
  EXPECT_GE(busy, 1);
  EXPECT_GE(ok, 2) << "one running and one queued are served";
}

// A client that goes away frees its sequence: with one sequence, the next request runs at once.
TEST_F(InferenceRoutesTest, DisconnectCancelsTheGeneration) {
  Start(/*num_parallel=*/1);
  AddTiny("tiny");
  ASSERT_EQ(Post("/api/generate", R"({"model":"tiny"})")->status, 200);
  // A raw connection: send the request, read the first bytes of the stream, hang up.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string request_body =
      R"({"model":"tiny","prompt":"p","grammar":"root ::= ([a-z]{10000}){2}","options":{"num_predict":20000}})";
  const std::string request = "POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                              std::to_string(request_body.size()) + "\r\n\r\n" + request_body;
  ASSERT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  char buf[512];
  const ssize_t got = read(fd, buf, sizeof buf);
  ASSERT_GT(got, 12);
  ASSERT_EQ(std::string(buf, 12), "HTTP/1.1 200") << std::string(buf, static_cast<size_t>(got));
  close(fd);
  const auto start = std::chrono::steady_clock::now();
  auto next = Post("/api/generate",
                   R"({"model":"tiny","prompt":"q","stream":false,"options":{"num_predict":2}})");
  ASSERT_EQ(next->status, 200) << next->body;
  // Uncancelled, the first generation would hold the only sequence for its 20000 letters
  // (seconds); cancelled, the next request starts at once.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
}

}  // namespace
}  // namespace corral::server
