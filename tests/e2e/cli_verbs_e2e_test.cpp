// The client verbs of the `corral` binary against a real `corral serve`: create, list/ls, show
// (every flag), run (its text equals /api/generate's), ps, cp, stop, rm, quantizing create,
// embedding run, push and pull through Debian's docker-registry, and the errors a user meets
// (no server, unknown model, bad Modelfile).
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "e2e_util.h"
#include "modelgen/model_factory.h"
#include "testing/subprocess.h"
#include "testing/testdata.h"

namespace corral::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// One `corral serve` on a free port over a fresh models folder, shared by the tests below.
class CliVerbsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        new fs::path(fs::temp_directory_path() / ("corral-cli-verbs-" + std::to_string(getpid())));
    fs::remove_all(*dir_);
    fs::create_directories(*dir_ / "models");
    port_ = FreeLoopbackPort();
    auto server = ChildProcess::Start(
        {CORRAL_BINARY, "serve"},
        {{"OLLAMA_HOST", HostPort()}, {"OLLAMA_MODELS", (*dir_ / "models").string()}});
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = new ChildProcess(std::move(*server));
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(std::chrono::milliseconds(200));
    for (int i = 0; i < 500; ++i) {
      if (auto res = client.Get("/"); res && res->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "corral serve did not answer: " << server_->ReadStderr();
  }

  static void TearDownTestSuite() {
    delete server_;  // kills and reaps it
    server_ = nullptr;
    if (dir_ != nullptr) fs::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }

  static std::string HostPort() { return "127.0.0.1:" + std::to_string(port_); }

  // `corral args...` against the test server, with `stdin_text` piped in.
  static ProcessResult Corral(const std::vector<std::string>& args,
                              const std::string& stdin_text = "") {
    std::vector<std::string> argv = {CORRAL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunProcess(argv, {{"OLLAMA_HOST", HostPort()}}, stdin_text, std::chrono::seconds(300));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ProcessResult{};
  }

  static json Api(const std::string& method, const std::string& path, const json& body = {}) {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(std::chrono::seconds(300));
    httplib::Result res =
        method == "GET" ? client.Get(path) : client.Post(path, body.dump(), "application/json");
    if (!res) return json{{"transport_error", httplib::to_string(res.error())}};
    json decoded = json::parse(res->body, nullptr, false);
    return decoded.is_discarded() ? json{{"status", res->status}, {"body", res->body}} : decoded;
  }

  // A folder with a Modelfile; returns the Modelfile's path.
  static std::string WriteModelfile(const std::string& name, const std::string& text) {
    fs::path folder = *dir_ / name;
    fs::create_directories(folder);
    WriteFile(folder / "Modelfile", text);
    return (folder / "Modelfile").string();
  }

  static fs::path* dir_;
  static int port_;
  static ChildProcess* server_;
};

fs::path* CliVerbsTest::dir_ = nullptr;
int CliVerbsTest::port_ = 0;
ChildProcess* CliVerbsTest::server_ = nullptr;

TEST(CliVerbsNoServerTest, EveryClientVerbSaysToStartTheServer) {
  const std::string host = "127.0.0.1:" + std::to_string(FreeLoopbackPort());
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"list"},
                                             {"ps"},
                                             {"show", "m"},
                                             {"run", "m", "hi"},
                                             {"stop", "m"},
                                             {"rm", "m"},
                                             {"cp", "a", "b"},
                                             {"pull", "m"},
                                             {"push", "m"}}) {
    std::vector<std::string> argv = {CORRAL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunProcess(argv, {{"OLLAMA_HOST", host}}, "", std::chrono::seconds(30));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->exit_code, 1) << args[0];
    EXPECT_EQ(r->err, "Error: could not connect to corral server, run 'corral serve' to start it\n")
        << args[0];
    EXPECT_EQ(r->out, "") << args[0];
  }
}

TEST_F(CliVerbsTest, StoriesThroughEveryVerb) {
  REQUIRE_SHARED_TESTDATA(gguf, "models/stories260K.gguf");
  fs::create_directories(*dir_ / "stories");
  fs::copy_file(gguf, *dir_ / "stories" / "stories260K.gguf", fs::copy_options::overwrite_existing);
  // FROM relative to the Modelfile's folder, not to the current directory. num_predict keeps
  // each run short: without it stories260K writes 10 x num_ctx tokens (half a minute a run).
  std::string modelfile =
      WriteModelfile("stories",
                     "FROM ./stories260K.gguf\n"
                     "PARAMETER temperature 0\n"
                     "PARAMETER num_predict 64\n"
                     "SYSTEM \"\"\"You are a storyteller.\nKeep it short.\"\"\"\n"
                     "LICENSE \"\"\"Test licence line one\nline two\nline three\"\"\"\n");
  ProcessResult created = Corral({"create", "stories", "-f", modelfile});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_TRUE(Contains(created.err, "success")) << created.err;
  EXPECT_TRUE(Contains(created.err, "copying file sha256:")) << created.err;
  EXPECT_EQ(created.out, "");
  // A second create finds the blob on the server and uploads nothing.
  ProcessResult again = Corral({"create", "stories", "-f", modelfile});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_FALSE(Contains(again.err, "copying file")) << again.err;

  // list / ls
  json tags = Api("GET", "/api/tags");
  ASSERT_EQ(tags["models"].size(), 1u) << tags.dump();
  const std::string digest = tags["models"][0]["digest"];
  ProcessResult list = Corral({"list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(list.out.starts_with("NAME              ID              SIZE      MODIFIED"))
      << list.out;
  EXPECT_TRUE(Contains(list.out, "\nstories:latest    " + digest.substr(0, 12) + "    "))
      << list.out;
  EXPECT_TRUE(Contains(list.out, " ago    \n")) << list.out;
  // The MODIFIED column may tick between the two runs ("Less than a second ago", "1 second
  // ago"): compare the rows up to it.
  auto up_to_modified = [](const std::string& table) {
    const size_t column = table.find("MODIFIED");
    std::string out;
    for (const std::string& row : Split(table, '\n')) out += row.substr(0, column) + "\n";
    return out;
  };
  EXPECT_EQ(up_to_modified(Corral({"ls", "STOR"}).out), up_to_modified(list.out))
      << "prefix, case-insensitive";
  EXPECT_EQ(Corral({"ls", "zzz"}).out, "NAME    ID    SIZE    MODIFIED \n");

  // show, every flag against /api/show's fields
  json shown = Api("POST", "/api/show", {{"model", "stories"}});
  ASSERT_TRUE(shown.contains("modelfile")) << shown.dump();
  ProcessResult show = Corral({"show", "stories"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  for (const char* part :
       {"  Model\n    architecture        llama", "    context length      ",
        "  Capabilities\n    completion    \n",
        "  Parameters\n    num_predict    64    \n    temperature    0     \n",
        "  System\n    You are a storyteller.    \n    Keep it short.            \n",
        "  License\n    Test licence line one    \n    line two                 \n    ...          "
        "            \n"}) {
    EXPECT_TRUE(Contains(show.out, part)) << "missing: " << part << "\nin:\n" << show.out;
  }
  EXPECT_FALSE(Contains(show.out, "Metadata"));
  ProcessResult verbose = Corral({"show", "stories", "-v"});
  EXPECT_TRUE(Contains(verbose.out, "  Metadata\n    general.architecture")) << verbose.out;
  EXPECT_TRUE(Contains(verbose.out, "  Tensors\n")) << verbose.out;
  EXPECT_EQ(Corral({"show", "stories", "--modelfile"}).out,
            shown["modelfile"].get<std::string>() + "\n");
  EXPECT_EQ(Corral({"show", "stories", "--parameters"}).out,
            shown["parameters"].get<std::string>() + "\n");
  EXPECT_EQ(Corral({"show", "stories", "--license"}).out,
            shown["license"].get<std::string>() + "\n");
  EXPECT_EQ(Corral({"show", "stories", "--system"}).out, "You are a storyteller.\nKeep it short.");
  EXPECT_EQ(Corral({"show", "stories", "--template"}).out, shown.value("template", std::string()));
  ProcessResult two_flags = Corral({"show", "stories", "--system", "--license"});
  EXPECT_EQ(two_flags.exit_code, 1);
  EXPECT_TRUE(Contains(two_flags.err, "only one of")) << two_flags.err;

  // run: the text equals /api/generate's non-streamed response for the same prompt.
  json generated = Api("POST", "/api/generate",
                       {{"model", "stories"}, {"prompt", "Once upon a time"}, {"stream", false}});
  ASSERT_TRUE(generated.contains("response")) << generated.dump();
  const std::string response = generated["response"];
  ASSERT_FALSE(response.empty());
  ProcessResult run = Corral({"run", "stories", "Once upon a time"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, response + "\n\n");
  EXPECT_EQ(run.err, "");
  // Words are joined by spaces, and piped text comes first.
  EXPECT_EQ(Corral({"run", "stories", "Once", "upon", "a", "time"}).out, response + "\n\n");
  EXPECT_EQ(Corral({"run", "stories", "a time"}, "Once upon").out, response + "\n\n");
  ProcessResult stats = Corral({"run", "stories", "--verbose", "Once upon a time"});
  EXPECT_EQ(stats.out, response + "\n\n");
  for (const char* line :
       {"total duration:       ", "load duration:        ", "prompt eval count:    ",
        "eval count:           ", "eval rate:            "}) {
    EXPECT_TRUE(Contains(stats.err, line)) << line << "\n" << stats.err;
  }
  ProcessResult as_json =
      Corral({"run", "stories", "--format", "json", "--keepalive", "10m", "Hi"});
  EXPECT_EQ(as_json.exit_code, 0) << as_json.err;

  // ps after run
  ProcessResult ps = Corral({"ps"});
  ASSERT_EQ(ps.exit_code, 0) << ps.err;
  EXPECT_TRUE(ps.out.starts_with("NAME              ID              SIZE ")) << ps.out;
  EXPECT_TRUE(Contains(ps.out, "\nstories:latest    " + digest.substr(0, 12))) << ps.out;
  EXPECT_TRUE(Contains(ps.out, "    100% CPU    ")) << ps.out;
  EXPECT_TRUE(Contains(ps.out, " from now    \n")) << ps.out;

  // cp
  ProcessResult cp = Corral({"cp", "stories", "tales"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  EXPECT_EQ(cp.out, "copied 'stories' to 'tales'\n");
  EXPECT_TRUE(Contains(Corral({"list"}).out, "\ntales:latest ")) << Corral({"list"}).out;

  // stop: the model leaves ps.
  ProcessResult stop = Corral({"stop", "stories"});
  ASSERT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_EQ(stop.out, "");
  std::string after_stop;
  for (int i = 0; i < 100; ++i) {
    after_stop = Corral({"ps"}).out;
    if (!Contains(after_stop, "stories")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(after_stop, "NAME    ID    SIZE    PROCESSOR    CONTEXT    UNTIL \n");
  ProcessResult stop_unknown = Corral({"stop", "nope"});
  EXPECT_EQ(stop_unknown.exit_code, 1);
  EXPECT_EQ(stop_unknown.err, "Error: couldn't find model \"nope\" to stop\n");

  // rm
  ProcessResult rm = Corral({"rm", "tales"});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_EQ(rm.out, "deleted 'tales'\n");
  EXPECT_FALSE(Contains(Corral({"list"}).out, "tales"));
  ProcessResult rm_unknown = Corral({"rm", "nope"});
  EXPECT_EQ(rm_unknown.exit_code, 1);
  EXPECT_TRUE(Contains(rm_unknown.err, "Error: model 'nope' not found")) << rm_unknown.err;

  // Bad flags of run.
  ProcessResult bad_format = Corral({"run", "stories", "--format", "yaml", "hi"});
  EXPECT_EQ(bad_format.exit_code, 1);
  EXPECT_TRUE(Contains(bad_format.err, "invalid format")) << bad_format.err;
  ProcessResult bad_think = Corral({"run", "stories", "--think=maybe", "hi"});
  EXPECT_EQ(bad_think.exit_code, 1);
  EXPECT_TRUE(Contains(bad_think.err, "invalid value for --think")) << bad_think.err;
  ProcessResult not_thinking = Corral({"run", "stories", "--think", "hi"});
  EXPECT_EQ(not_thinking.exit_code, 1);
  EXPECT_TRUE(Contains(not_thinking.err, "does not support thinking")) << not_thinking.err;
  ProcessResult bad_keepalive = Corral({"run", "stories", "--keepalive", "soon", "hi"});
  EXPECT_EQ(bad_keepalive.exit_code, 1);
  EXPECT_TRUE(Contains(bad_keepalive.err, "invalid duration")) << bad_keepalive.err;

  ProcessResult rm_stories = Corral({"rm", "stories"});
  EXPECT_EQ(rm_stories.out, "deleted 'stories'\n") << rm_stories.err;
}

// A complete bar's cells at 80 columns: 80 - 25 - 31 - 5 = 19 after "pushing <12 hex> 100%",
// 18 after pull's "pulling <12 hex>: 100%" (progress.h).
std::string Blocks(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += "█";
  return out;
}

TEST_F(CliVerbsTest, PushToARegistryThenPullBackAndRun) {
  REQUIRE_SHARED_TESTDATA(gguf, "models/stories260K.gguf");
  if (!DockerRegistry::Available()) {
    GTEST_SKIP() << kDockerRegistryBinary
                 << " is missing: install Debian's docker-registry (scripts/install-deps.sh)";
  }
  DockerRegistry registry(*dir_ / "registry");
  registry.Start();
  ASSERT_FALSE(HasFatalFailure());
  fs::create_directories(*dir_ / "pushed");
  fs::copy_file(gguf, *dir_ / "pushed" / "stories260K.gguf", fs::copy_options::overwrite_existing);
  const std::string modelfile = WriteModelfile(
      "pushed", "FROM ./stories260K.gguf\nPARAMETER temperature 0\nPARAMETER num_predict 24\n");
  const std::string name = registry.host() + "/ns/stories:v1";
  ProcessResult created = Corral({"create", name, "-f", modelfile});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  json generated = Api("POST", "/api/generate",
                       {{"model", name}, {"prompt", "Once upon a time"}, {"stream", false}});
  ASSERT_TRUE(generated.contains("response")) << generated.dump();
  const std::string response = generated["response"];
  // The GGUF is the model layer: its digest names the bars.
  std::string hex;
  {
    auto sha = RunProcess({"sha256sum", gguf});
    ASSERT_TRUE(sha.ok() && sha->exit_code == 0);
    hex = sha->out.substr(0, 12);
  }

  // Without --insecure the plain-http registry is not reached.
  ProcessResult secure = Corral({"push", name});
  EXPECT_EQ(secure.exit_code, 1);
  EXPECT_TRUE(Contains(secure.err, "Error: ")) << secure.err;

  // Output to a pipe: each status once, a layer's bar once complete (1 185 376 bytes: 1.2 MB).
  ProcessResult pushed = Corral({"push", name, "--insecure"});
  ASSERT_EQ(pushed.exit_code, 0) << pushed.err;
  std::vector<std::string> lines = Split(pushed.err, '\n');
  ASSERT_GE(lines.size(), 4u) << pushed.err;
  EXPECT_EQ(lines.front(), "retrieving manifest") << pushed.err;
  EXPECT_TRUE(Contains(pushed.err, "\npushing " + hex + " 100% ▕" + Blocks(19) + "▏ 1.2 MB\n"))
      << pushed.err;
  EXPECT_TRUE(Contains(pushed.err, "\npushing manifest\nsuccess\n")) << pushed.err;
  EXPECT_TRUE(pushed.err.ends_with("success\n")) << pushed.err;
  EXPECT_EQ(pushed.out, "\nYou can find your model at:\n\n\t" + name + "\n");

  ProcessResult removed = Corral({"rm", name});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(removed.out, "deleted '" + name + "'\n");
  EXPECT_EQ(Corral({"show", name}).exit_code, 1);

  ProcessResult pulled = Corral({"pull", name, "--insecure"});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_TRUE(pulled.err.starts_with("pulling manifest\n")) << pulled.err;
  EXPECT_TRUE(Contains(pulled.err, "\npulling " + hex + ": 100% ▕" + Blocks(18) + "▏ 1.2 MB\n"))
      << pulled.err;
  EXPECT_TRUE(Contains(pulled.err, "\nverifying sha256 digest\n")) << pulled.err;
  EXPECT_TRUE(Contains(pulled.err, "\nwriting manifest\n")) << pulled.err;
  EXPECT_TRUE(pulled.err.ends_with("\nsuccess\n")) << pulled.err;
  EXPECT_EQ(pulled.out, "");

  ProcessResult run = Corral({"run", name, "Once upon a time"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, response + "\n\n");

  // `run` pulls a model that is not here first, with the same progress, then answers.
  ASSERT_EQ(Corral({"rm", name}).exit_code, 0);
  ProcessResult run_pulls = Corral({"run", "--insecure", name, "Once upon a time"});
  ASSERT_EQ(run_pulls.exit_code, 0) << run_pulls.err;
  EXPECT_TRUE(run_pulls.err.starts_with("pulling manifest\n")) << run_pulls.err;
  EXPECT_TRUE(run_pulls.err.ends_with("success\n")) << run_pulls.err;
  EXPECT_EQ(run_pulls.out, response + "\n\n");
  EXPECT_EQ(Corral({"rm", name}).exit_code, 0);
}

TEST_F(CliVerbsTest, UnknownModelsAndBadModelfiles) {
  // A model that is not here is pulled first, as Ollama does; this registry does not answer.
  ProcessResult run = Corral({"run", "--insecure", "127.0.0.1:1/ns/missing-model", "hi"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(Contains(run.err, "pulling manifest")) << run.err;
  EXPECT_TRUE(Contains(run.err, "Error: ")) << run.err;
  ProcessResult pull = Corral({"pull", "--insecure", "127.0.0.1:1/ns/missing-model"});
  EXPECT_EQ(pull.exit_code, 1);
  EXPECT_TRUE(Contains(pull.err, "Error: ")) << pull.err;
  ProcessResult push = Corral({"push", "--insecure", "127.0.0.1:1/ns/missing-model"});
  EXPECT_EQ(push.exit_code, 1);
  EXPECT_TRUE(Contains(push.err, "Error: ")) << push.err;
  ProcessResult show = Corral({"show", "missing-model"});
  EXPECT_EQ(show.exit_code, 1);
  EXPECT_EQ(show.err, "Error: model 'missing-model:latest' not found\n");

  std::string bad = WriteModelfile("bad", "FROM ./x.gguf\nBOGUS y\n");
  ProcessResult parse_error = Corral({"create", "bad", "-f", bad});
  EXPECT_EQ(parse_error.exit_code, 1);
  EXPECT_TRUE(Contains(parse_error.err, "Error: (line 2): command must be one of"))
      << parse_error.err;
  ProcessResult no_from = Corral({"create", "bad", "-f", WriteModelfile("nofrom", "SYSTEM hi\n")});
  EXPECT_EQ(no_from.exit_code, 1);
  EXPECT_EQ(no_from.err, "Error: no FROM line\n");
  ProcessResult missing = Corral({"create", "bad", "-f", (*dir_ / "no-such-Modelfile").string()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "Error: specified Modelfile wasn't found\n");
  // FROM naming no file and no model: the server's error.
  ProcessResult unknown_base =
      Corral({"create", "bad", "-f", WriteModelfile("unknown", "FROM no-such-base\n")});
  EXPECT_EQ(unknown_base.exit_code, 1);
  EXPECT_TRUE(Contains(unknown_base.err, "Error: ")) << unknown_base.err;
  ProcessResult usage = Corral({"create"});
  EXPECT_EQ(usage.exit_code, 2) << "a missing NAME is a usage error";
}

TEST_F(CliVerbsTest, QuantizingCreateShowsProgressAndEmbeddingModelsPrintVectors) {
  auto llama = modelgen::TinySpec("llama");
  ASSERT_TRUE(llama.ok());
  auto f16 = modelgen::MakeModel(*llama, quantize::FileType::kF16, (*dir_ / "tiny").string(), 1);
  ASSERT_TRUE(f16.ok()) << f16.status().ToString();
  std::string modelfile =
      WriteModelfile("tiny", "FROM " + fs::path(*f16).filename().string() + "\n");
  ProcessResult created = Corral({"create", "tiny-q8", "-f", modelfile, "-q", "q8_0"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_TRUE(Contains(created.err, "quantizing F16 model to Q8_0")) << created.err;
  EXPECT_TRUE(Contains(created.err, "100% ▕")) << created.err;
  EXPECT_TRUE(Contains(created.err, "\nsuccess\n")) << created.err;
  EXPECT_TRUE(Contains(Corral({"show", "tiny-q8"}).out, "    quantization        Q8_0"));

  auto bert = modelgen::TinySpec("bert");
  ASSERT_TRUE(bert.ok());
  auto bert_file =
      modelgen::MakeModel(*bert, quantize::FileType::kAllF32, (*dir_ / "bert").string(), 1);
  ASSERT_TRUE(bert_file.ok()) << bert_file.status().ToString();
  ProcessResult embed_created =
      Corral({"create", "tiny-bert", "-f", WriteModelfile("bert", "FROM " + *bert_file + "\n")});
  ASSERT_EQ(embed_created.exit_code, 0) << embed_created.err;
  ProcessResult embedded = Corral({"run", "tiny-bert", "hello world"});
  ASSERT_EQ(embedded.exit_code, 0) << embedded.err;
  json vector = json::parse(embedded.out, nullptr, false);
  ASSERT_TRUE(vector.is_array()) << embedded.out;
  json expected = Api("POST", "/api/embed", {{"model", "tiny-bert"}, {"input", "hello world"}});
  ASSERT_TRUE(expected.contains("embeddings")) << expected.dump();
  ASSERT_EQ(vector.size(), expected["embeddings"][0].size());
  for (size_t i = 0; i < vector.size(); ++i) {
    EXPECT_EQ(vector[i].get<float>(), expected["embeddings"][0][i].get<float>()) << i;
  }
  ProcessResult no_text = Corral({"run", "tiny-bert"});
  EXPECT_EQ(no_text.exit_code, 1);
  EXPECT_TRUE(Contains(no_text.err, "embedding models require input text")) << no_text.err;
}

}  // namespace
}  // namespace corral::testing
