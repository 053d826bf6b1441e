// The interactive `corral run MODEL` session in a real pseudo-terminal: tmux runs it against a
// `corral serve` with stories260K, the test types commands and prompts and reads the pane.
// Answers must equal /api/chat's non-streamed reply for the same messages and options. Skips
// without tmux or without the shared test data. Also Ctrl+C while a model loads, against a
// stand-in server that never answers /api/generate (e2e_util.h).
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <signal.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "e2e_util.h"
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

// Ollama has no SIGINT handler while `run` loads the model for a session, so Ctrl+C there ends
// it with the shell's 130; ours cancels the request (closing its connection) and exits 130.
TEST_F(CliInteractiveTest, CtrlCWhileTheModelLoadsExits130) {
  if (!TmuxAvailable()) {
    GTEST_SKIP() << "tmux is not installed (scripts/install-deps.sh installs it); the "
                    "interactive session needs a pseudo-terminal to test";
  }
  StalledServer server;
  // The shell catches SIGINT itself (`trap :`), so the terminal's Ctrl+C ends only corral and
  // the shell reports its status.
  const std::string command = "trap : INT; env HOME=" + (dir_ / "home").string() +
                              " OLLAMA_HOST=" + server.host() + " " + CORRAL_BINARY +
                              " run stalled; echo \"EXITED $?\"; sleep 600";
  ProcessResult started =
      Tmux({"new-session", "-d", "-s", "repl", "-x", "120", "-y", "20", command});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  tmux_started_ = true;
  ASSERT_TRUE(server.WaitForStalled(std::chrono::seconds(30))) << Pane();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the spinner is drawing
  const auto pressed = std::chrono::steady_clock::now();
  Tmux({"send-keys", "-t", "repl", "C-c"});
  std::string pane = WaitFor("EXITED ", 1, std::chrono::seconds(30));
  EXPECT_LT(std::chrono::steady_clock::now() - pressed, std::chrono::seconds(5))
      << "the blocked request must end at once, not when the server next writes";
  EXPECT_TRUE(Contains(pane, "EXITED 130")) << pane;
  EXPECT_FALSE(Contains(pane, "Error")) << pane;
  EXPECT_FALSE(Contains(pane, ">>>")) << "no session after a cancelled load:\n" << pane;
}

// Ctrl+C while a reply has not started (the server silent) cancels that turn only: the session
// goes on and ends normally.
TEST_F(CliInteractiveTest, CtrlCCancelsAReplyAndTheSessionGoesOn) {
  if (!TmuxAvailable()) {
    GTEST_SKIP() << "tmux is not installed (scripts/install-deps.sh installs it); the "
                    "interactive session needs a pseudo-terminal to test";
  }
  StalledServer server("/api/chat");
  // SIGINT from the terminal reaches the shell too: it must outlive it to report the status.
  const std::string command = "trap : INT; env HOME=" + (dir_ / "home").string() +
                              " OLLAMA_HOST=" + server.host() + " " + CORRAL_BINARY +
                              " run stalled; echo \"EXITED $?\"; sleep 600";
  ProcessResult started =
      Tmux({"new-session", "-d", "-s", "repl", "-x", "120", "-y", "20", command});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  tmux_started_ = true;
  WaitFor(">>>", 1, std::chrono::seconds(30));
  Type("hello");
  ASSERT_TRUE(server.WaitForStalled(std::chrono::seconds(30))) << Pane();
  const auto pressed = std::chrono::steady_clock::now();
  Tmux({"send-keys", "-t", "repl", "C-c"});
  WaitFor(">>>", 2, std::chrono::seconds(30));
  EXPECT_LT(std::chrono::steady_clock::now() - pressed, std::chrono::seconds(5));
  // The session still answers: a second turn reaches the server, /bye ends with 0.
  Type("again");
  ASSERT_TRUE(server.WaitForStalled(std::chrono::seconds(30), 2)) << Pane();
  Tmux({"send-keys", "-t", "repl", "C-c"});
  WaitFor(">>>", 3, std::chrono::seconds(30));
  Type("/bye");
  std::string pane = WaitFor("EXITED ", 1, std::chrono::seconds(30));
  EXPECT_TRUE(Contains(pane, "EXITED 0")) << pane;
  EXPECT_FALSE(Contains(pane, "Error")) << pane;
}

// With a prompt Ollama's generate() catches SIGINT, cancels the request and returns without an
// error: whatever was printed stays, the exit status is 0.
TEST(CliCancelTest, CtrlCDuringAPromptedRunEndsQuietly) {
  StalledServer server;
  auto child = ChildProcess::Start({CORRAL_BINARY, "run", "stalled", "hello"},
                                   {{"OLLAMA_HOST", server.host()}});
  ASSERT_TRUE(child.ok()) << child.status().ToString();
  ASSERT_TRUE(server.WaitForStalled(std::chrono::seconds(30))) << child->ReadStderr();
  const auto sent = std::chrono::steady_clock::now();
  child->Signal(SIGINT);
  Result<int> code = child->Wait(std::chrono::seconds(10));
  ASSERT_TRUE(code.ok()) << "still running 10 s after SIGINT";
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::seconds(5));
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(child->ReadStdout(), "");
  EXPECT_EQ(child->ReadStderr(), "");
}

// What `run MODEL PROMPT` sends: image paths in the prompt of a vision model become images
// (Ollama's extractFileData), --format takes "json" or a schema, --keepalive is a Go duration.
TEST(CliRunRequestTest, ImagesFormatAndKeepAliveInTheRequest) {
  const fs::path dir =
      fs::temp_directory_path() / ("corral-cli-run-request-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string png = std::string("\x89PNG\r\n\x1A\n", 8) + "pixels";
  {
    std::ofstream(dir / "cat.png", std::ios::binary) << png;
    std::ofstream(dir / "notes.png", std::ios::binary) << "not an image";
  }
  const std::string cat = (dir / "cat.png").string();
  RecordingServer vision(R"({"capabilities":["completion","vision"],"details":{}})", "A cat.");
  auto run = [&](RecordingServer& server, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {CORRAL_BINARY, "run"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunProcess(argv, {{"OLLAMA_HOST", server.host()}}, "", std::chrono::seconds(60));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ProcessResult{};
  };

  ProcessResult described = run(vision, {"vis", "--format", R"({"type":"object"})", "--keepalive",
                                         "90s", "what is in " + cat + " please"});
  ASSERT_EQ(described.exit_code, 0) << described.err;
  EXPECT_EQ(described.out, "A cat.\n\n");
  EXPECT_EQ(described.err, "Added image '" + cat + "'\n");
  std::vector<json> bodies = vision.GenerateBodies();
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0]["prompt"], "what is in  please");
  // base64 of the 14 bytes: "\x89PNG\r\n\x1A\npixels"
  EXPECT_EQ(bodies[0]["images"], json::array({"iVBORw0KGgpwaXhlbHM="}));
  EXPECT_EQ(bodies[0]["format"], json({{"type", "object"}}));
  EXPECT_EQ(bodies[0]["keep_alive"], "1m30s");

  // A path to something that is no image stops the run, as Ollama's does.
  ProcessResult bad = run(vision, {"vis", "see " + (dir / "notes.png").string()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(Contains(bad.err, "Couldn't process image: \"invalid image type")) << bad.err;
  EXPECT_EQ(vision.GenerateBodies().size(), 1u) << "nothing sent";

  // For a model without vision the path is just text.
  RecordingServer text(R"({"capabilities":["completion"],"details":{}})", "Hm.");
  ProcessResult plain = run(text, {"txt", "--format", "json", "what is in " + cat});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.err, "");
  bodies = text.GenerateBodies();
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0]["prompt"], "what is in " + cat);
  EXPECT_FALSE(bodies[0].contains("images"));
  EXPECT_EQ(bodies[0]["format"], "json");
  EXPECT_FALSE(bodies[0].contains("keep_alive"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace corral::testing
