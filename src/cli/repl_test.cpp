// The interactive session's command language (ReplSession) against a fake backend, and its pure
// helpers: parameter parsing, image-path detection, word wrapping, the history file.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "cli/repl_line_editor.h"
#include "cli/repl_session.h"
#include "cli/run_output.h"

namespace corral::cli {
namespace {

using nlohmann::json;

class FakeBackend : public ReplBackend {
 public:
  Result<json> Show(const json& request) override {
    shows.push_back(request);
    const std::string model = request.value("model", "");
    if (model == "missing") return NotFoundError("model 'missing' not found");
    json reply = show_reply;
    if (request.contains("system")) reply["system"] = request["system"];
    return reply;
  }
  Status Load(const json& request) override {
    loads.push_back(request);
    return Status::Ok();
  }
  Result<std::optional<json>> Chat(const json& request, const ChatView& view) override {
    chats.push_back(request);
    last_view = view;
    if (!chat_error.ok()) return chat_error;
    if (cancel_chat) return std::optional<json>();
    return std::optional<json>(json{{"role", "assistant"}, {"content", "reply"}});
  }
  Status Create(const json& request) override {
    creates.push_back(request);
    return create_error;
  }
  Result<json> List() override {
    return json{{"models", json::array({{{"name", "stories:latest"},
                                         {"digest", "0123456789abcdef0123"},
                                         {"size", 1000},
                                         {"modified_at", "2024-01-01T00:00:00Z"}}})}};
  }
  void SetHistoryEnabled(bool enabled) override { history = enabled; }
  Result<std::string> ReadFile(const std::string& path) override {
    auto it = files.find(path);
    if (it == files.end()) return NotFoundError("open " + path);
    return it->second;
  }

  json show_reply = {{"capabilities", {"completion"}},
                     {"parameters", "temperature 0\nnum_predict 64"},
                     {"template", "{{ .Prompt }}"},
                     {"modelfile", "FROM x\n"}};
  std::vector<json> shows, loads, chats, creates;
  ChatView last_view;
  Status chat_error, create_error;
  bool cancel_chat = false;
  std::optional<bool> history;
  std::map<std::string, std::string> files;
};

class ReplSessionTest : public ::testing::Test {
 protected:
  ReplSession& Session() {
    if (!session_) {
      ReplState state;
      state.model = "stories";
      state.multimodal = multimodal_;
      session_ = std::make_unique<ReplSession>(state, backend_, out_, err_);
    }
    return *session_;
  }
  // Feeds the lines; returns what went to stdout and clears both streams.
  std::string Feed(std::initializer_list<std::string_view> lines) {
    for (std::string_view line : lines) last_ = Session().HandleLine(line);
    std::string out = out_.str();
    out_.str("");
    err_text_ = err_.str();
    err_.str("");
    return out;
  }

  FakeBackend backend_;
  std::ostringstream out_, err_;
  std::string err_text_;
  LineOutcome last_ = LineOutcome::kReady;
  bool multimodal_ = false;
  std::unique_ptr<ReplSession> session_;
};

TEST_F(ReplSessionTest, PromptBecomesAChatTurnWithTheHistory) {
  Feed({"hello there"});
  ASSERT_EQ(backend_.chats.size(), 1u);
  EXPECT_EQ(backend_.chats[0],
            json({{"model", "stories"},
                  {"messages", json::array({{{"role", "user"}, {"content", "hello there"}}})}}));
  Feed({"again"});
  ASSERT_EQ(backend_.chats.size(), 2u);
  EXPECT_EQ(backend_.chats[1]["messages"].size(), 3u);
  EXPECT_EQ(backend_.chats[1]["messages"][1], json({{"role", "assistant"}, {"content", "reply"}}));
}

TEST_F(ReplSessionTest, MultiLineInputBetweenTripleQuotes) {
  Feed({R"(""")"});
  EXPECT_EQ(last_, LineOutcome::kContinue);
  EXPECT_TRUE(Session().InMultiline());
  Feed({"first line", "  second line"});
  EXPECT_EQ(last_, LineOutcome::kContinue);
  EXPECT_TRUE(backend_.chats.empty());
  Feed({R"(end""")"});
  EXPECT_EQ(last_, LineOutcome::kReady);
  ASSERT_EQ(backend_.chats.size(), 1u);
  EXPECT_EQ(backend_.chats[0]["messages"][0]["content"], "\nfirst line\n  second line\nend");

  Feed({R"("""Opening text)", R"(closing""")"});
  EXPECT_EQ(backend_.chats.at(1)["messages"][2]["content"], "Opening text\nclosing");
  Feed({R"("""one line""")"});
  EXPECT_EQ(backend_.chats.at(2)["messages"][4]["content"], "one line");
}

TEST_F(ReplSessionTest, InterruptDropsHalfTypedMultiLineInput) {
  Feed({R"("""abc)", "def"});
  Session().Interrupt();
  EXPECT_FALSE(Session().InMultiline());
  Feed({"fresh"});
  EXPECT_EQ(backend_.chats.at(0)["messages"][0]["content"], "fresh");
}

TEST_F(ReplSessionTest, SetParameterValidatesLikeTheModelfile) {
  EXPECT_EQ(Feed({"/set parameter temperature 0.5"}), "Set parameter 'temperature' to '0.5'\n");
  EXPECT_EQ(Feed({"/set parameter num_ctx 4096"}), "Set parameter 'num_ctx' to '4096'\n");
  EXPECT_EQ(Feed({"/set parameter stop <end> ###"}), "Set parameter 'stop' to '<end>, ###'\n");
  EXPECT_EQ(Feed({"/set parameter num_ctx big"}),
            "Couldn't set parameter: \"invalid int value [big]\"\n");
  EXPECT_EQ(Feed({"/set parameter bogus 1"}),
            "Couldn't set parameter: \"unknown parameter 'bogus'\"\n");
  EXPECT_EQ(Feed({"/set parameter temperature"}), "");
  EXPECT_NE(err_text_.find("Available Parameters:"), std::string::npos);
  EXPECT_EQ(Session().state().options,
            json({{"temperature", 0.5}, {"num_ctx", 4096}, {"stop", {"<end>", "###"}}}));
  Feed({"hi"});
  EXPECT_EQ(backend_.chats.at(0)["options"], Session().state().options);
}

TEST_F(ReplSessionTest, ShowParametersListsModelAndUserParameters) {
  Feed({"/set parameter temperature 0", "/set parameter stop a b"});
  EXPECT_EQ(Feed({"/show parameters"}),
            "Model defined parameters:\n"
            "  temperature 0\n"
            "  num_predict 64\n"
            "\n"
            "User defined parameters:\n"
            "  stop                           [a b]\n"
            "  temperature                    0\n"
            "\n");
  ASSERT_FALSE(backend_.shows.empty());
  EXPECT_EQ(backend_.shows.back()["options"], json({{"temperature", 0.0}, {"stop", {"a", "b"}}}));
}

TEST_F(ReplSessionTest, SystemMessageSingleAndMultiLine) {
  EXPECT_EQ(Feed({"/show system"}), "No system message was specified for this model.\n");
  EXPECT_EQ(Feed({"/set system You are terse."}), "Set system message.\n");
  EXPECT_EQ(Feed({"/show system"}), "You are terse.\n\n");
  EXPECT_EQ(backend_.shows.back()["system"], "You are terse.");
  // A second /set system replaces the first message rather than stacking them.
  EXPECT_EQ(Feed({R"(/set system """Line one)", R"(line two""")"}), "Set system message.\n");
  EXPECT_EQ(Session().state().messages,
            json::array({{{"role", "system"}, {"content", "Line one\nline two"}}}));
  EXPECT_EQ(Feed({"/set system"}), "");
  EXPECT_NE(err_text_.find("/set system <string>"), std::string::npos);
}

TEST_F(ReplSessionTest, ClearKeepsTheSystemMessage) {
  Feed({"/set system Be brief.", "hello"});
  EXPECT_EQ(Session().state().messages.size(), 3u);
  EXPECT_EQ(Feed({"/clear"}), "Cleared session context\n");
  EXPECT_EQ(Session().state().messages,
            json::array({{{"role", "system"}, {"content", "Be brief."}}}));
}

TEST_F(ReplSessionTest, ModesAndFormat) {
  EXPECT_EQ(Feed({"/set verbose"}), "Set 'verbose' mode.\n");
  EXPECT_EQ(Feed({"/set nowordwrap"}), "Set 'nowordwrap' mode.\n");
  EXPECT_EQ(Feed({"/set format json"}), "Set format to 'json' mode.\n");
  EXPECT_EQ(Feed({"/set format xml"}),
            "Invalid or missing format. For 'json' mode use '/set format json'\n");
  Feed({"hi"});
  EXPECT_EQ(backend_.chats.at(0)["format"], "json");
  EXPECT_TRUE(backend_.last_view.verbose);
  EXPECT_FALSE(backend_.last_view.word_wrap);
  EXPECT_EQ(Feed({"/set noformat", "/set quiet", "/set wordwrap"}),
            "Disabled format.\nSet 'quiet' mode.\nSet 'wordwrap' mode.\n");
  EXPECT_EQ(Session().state().format, "");
  EXPECT_FALSE(Session().state().verbose);
  EXPECT_EQ(Feed({"/set nohistory"}), "");
  EXPECT_EQ(backend_.history, false);
  EXPECT_EQ(Feed({"/set bogus"}), "Unknown command '/set bogus'. Type /? for help\n");
}

TEST_F(ReplSessionTest, ThinkSettings) {
  EXPECT_EQ(Feed({"/set think"}), "Set 'think' mode.\n");
  EXPECT_EQ(err_text_, "warning: model \"stories\" does not support thinking output\n");
  EXPECT_EQ(Feed({"/set think high"}), "Set 'think' mode to 'high'.\n");
  Feed({"q"});
  EXPECT_EQ(backend_.chats.at(0)["think"], "high");
  EXPECT_EQ(Feed({"/set nothink"}), "Set 'nothink' mode.\n");
  EXPECT_EQ(Session().state().think, json(false));
}

TEST_F(ReplSessionTest, ShowSubcommands) {
  EXPECT_EQ(Feed({"/show license"}), "No license was specified for this model.\n");
  EXPECT_EQ(Feed({"/show template"}), "{{ .Prompt }}\n");
  EXPECT_EQ(Feed({"/show modelfile"}), "FROM x\n\n");
  EXPECT_EQ(Feed({"/show nonsense"}), "Unknown command '/show nonsense'. Type /? for help\n");
  EXPECT_EQ(Feed({"/show"}), "");
  EXPECT_NE(err_text_.find("/show info         Show details for this model"), std::string::npos);
  Feed({"/show info"});
  EXPECT_NE(err_text_.find("Capabilities"), std::string::npos) << err_text_;
}

TEST_F(ReplSessionTest, HelpTexts) {
  Feed({"/?"});
  EXPECT_EQ(err_text_, ReplUsage(false));
  EXPECT_NE(err_text_.find("Use \"\"\" to begin a multi-line message."), std::string::npos);
  Feed({"/help set"});
  EXPECT_EQ(err_text_, ReplUsageSet());
  Feed({"/? shortcuts"});
  EXPECT_EQ(err_text_, ReplUsageShortcuts());
  Feed({"/help show"});
  EXPECT_EQ(err_text_, ReplUsageShow());
}

TEST_F(ReplSessionTest, UnknownCommandsAndExit) {
  EXPECT_EQ(Feed({"/foo bar"}), "Unknown command '/foo'. Type /? for help\n");
  EXPECT_EQ(Feed({"/"}), "Unknown command '/'. Type /? for help\n");
  EXPECT_TRUE(backend_.chats.empty());
  Feed({"/bye"});
  EXPECT_EQ(last_, LineOutcome::kExit);
  Feed({"/exit"});
  EXPECT_EQ(last_, LineOutcome::kExit);
}

TEST_F(ReplSessionTest, LoadSwitchesModelAndResetsHistory) {
  Feed({"hello"});
  EXPECT_EQ(Feed({"/load missing"}), "Loading model 'missing'\nCouldn't find model 'missing'\n");
  EXPECT_EQ(Session().state().model, "stories");
  EXPECT_EQ(Session().state().messages.size(), 2u);
  EXPECT_EQ(Feed({"/load other"}), "Loading model 'other'\n");
  EXPECT_EQ(Session().state().model, "other");
  EXPECT_TRUE(Session().state().messages.empty());
  EXPECT_EQ(backend_.loads.back(), json({{"model", "other"}}));
  EXPECT_EQ(Feed({"/load"}), "Usage:\n  /load <modelname>\n");
}

TEST_F(ReplSessionTest, SaveSendsTheSession) {
  Feed({"/set system Short.", "/set parameter temperature 0", "hi"});
  EXPECT_EQ(Feed({"/save mine"}), "Created new model 'mine'\n");
  ASSERT_EQ(backend_.creates.size(), 1u);
  EXPECT_EQ(backend_.creates[0]["model"], "mine");
  EXPECT_EQ(backend_.creates[0]["from"], "stories");
  EXPECT_EQ(backend_.creates[0]["system"], "Short.");
  EXPECT_EQ(backend_.creates[0]["parameters"], json({{"temperature", 0.0}}));
  EXPECT_EQ(backend_.creates[0]["messages"].size(), 3u);
  backend_.create_error = InvalidArgumentError("invalid model name");
  EXPECT_EQ(Feed({"/save bad:name:x"}), "error: The model name 'bad:name:x' is invalid\n");
  EXPECT_EQ(Feed({"/save"}), "Usage:\n  /save <modelname>\n");
}

TEST_F(ReplSessionTest, SaveBuildsFromTheParentModelWhenTheServerHasIt) {
  backend_.show_reply["details"] = {{"parent_model", "base:latest"}};
  Feed({"/load derived"});
  EXPECT_EQ(Session().state().parent_model, "base:latest");
  EXPECT_EQ(Feed({"/save mine"}), "Created new model 'mine'\n");
  EXPECT_EQ(backend_.creates.at(0)["from"], "base:latest");
  backend_.show_reply["details"] = {{"parent_model", "missing"}};
  Feed({"/load derived"});
  Feed({"/save mine"});
  EXPECT_EQ(backend_.creates.at(1)["from"], "derived");
}

TEST_F(ReplSessionTest, ChatErrorsAndCancelKeepTheSessionGoing) {
  backend_.chat_error = InternalError("boom");
  Feed({"first"});
  EXPECT_EQ(err_text_, "Error: boom\n");
  EXPECT_TRUE(Session().state().messages.empty());
  backend_.chat_error = InvalidArgumentError("\"stories\" does not support thinking");
  EXPECT_EQ(Feed({"second"}), "error: \"stories\" does not support thinking\n");
  backend_.chat_error = Status::Ok();
  backend_.cancel_chat = true;
  Feed({"third"});
  // Cancelled: the question stays, no answer is recorded (as Ollama).
  EXPECT_EQ(Session().state().messages, json::array({{{"role", "user"}, {"content", "third"}}}));
}

TEST_F(ReplSessionTest, ImagesForVisionModels) {
  multimodal_ = true;
  backend_.files["/tmp/cat.png"] = std::string("\x89PNG\r\n\x1A\n", 8) + "data";
  backend_.files["/tmp/notes.jpg"] = "plain text";
  Feed({"what is in /tmp/cat.png please"});
  ASSERT_EQ(backend_.chats.size(), 1u);
  const json& message = backend_.chats[0]["messages"][0];
  EXPECT_EQ(message["content"], "what is in  please");
  EXPECT_EQ(message["images"], json::array({Base64Encode(backend_.files["/tmp/cat.png"])}));
  EXPECT_EQ(err_text_, "Added image '/tmp/cat.png'\n");
  // A path first on the line is a prompt, not an unknown command.
  Feed({"/tmp/cat.png"});
  EXPECT_EQ(backend_.chats.size(), 2u);
  // Paths that do not exist stay text.
  Feed({"see /nope/x.png"});
  EXPECT_EQ(backend_.chats.at(2)["messages"].back()["content"], "see /nope/x.png");
  EXPECT_FALSE(backend_.chats.at(2)["messages"].back().contains("images"));
  // Not an image: reported, nothing sent.
  Feed({"look /tmp/notes.jpg"});
  EXPECT_EQ(backend_.chats.size(), 3u);
  EXPECT_NE(err_text_.find("Couldn't process image: \"invalid image type"), std::string::npos);
}

TEST_F(ReplSessionTest, ImagePathsStayTextForOtherModels) {
  backend_.files["/tmp/cat.png"] = std::string("\x89PNG\r\n\x1A\n", 8);
  Feed({"what is in /tmp/cat.png"});
  EXPECT_EQ(backend_.chats.at(0)["messages"][0]["content"], "what is in /tmp/cat.png");
  EXPECT_EQ(Feed({"/tmp/cat.png"}), "Unknown command '/tmp/cat.png'. Type /? for help\n");
}

TEST(ReplHelpersTest, SplitFields) {
  EXPECT_EQ(SplitFields("  /set   parameter\tstop a  "),
            (std::vector<std::string>{"/set", "parameter", "stop", "a"}));
  EXPECT_TRUE(SplitFields("   ").empty());
}

TEST(ReplHelpersTest, ParseSetParameter) {
  EXPECT_EQ(*ParseSetParameter("top_k", {"40", "ignored"}), json(40));
  EXPECT_EQ(*ParseSetParameter("use_mmap", {"true"}), json(true));
  EXPECT_EQ(*ParseSetParameter("stop", {"a", "b"}), json({"a", "b"}));
  EXPECT_EQ(ParseSetParameter("temperature", {"hot"}).status().message(),
            "invalid float value [hot]");
  EXPECT_FALSE(ParseSetParameter("temperature", {}).ok());
}

TEST(ReplHelpersTest, GoValueString) {
  EXPECT_EQ(GoValueString(json(0.7)), "0.7");
  EXPECT_EQ(GoValueString(json(0.0)), "0");
  EXPECT_EQ(GoValueString(json(42)), "42");
  EXPECT_EQ(GoValueString(json(true)), "true");
  EXPECT_EQ(GoValueString(json({"a", "b c"})), "[a b c]");
  EXPECT_EQ(GoQuote("say \"hi\"\n"), "\"say \\\"hi\\\"\\n\"");
}

TEST(ReplHelpersTest, FindImagePaths) {
  using V = std::vector<std::string>;
  EXPECT_EQ(FindImagePaths("look at /tmp/a.png and ./b.JPEG now"), (V{"/tmp/a.png", "./b.JPEG"}));
  EXPECT_EQ(FindImagePaths("C:\\pics\\c.webp"), (V{"C:\\pics\\c.webp"}));
  EXPECT_EQ(FindImagePaths("/my\\ photos/d.jpg"), (V{"/my\\ photos/d.jpg"}));
  // Spaces may be part of a path (Ollama's pattern allows them); the shortest match wins.
  EXPECT_EQ(FindImagePaths("/a b.png c.png"), (V{"/a b.png"}));
  EXPECT_EQ(FindImagePaths("/x.pngs /y.gif a.png"), (V{"/x.pngs /y.gif a.png"}));
  EXPECT_EQ(FindImagePaths("/x.pngs\t/y.gif\ta.png\t/.png"), V{});
  EXPECT_EQ(FindImagePaths("/x\n.png"), V{});
  EXPECT_EQ(FindImagePaths(""), V{});
  // Long input stays fast (linear).
  std::string many;
  for (int i = 0; i < 20000; ++i) many += "a/b ";
  EXPECT_TRUE(FindImagePaths(many).empty());
}

TEST(ReplHelpersTest, UnescapeAndImageBytes) {
  EXPECT_EQ(UnescapeFilePath("/my\\ photos/\\(1\\).png"), "/my photos/(1).png");
  EXPECT_EQ(UnescapeFilePath("/it'\\''s.png"), "/it's.png");
  EXPECT_TRUE(LooksLikeImage("\xFF\xD8\xFF\xE0"));
  EXPECT_TRUE(LooksLikeImage(std::string("RIFF\x10\x00\x00\x00WEBPVP8 ", 16)));
  EXPECT_FALSE(LooksLikeImage("GIF89a"));
  EXPECT_FALSE(LooksLikeImage(""));
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(ReplHelpersTest, WordWrapper) {
  WordWrapper off(false, 20);
  EXPECT_EQ(off.Add("a long line of words that goes on"), "a long line of words that goes on");
  WordWrapper narrow(true, 5);  // below 10 columns: no wrapping
  EXPECT_EQ(narrow.Add("abc def ghi"), "abc def ghi");
  // Width 20: a line holds 15 columns; the word crossing it moves down.
  WordWrapper wrap(true, 20);
  EXPECT_EQ(wrap.Add("hello big world"), "hello big world");
  EXPECT_EQ(wrap.Add("s!"), "\033[5D\033[K\nworlds!");
  EXPECT_EQ(wrap.Add("\nnext"), "\nnext");
}

TEST(ReplHistoryTest, ParseAndFormat) {
  EXPECT_EQ(ParseHistory("  one \n\n two\n"), (std::vector<std::string>{"one", "two"}));
  std::string many;
  for (int i = 0; i < 150; ++i) many += "line" + std::to_string(i) + "\n";
  std::vector<std::string> kept = ParseHistory(many);
  ASSERT_EQ(kept.size(), kHistoryLimit);
  EXPECT_EQ(kept.front(), "line50");
  EXPECT_EQ(FormatHistory({"a", "b"}), "a\nb\n");
}

}  // namespace
}  // namespace corral::cli
