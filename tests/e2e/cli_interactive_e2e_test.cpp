// The interactive `corral run MODEL` session in a real pseudo-terminal: tmux runs it against a
// `corral serve` with stories260K, the test types commands and prompts and reads the pane.
// Answers must equal /api/chat's non-streamed reply for the same messages and options. Skips
// without tmux or without the shared test data.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <unistd.h>
#include <nlohmann/json.hpp>

#include "testing/subprocess.h"
#include "testing/testdata.h"

namespace corral::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = 0; (pos = haystack.find(needle, pos)) != std::string::npos; pos += 1) ++n;
  return n;
}

// Each line without trailing spaces (tmux drops them when capturing).
std::string TrimLineEnds(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  bool first = true;
  while (std::getline(in, line)) {
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += (first ? "" : "\n") + line;
    first = false;
  }
  if (!text.empty() && text.back() == '\n') out += "\n";
  return out;
}

class CliInteractiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("corral-cli-interactive-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "models");
    fs::create_directories(dir_ / "home");
    socket_ = "corral-e2e-" + std::to_string(getpid());
  }

  void TearDown() override {
    if (tmux_started_) Tmux({"kill-server"});
    server_.reset();  // kills and reaps it
    fs::remove_all(dir_);
  }

  bool TmuxAvailable() {
    auto r = RunProcess({"tmux", "-V"}, {}, "", std::chrono::seconds(10));
    return r.ok() && r->exit_code == 0;
  }

  void StartServer() {
    port_ = FreeLoopbackPort();
    auto server = ChildProcess::Start(
        {CORRAL_BINARY, "serve"},
        {{"OLLAMA_HOST", HostPort()}, {"OLLAMA_MODELS", (dir_ / "models").string()}});
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::make_unique<ChildProcess>(std::move(*server));
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(std::chrono::milliseconds(200));
    for (int i = 0; i < 500; ++i) {
      if (auto res = client.Get("/"); res && res->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "corral serve did not answer: " << server_->ReadStderr();
  }

  std::string HostPort() const { return "127.0.0.1:" + std::to_string(port_); }

  json Api(const std::string& path, const json& body) {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(std::chrono::seconds(300));
    httplib::Result res = client.Post(path, body.dump(), "application/json");
    if (!res) return json{{"transport_error", httplib::to_string(res.error())}};
    json decoded = json::parse(res->body, nullptr, false);
    return decoded.is_discarded() ? json{{"status", res->status}, {"body", res->body}} : decoded;
  }

  // tmux on a private server socket under the test folder, with no user configuration.
  ProcessResult Tmux(std::vector<std::string> args) {
    std::vector<std::string> argv = {"tmux", "-L", socket_, "-f", "/dev/null"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunProcess(argv, {{"TMUX_TMPDIR", dir_.string()}, {"TMUX", ""}}, "",
                        std::chrono::seconds(30));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ProcessResult{};
  }

  std::string Pane() { return Tmux({"capture-pane", "-p", "-J", "-S", "-", "-t", "repl"}).out; }

  // Types `text` and Enter (literally: no tmux key names).
  void Type(const std::string& text) {
    if (!text.empty()) Tmux({"send-keys", "-t", "repl", "-l", text});
    Tmux({"send-keys", "-t", "repl", "Enter"});
  }

  // Types a line at the ">>> " prompt and returns what it printed before the next prompt.
  std::string Run(const std::string& line) {
    Type(line);
    return Between(WaitForPrompt(">>> " + line), ">>> " + line);
  }

  // Waits until the pane holds `needle` at least `times` times; the pane either way.
  std::string WaitFor(const std::string& needle, size_t times = 1,
                      std::chrono::seconds timeout = std::chrono::seconds(120)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string pane;
    while (std::chrono::steady_clock::now() < deadline) {
      pane = Pane();
      if (Count(pane, needle) >= times) return pane;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "timed out waiting for " << times << " x \"" << needle << "\" in:\n" << pane;
    return pane;
  }

  // Waits until the line `typed` was echoed and a fresh `prompt` follows it (tmux drops the
  // prompt's trailing space); the pane either way. Typing ahead of the prompt would interleave
  // the terminal's echo with the redrawn line.
  std::string WaitForPrompt(const std::string& typed, const std::string& prompt = ">>>",
                            std::chrono::seconds timeout = std::chrono::seconds(120)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string pane;
    while (std::chrono::steady_clock::now() < deadline) {
      pane = Pane();
      std::string rest = pane;
      while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\n')) rest.pop_back();
      const size_t at = rest.rfind(typed + "\n");
      if (at != std::string::npos && rest.ends_with("\n" + prompt) &&
          rest.size() >= at + typed.size() + 1 + prompt.size()) {
        return pane;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "timed out waiting for a prompt after \"" << typed << "\" in:\n" << pane;
    return pane;
  }

  // The text the pane shows between the line `after` and the next ">>> " prompt.
  static std::string Between(const std::string& pane, const std::string& after) {
    size_t start = pane.rfind(after + "\n");
    if (start == std::string::npos) return "<missing: " + after + ">";
    start += after.size() + 1;
    size_t end = pane.find("\n>>>", start);
    if (end != std::string::npos) ++end;
    return pane.substr(start, end == std::string::npos ? std::string::npos : end - start);
  }

  fs::path dir_;
  std::string socket_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> server_;
  bool tmux_started_ = false;
};

TEST_F(CliInteractiveTest, SessionInATerminal) {
  REQUIRE_SHARED_TESTDATA(gguf, "models/stories260K.gguf");
  if (!TmuxAvailable()) {
    GTEST_SKIP() << "tmux is not installed (scripts/install-deps.sh installs it); the "
                    "interactive session needs a pseudo-terminal to test";
  }
  StartServer();
  fs::create_directories(dir_ / "stories");
  fs::copy_file(gguf, dir_ / "stories" / "stories260K.gguf");
  {
    std::ofstream modelfile(dir_ / "stories" / "Modelfile");
    // num_predict keeps answers short enough for one pane line; the MESSAGE pair is shown first.
    modelfile << "FROM ./stories260K.gguf\nPARAMETER num_predict 24\n"
                 "MESSAGE user Tell me a story\nMESSAGE assistant Once upon a time.\n";
  }
  auto created = RunProcess(
      {CORRAL_BINARY, "create", "stories", "-f", (dir_ / "stories" / "Modelfile").string()},
      {{"OLLAMA_HOST", HostPort()}}, "", std::chrono::seconds(120));
  ASSERT_TRUE(created.ok());
  ASSERT_EQ(created->exit_code, 0) << created->err;

  const std::string command = "env HOME=" + (dir_ / "home").string() +
                              " OLLAMA_HOST=" + HostPort() + " " + CORRAL_BINARY +
                              " run stories; echo \"EXITED $?\"; sleep 600";
  ProcessResult started =
      Tmux({"new-session", "-d", "-s", "repl", "-x", "250", "-y", "50", command});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  tmux_started_ = true;

  std::string pane = WaitForPrompt(">>> Tell me a story\nOnce upon a time.\n");

  EXPECT_EQ(Run("/set parameter temperature 0"), "Set parameter 'temperature' to '0'\n");
  EXPECT_EQ(Run("/set parameter temperature warm"),
            "Couldn't set parameter: \"invalid float value [warm]\"\n");
  EXPECT_EQ(Run("/set system You are terse."), "Set system message.\n");
  Type("/show system");
  pane = WaitForPrompt(">>> /show system");
  EXPECT_EQ(Between(pane, ">>> /show system"), "You are terse.\n\n") << pane;
  Type("/show parameters");
  pane = WaitForPrompt(">>> /show parameters");
  EXPECT_EQ(Between(pane, ">>> /show parameters"),
            "Model defined parameters:\n"
            "  num_predict                    24\n"
            "\n"
            "User defined parameters:\n"
            "  temperature                    0\n"
            "\n")
      << pane;
  EXPECT_EQ(Run("/nonsense"), "Unknown command '/nonsense'. Type /? for help\n");

  // A """ message over three lines; the prompt turns to "... " inside it.
  Type(R"("""Once upon)");
  WaitForPrompt(R"(>>> """Once upon)", "...");
  Type("a time there");
  WaitForPrompt("... a time there", "...");
  Type(R"(was a cat""")");
  pane = WaitForPrompt("... was a cat\"\"\"");
  EXPECT_TRUE(Contains(pane, ">>> \"\"\"Once upon\n... a time there\n... was a cat\"\"\"\n"))
      << pane;
  json first =
      Api("/api/chat", {{"model", "stories"},
                        {"stream", false},
                        {"options", {{"temperature", 0}}},
                        {"messages",
                         {{{"role", "system"}, {"content", "You are terse."}},
                          {{"role", "user"}, {"content", "Once upon\na time there\nwas a cat"}}}}});
  ASSERT_TRUE(first.contains("message")) << first.dump();
  const std::string answer = first["message"]["content"];
  ASSERT_FALSE(answer.empty());
  EXPECT_EQ(Between(pane, "... was a cat\"\"\""), TrimLineEnds(answer + "\n\n")) << pane;

  // /clear keeps the system message: the next turn is system + this prompt only.
  EXPECT_EQ(Run("/clear"), "Cleared session context\n");
  Type("The dog");
  pane = WaitForPrompt(">>> The dog");
  json second = Api("/api/chat", {{"model", "stories"},
                                  {"stream", false},
                                  {"options", {{"temperature", 0}}},
                                  {"messages",
                                   {{{"role", "system"}, {"content", "You are terse."}},
                                    {{"role", "user"}, {"content", "The dog"}}}}});
  ASSERT_TRUE(second.contains("message")) << second.dump();
  EXPECT_EQ(Between(pane, ">>> The dog"),
            TrimLineEnds(second["message"]["content"].get<std::string>() + "\n\n"))
      << pane;

  // Ctrl+C on an empty line only prints the hint.
  Tmux({"send-keys", "-t", "repl", "C-c"});
  WaitForPrompt(">>> \nUse Ctrl + d or /bye to exit.");

  // /save makes a model of the session: the system message, parameters and this history.
  EXPECT_EQ(Run("/save stories-session"), "Created new model 'stories-session'\n");
  json saved = Api("/api/show", {{"model", "stories-session"}});
  EXPECT_EQ(saved.value("system", ""), "You are terse.") << saved.dump();
  EXPECT_TRUE(Contains(saved.value("parameters", ""), "temperature")) << saved.dump();
  ASSERT_TRUE(saved.contains("messages")) << saved.dump();
  EXPECT_EQ(saved["messages"].back()["role"], "assistant") << saved.dump();
  EXPECT_TRUE(Contains(saved["messages"].dump(), "The dog")) << saved.dump();

  Type("/bye");
  pane = WaitFor("EXITED ", 1, std::chrono::seconds(30));
  EXPECT_TRUE(Contains(pane, ">>> /bye\nEXITED 0")) << pane;

  // The lines typed are in ~/.ollama/history, one a line.
  std::ifstream history(dir_ / "home" / ".ollama" / "history");
  std::stringstream text;
  text << history.rdbuf();
  EXPECT_TRUE(Contains(text.str(), "/set system You are terse.\n/show system\n")) << text.str();
  EXPECT_TRUE(Contains(text.str(), "The dog\n/save stories-session\n/bye\n")) << text.str();
}

}  // namespace
}  // namespace corral::testing
