#include "modelfile/modelfile.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace corral::modelfile {
namespace {

using nlohmann::json;

Command Cmd(Instruction instruction, std::string name, std::string value) {
  return {instruction, std::move(name), std::move(value), 0};
}

std::vector<Command> MustParse(std::string_view text) {
  Result<Modelfile> mf = ParseModelfile(text);
  EXPECT_TRUE(mf.ok()) << mf.status().ToString() << "\n" << text;
  return mf.ok() ? mf->commands : std::vector<Command>{};
}

std::string ParseError(std::string_view text) {
  Result<Modelfile> mf = ParseModelfile(text);
  EXPECT_FALSE(mf.ok()) << text;
  if (mf.ok()) return "";
  EXPECT_EQ(mf.status().code(), StatusCode::kInvalidArgument);
  return mf.status().message();
}

const char kInvalidCommand[] =
    "command must be one of \"from\", \"license\", \"template\", \"system\", \"adapter\", "
    "\"draft\", \"renderer\", \"parser\", \"parameter\", \"message\", or \"requires\"";

TEST(ModelfileParseTest, ParsesEveryInstruction) {
  const char* text =
      "FROM llama3.2\n"
      "# a comment\n"
      "PARAMETER temperature 0.7\n"
      "PARAMETER stop <|im_end|>\n"
      "PARAMETER stop \"<|eot_id|>\"\n"
      "SYSTEM You are Mario from Super Mario Bros.\n"
      "TEMPLATE \"\"\"{{ if .System }}<|im_start|>system\n"
      "{{ .System }}<|im_end|>\n"
      "{{ end }}\"\"\"\n"
      "MESSAGE user Is Toronto in Canada?\n"
      "MESSAGE assistant yes\n"
      "LICENSE \"\"\"MIT\n"
      "text\"\"\"\n"
      "ADAPTER ./lora.gguf\n"
      "DRAFT ./draft.gguf\n"
      "RENDERER qwen3-coder\n"
      "PARSER qwen3-coder\n"
      "REQUIRES 0.14.0\n";
  const std::vector<Command> expected = {
      Cmd(Instruction::kFrom, "", "llama3.2"),
      Cmd(Instruction::kParameter, "temperature", "0.7"),
      Cmd(Instruction::kParameter, "stop", "<|im_end|>"),
      Cmd(Instruction::kParameter, "stop", "<|eot_id|>"),
      Cmd(Instruction::kSystem, "", "You are Mario from Super Mario Bros."),
      Cmd(Instruction::kTemplate, "",
          "{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"),
      Cmd(Instruction::kMessage, "user", "Is Toronto in Canada?"),
      Cmd(Instruction::kMessage, "assistant", "yes"),
      Cmd(Instruction::kLicense, "", "MIT\ntext"),
      Cmd(Instruction::kAdapter, "", "./lora.gguf"),
      Cmd(Instruction::kDraft, "", "./draft.gguf"),
      Cmd(Instruction::kRenderer, "", "qwen3-coder"),
      Cmd(Instruction::kParser, "", "qwen3-coder"),
      Cmd(Instruction::kRequires, "", "0.14.0"),
  };
  EXPECT_EQ(MustParse(text), expected);
}

TEST(ModelfileParseTest, InstructionsAreCaseInsensitiveButRolesAndParametersAreNot) {
  EXPECT_EQ(MustParse("from a\nFrOm b\nsystem s\nParameter Top_K 5\nmessage user hi\n"),
            (std::vector<Command>{
                Cmd(Instruction::kFrom, "", "a"), Cmd(Instruction::kFrom, "", "b"),
                Cmd(Instruction::kSystem, "", "s"), Cmd(Instruction::kParameter, "Top_K", "5"),
                Cmd(Instruction::kMessage, "user", "hi")}));
  EXPECT_EQ(ParseError("FROM x\nMESSAGE User hi\n"),
            "(line 2): message role must be one of \"system\", \"user\", or \"assistant\"");
  // Ollama's parser knows no tool role.
  EXPECT_EQ(ParseError("FROM x\n\nMESSAGE tool {}\n"),
            "(line 3): message role must be one of \"system\", \"user\", or \"assistant\"");
}

TEST(ModelfileParseTest, CommentsBlankLinesAndWhitespace) {
  EXPECT_EQ(MustParse("  # indented comment\n\n\t\nFROM   x   \n   SYSTEM a # not a comment  \n"
                      "# FROM y\n#\n"),
            (std::vector<Command>{Cmd(Instruction::kFrom, "", "x"),
                                  Cmd(Instruction::kSystem, "", "a # not a comment")}));
  // Tabs separate like spaces and survive inside values; no trailing newline is needed.
  EXPECT_EQ(MustParse("FROM\tx\nPARAMETER\tnum_ctx\t4096\nSYSTEM a\tb"),
            (std::vector<Command>{Cmd(Instruction::kFrom, "", "x"),
                                  Cmd(Instruction::kParameter, "num_ctx", "4096"),
                                  Cmd(Instruction::kSystem, "", "a\tb")}));
}

TEST(ModelfileParseTest, QuotesFollowOllamasRules) {
  const char* text =
      "FROM x\n"
      "SYSTEM \"  padded  \"\n"
      "SYSTEM \"a\" \"b\"\n"         // ends only where the trimmed text is one quoted string
      "SYSTEM \"say \\\"hi\\\"\"\n"  // no escapes: the backslashes stay
      "SYSTEM \"two\nlines\"\n"      // plain quotes may span lines too
      "SYSTEM \"\"\"He said \"hi\".\"\"\"\n"
      "SYSTEM \"\"\"\n  indented\n\"\"\"\n"
      "SYSTEM \"\"\n"
      "SYSTEM \n"
      "SYSTEM it's \"fine\"\n";
  EXPECT_EQ(MustParse(text), (std::vector<Command>{
                                 Cmd(Instruction::kFrom, "", "x"),
                                 Cmd(Instruction::kSystem, "", "  padded  "),
                                 Cmd(Instruction::kSystem, "", "a\" \"b"),
                                 Cmd(Instruction::kSystem, "", "say \\\"hi\\\""),
                                 Cmd(Instruction::kSystem, "", "two\nlines"),
                                 Cmd(Instruction::kSystem, "", "He said \"hi\"."),
                                 Cmd(Instruction::kSystem, "", "\n  indented\n"),
                                 Cmd(Instruction::kSystem, "", ""),
                                 Cmd(Instruction::kSystem, "", ""),
                                 Cmd(Instruction::kSystem, "", "it's \"fine\""),
                             }));
}

TEST(ModelfileParseTest, UnterminatedQuotesAreUnexpectedEof) {
  EXPECT_EQ(ParseError("FROM x\nSYSTEM \"unterminated\n"), "unexpected EOF");
  EXPECT_EQ(ParseError("FROM x\nTEMPLATE \"\"\"abc\"\n"), "unexpected EOF");
  EXPECT_EQ(ParseError("FROM x\nTEMPLATE \"\"\"\"\n"), "unexpected EOF");
  // Text after a closing quote reopens the value, which then never ends.
  EXPECT_EQ(ParseError("FROM x\nSYSTEM \"a\" b\nPARAMETER top_k 1\n"), "unexpected EOF");
  // A file that stops inside an instruction name or a PARAMETER name.
  EXPECT_EQ(ParseError("FROM x\nSYSTEM"), "unexpected EOF");
  EXPECT_EQ(ParseError("FROM x\nPARAMETER top_k"), "unexpected EOF");
}

TEST(ModelfileParseTest, ErrorsCarryOllamasMessagesAndLines) {
  EXPECT_EQ(ParseError("FROM x\nFOO bar\n"), std::string("(line 2): ") + kInvalidCommand);
  EXPECT_EQ(ParseError("FROM2 x\n"), std::string("(line 1): ") + kInvalidCommand);
  // The line break that ends a bare instruction is already counted.
  EXPECT_EQ(ParseError("FROM\n"), std::string("(line 2): ") + kInvalidCommand);
  // '\r' and '\n' each count a line.
  EXPECT_EQ(ParseError("FROM x\r\nFOO y\r\n"), std::string("(line 3): ") + kInvalidCommand);
  // A bad character in a PARAMETER name or MESSAGE role reports the name so far.
  EXPECT_EQ(ParseError("FROM x\nPARAMETER temp-erature 1\n"), "unexpected EOF: temp");
  EXPECT_EQ(ParseError("FROM x\nMESSAGE user\n"), "unexpected EOF: user");
  EXPECT_EQ(ParseError("SYSTEM hi\n"), "no FROM line");
  EXPECT_EQ(ParseError(""), "no FROM line");
  EXPECT_EQ(ParseError("# only a comment"), "no FROM line");
}

TEST(ModelfileParseTest, DoubleBlankAfterParameterGivesAnEmptyName) {
  // Ollama then rejects it when building the request.
  EXPECT_EQ(MustParse("FROM x\nPARAMETER  temperature 1\n"),
            (std::vector<Command>{Cmd(Instruction::kFrom, "", "x"),
                                  Cmd(Instruction::kParameter, "", "temperature 1")}));
}

TEST(ModelfileParseTest, EncodingsAndUnprintableCharacters) {
  EXPECT_EQ(MustParse("\xEF\xBB\xBF"
                      "FROM x\n"),
            std::vector<Command>{Cmd(Instruction::kFrom, "", "x")});
  const std::string utf16le(
      "\xFF\xFE"
      "F\0R\0O\0M\0 \0x\0\xE9\0\n\0",
      18);
  EXPECT_EQ(MustParse(utf16le), std::vector<Command>{Cmd(Instruction::kFrom, "", "x\xC3\xA9")});
  const std::string utf16be("\xFE\xFF\0F\0R\0O\0M\0 \0y", 14);
  EXPECT_EQ(MustParse(utf16be), std::vector<Command>{Cmd(Instruction::kFrom, "", "y")});
  // Control characters, ZERO WIDTH SPACE and NO-BREAK SPACE are dropped; emoji and accents stay;
  // an invalid byte becomes U+FFFD.
  EXPECT_EQ(MustParse("FROM x\nSYSTEM a\x01"
                      "b\xE2\x80\x8B"
                      "c\xC2\xA0"
                      "d \xF0\x9F\x98\x80 "
                      "\xC3\xA9 \xFF\n"),
            (std::vector<Command>{
                Cmd(Instruction::kFrom, "", "x"),
                Cmd(Instruction::kSystem, "", "abcd \xF0\x9F\x98\x80 \xC3\xA9 \xEF\xBF\xBD")}));
}

TEST(ModelfileFormatTest, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(QuoteValue("plain text"), "plain text");
  EXPECT_EQ(QuoteValue(""), "");
  EXPECT_EQ(QuoteValue("a \"b\""), "a \"b\"");
  EXPECT_EQ(QuoteValue(" lead"), "\" lead\"");
  EXPECT_EQ(QuoteValue("trail "), "\"trail \"");
  EXPECT_EQ(QuoteValue("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(QuoteValue("say \"hi\"\n"), "\"\"\"say \"hi\"\n\"\"\"");
  EXPECT_EQ(FormatCommand(Cmd(Instruction::kFrom, "", " spaced ")), "FROM  spaced ");
  EXPECT_EQ(FormatCommand(Cmd(Instruction::kMessage, "user", "hi\nthere")),
            "MESSAGE user \"hi\nthere\"");
  EXPECT_EQ(FormatCommand(Cmd(Instruction::kParameter, "stop", " ")), "PARAMETER stop \" \"");
  EXPECT_EQ(FormatCommand(Cmd(Instruction::kRequires, "", "0.14.0")), "REQUIRES 0.14.0");
  EXPECT_EQ(FormatCommands({Cmd(Instruction::kFrom, "", "m"), Cmd(Instruction::kDraft, "", "d"),
                            Cmd(Instruction::kSystem, "", "s")}),
            "FROM m\nDRAFT d\nSYSTEM s\n");
}

// --- ollama create ------------------------------------------------------------------------------

LocalFileResolver FakeDisk(std::map<std::string, std::map<std::string, std::string>> disk,
                           std::vector<std::string>* calls = nullptr) {
  return [disk = std::move(disk), calls](
             Instruction instruction,
             const std::string& arg) -> Result<std::optional<std::map<std::string, std::string>>> {
    if (calls != nullptr)
      calls->push_back(std::string(InstructionKeyword(instruction)) + " " + arg);
    if (arg == "./broken") return IoError("open ./broken: permission denied");
    auto it = disk.find(arg);
    if (it == disk.end()) return std::optional<std::map<std::string, std::string>>();
    return std::optional<std::map<std::string, std::string>>(it->second);
  };
}

CreateRequest MustCreate(std::string_view text, const LocalFileResolver& resolver) {
  Result<Modelfile> mf = ParseModelfile(text);
  EXPECT_TRUE(mf.ok()) << mf.status().ToString();
  if (!mf.ok()) return {};
  Result<CreateRequest> req = ToCreateRequest(*mf, resolver);
  EXPECT_TRUE(req.ok()) << req.status().ToString();
  return req.ok() ? *req : CreateRequest{};
}

Status CreateError(std::string_view text, const LocalFileResolver& resolver = nullptr) {
  Result<Modelfile> mf = ParseModelfile(text);
  EXPECT_TRUE(mf.ok()) << mf.status().ToString();
  if (!mf.ok()) return mf.status();
  Result<CreateRequest> req = ToCreateRequest(*mf, resolver);
  EXPECT_FALSE(req.ok()) << text;
  return req.ok() ? Status::Ok() : req.status();
}

TEST(ModelfileCreateTest, BuildsTheBodyOllamaCreateSends) {
  std::vector<std::string> calls;
  const LocalFileResolver disk = FakeDisk(
      {{"./model.gguf", {{"model.gguf", "sha256:aa"}}},
       {"./mmproj.gguf", {{"mmproj.gguf", "sha256:bb"}}},
       {"./lora",
        {{"adapter_model.safetensors", "sha256:cc"}, {"adapter_config.json", "sha256:dd"}}},
       {"./draft.gguf", {{"draft.gguf", "sha256:ee"}}}},
      &calls);
  const char* text =
      "FROM ./model.gguf\n"
      "FROM ./mmproj.gguf\n"
      "ADAPTER ./lora\n"
      "DRAFT ./draft.gguf\n"
      "TEMPLATE {{ .Prompt }}\n"
      "SYSTEM \"\"\"Be brief.\"\"\"\n"
      "PARAMETER temperature 0.7\n"
      "PARAMETER num_ctx 4096\n"
      "PARAMETER stop <|im_end|>\n"
      "PARAMETER use_mmap false\n"
      "PARAMETER stop \"<|im_start|>\"\n"
      "PARAMETER temperature 0.5\n"
      "PARAMETER mirostat 1\n"
      "LICENSE MIT\n"
      "LICENSE \"\"\"Apache\n2.0\"\"\"\n"
      "MESSAGE system You are terse.\n"
      "MESSAGE user hi\n"
      "RENDERER qwen3\n"
      "PARSER qwen3\n"
      "REQUIRES v0.14.1-rc0\n";
  CreateRequest req = MustCreate(text, disk);
  const json expected = json::parse(R"({
    "files": {"model.gguf": "sha256:aa", "mmproj.gguf": "sha256:bb"},
    "adapters": {"adapter_model.safetensors": "sha256:cc", "adapter_config.json": "sha256:dd"},
    "draft_files": {"draft.gguf": "sha256:ee"},
    "template": "{{ .Prompt }}",
    "system": "Be brief.",
    "license": ["MIT", "Apache\n2.0"],
    "parameters": {"temperature": 0.5, "num_ctx": 4096, "stop": ["<|im_end|>", "<|im_start|>"],
                   "use_mmap": false},
    "messages": [{"role": "system", "content": "You are terse."},
                 {"role": "user", "content": "hi"}],
    "renderer": "qwen3",
    "parser": "qwen3",
    "requires": "0.14.1-rc0"
  })");
  EXPECT_EQ(req.body, expected) << req.body.dump(2);
  EXPECT_TRUE(req.body["parameters"]["num_ctx"].is_number_integer());
  EXPECT_EQ(req.body["parameters"]["temperature"].dump(), "0.5");
  EXPECT_EQ(req.warnings, std::vector<std::string>{"warning: parameter mirostat is deprecated"});
  EXPECT_EQ(calls, (std::vector<std::string>{"FROM ./model.gguf", "FROM ./mmproj.gguf",
                                             "ADAPTER ./lora", "DRAFT ./draft.gguf"}));
}

TEST(ModelfileCreateTest, FromANameAndLastWins) {
  CreateRequest req = MustCreate(
      "FROM llama3.2\nFROM qwen3:8b\nSYSTEM one\nSYSTEM two\nTEMPLATE t1\nTEMPLATE t2\n"
      "PARAMETER num_ctx 2048\nPARAMETER num_ctx 8192\n",
      FakeDisk({}));
  EXPECT_EQ(req.body, json::parse(R"({"from": "qwen3:8b", "system": "two", "template": "t2",
                                     "parameters": {"num_ctx": 8192}})"));
  // Without a resolver every FROM is a name; empty values are left out like Go's omitempty.
  req = MustCreate("FROM ./not-checked\nSYSTEM \"\"\nTEMPLATE \n", nullptr);
  EXPECT_EQ(req.body, json::parse(R"({"from": "./not-checked"})"));
}

TEST(ModelfileCreateTest, LaterAdapterReplacesEarlier) {
  CreateRequest req = MustCreate(
      "FROM m\nADAPTER ./a\nADAPTER ./b\n",
      FakeDisk({{"./a", {{"a.gguf", "sha256:01"}}}, {"./b", {{"b.gguf", "sha256:02"}}}}));
  EXPECT_EQ(req.body, json::parse(R"({"from": "m", "adapters": {"b.gguf": "sha256:02"}})"));
}

TEST(ModelfileCreateTest, RequiresMustBeSemver) {
  const std::pair<const char*, const char*> good[] = {
      {"0.14.0", "0.14.0"},
      {"v0.14.0", "0.14.0"},
      {"1", "1"},
      {"1.2", "1.2"},
      {"1.2.3-alpha.1+b.01", "1.2.3-alpha.1+b.01"},
      {"0.0.0", "0.0.0"},
  };
  for (const auto& [in, out] : good) {
    CreateRequest req = MustCreate("FROM m\nREQUIRES " + std::string(in) + "\n", nullptr);
    EXPECT_EQ(req.body.value("requires", ""), out) << in;
  }
  for (const char* bad : {"1.2.3.4", "01.2.3", "1.02", "latest", "1.2-rc1", "1.2.3-01", "1.2.3-",
                          "1.2.3+", "vv1", "1.2.3 beta", "1.2.3-a..b"}) {
    Status s = CreateError("FROM m\nREQUIRES " + std::string(bad) + "\n");
    EXPECT_EQ(s.message(), "requires must be a valid semver (e.g. 0.14.0)") << bad;
  }
}

TEST(ModelfileCreateTest, ParameterAndFileErrors) {
  EXPECT_EQ(CreateError("FROM m\nPARAMETER num_ctx 1.5\n").message(), "invalid int value [1.5]");
  EXPECT_EQ(CreateError("FROM m\nPARAMETER temperature warm\n").message(),
            "invalid float value [warm]");
  EXPECT_EQ(CreateError("FROM m\nPARAMETER use_mmap yes\n").message(), "invalid bool value [yes]");
  EXPECT_EQ(CreateError("FROM m\nPARAMETER numa true\n").message(), "unknown parameter 'numa'");
  EXPECT_EQ(CreateError("FROM m\nPARAMETER  temperature 1\n").message(), "unknown parameter ''");
  Status s = CreateError("FROM m\nADAPTER ./missing\n", FakeDisk({}));
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "stat ./missing: no such file or directory");
  EXPECT_EQ(CreateError("FROM m\nDRAFT ./d\n").message(), "stat ./d: no such file or directory");
  s = CreateError("FROM ./broken\n", FakeDisk({}));
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message(), "open ./broken: permission denied");
}

// --- ollama show --------------------------------------------------------------------------------

TEST(ModelfileShowTest, FormatsFloatsLikeGoPercentV) {
  const std::pair<double, const char*> cases[] = {
      {0.7, "0.7"},
      {1, "1"},
      {0.95, "0.95"},
      {4096, "4096"},
      {100000, "100000"},
      {1e6, "1e+06"},
      {1048576, "1.048576e+06"},
      {123456789, "1.23456789e+08"},
      {0.0001, "0.0001"},
      {0.00001, "1e-05"},
      {-2.5, "-2.5"},
      {1.5e-7, "1.5e-07"},
      {1e21, "1e+21"},
      {1e100, "1e+100"},
      {-1, "-1"},
      {0, "0"},
      {0.1f, "0.10000000149011612"},
  };
  for (const auto& [value, text] : cases) EXPECT_EQ(GoFormatFloat(value), text) << text;
}

TEST(ModelfileShowTest, QuotesStringsLikeGoStrconvQuote) {
  EXPECT_EQ(GoQuote("<|im_end|>"), "\"<|im_end|>\"");
  EXPECT_EQ(GoQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(GoQuote("\n\t\r\a\b\f\v"), "\"\\n\\t\\r\\a\\b\\f\\v\"");
  EXPECT_EQ(GoQuote(std::string("\x00\x1b\x7f", 3)), "\"\\x00\\x1b\\x7f\"");
  EXPECT_EQ(GoQuote("\xC3\xA9\xE2\x96\x81"), "\"\xC3\xA9\xE2\x96\x81\"");  // printable: kept
  EXPECT_EQ(GoQuote("\xE2\x80\x8B"), "\"\\u200b\"");
  EXPECT_EQ(GoQuote("\xF3\xA0\x80\x81"), "\"\\U000e0001\"");
  EXPECT_EQ(GoQuote("a\xFF"
                    "b"),
            "\"a\\xffb\"");
  EXPECT_EQ(GoQuote("\xEF\xBF\xBD"), "\"\xEF\xBF\xBD\"");
}

TEST(ModelfileShowTest, ParametersTextIsGoPercentMinus30sPercentSharpV) {
  const json params = json::parse(R"({"stop": ["<|start_header_id|>", "<|eot_id|>"],
      "num_ctx": 16384, "temperature": 0.6, "use_mmap": false, "rope_frequency_base": 1000000,
      "a_very_long_option_name_beyond_30": "x\ny"})");
  const std::string expected =
      "a_very_long_option_name_beyond_30 \"x\\ny\"\n"
      "num_ctx                        16384\n"
      "rope_frequency_base            1e+06\n"
      "stop                           \"<|start_header_id|>\"\n"
      "stop                           \"<|eot_id|>\"\n"
      "temperature                    0.6\n"
      "use_mmap                       false";
  EXPECT_EQ(FormatParameters(params), expected);
  EXPECT_EQ(FormatParameters(json::object()), "");
  EXPECT_EQ(FormatParameters(json()), "");
}

TEST(ModelfileShowTest, ModelfileTextMatchesOllamaShow) {
  ShowModelfileInput in;
  in.short_name = "mario:latest";
  in.model_path = "/m/blobs/sha256-aa";
  in.adapter_paths = {"/m/blobs/sha256-bb"};
  in.draft_path = "/m/blobs/sha256-dd";
  in.projector_paths = {"/m/blobs/sha256-cc"};
  in.template_text = "{{ if .System }}{{ .System }}\n{{ end }}{{ .Prompt }}";
  in.system = "You are \"Mario\".\nBe brief.";
  in.renderer = "qwen3";
  in.parser = "qwen3";
  in.parameters = json::parse(R"({"temperature": 0.7, "stop": ["<|im_end|>", " "],
                                  "num_ctx": 1048576, "seed": 42, "use_mmap": true})");
  in.licenses = {"MIT", " Apache 2.0"};
  in.messages = {{"user", "Is Toronto in Canada?"}, {"assistant", "yes\nit is"}};
  const std::string expected =
      "# Modelfile generated by \"ollama show\"\n"
      "# To build a new Modelfile based on this, replace FROM with:\n"
      "# FROM mario:latest\n"
      "\n"
      "FROM /m/blobs/sha256-aa\n"
      "ADAPTER /m/blobs/sha256-bb\n"
      "DRAFT /m/blobs/sha256-dd\n"
      "FROM /m/blobs/sha256-cc\n"
      "TEMPLATE \"{{ if .System }}{{ .System }}\n{{ end }}{{ .Prompt }}\"\n"
      "SYSTEM \"\"\"You are \"Mario\".\nBe brief.\"\"\"\n"
      "RENDERER qwen3\n"
      "PARSER qwen3\n"
      "PARAMETER num_ctx 1.048576e+06\n"
      "PARAMETER seed 42\n"
      "PARAMETER stop <|im_end|>\n"
      "PARAMETER stop \" \"\n"
      "PARAMETER temperature 0.7\n"
      "PARAMETER use_mmap true\n"
      "LICENSE MIT\n"
      "LICENSE \" Apache 2.0\"\n"
      "MESSAGE user Is Toronto in Canada?\n"
      "MESSAGE assistant \"yes\nit is\"\n";
  EXPECT_EQ(FormatModelfile(in), expected);

  ShowModelfileInput bare;
  bare.short_name = "m:latest";
  bare.model_path = "/b";
  EXPECT_EQ(FormatModelfile(bare),
            "# Modelfile generated by \"ollama show\"\n"
            "# To build a new Modelfile based on this, replace FROM with:\n"
            "# FROM m:latest\n\nFROM /b\n");
}

// Modelfile -> create request -> (what the server stores) -> show -> parse again gives the same
// commands, with FROM now naming the blob.
TEST(ModelfileRoundTripTest, ShowOutputParsesBackToTheSameCommands) {
  const char* text =
      "FROM ./model.gguf\n"
      "TEMPLATE \"\"\"{{ if .System }}<|im_start|>system\n"
      "{{ .System }}<|im_end|>{{ end }}\"\"\"\n"
      "SYSTEM \"\"\" He said \"hi\" \"\"\"\n"
      "PARAMETER num_ctx 8192\n"
      "PARAMETER stop <|im_end|>\n"
      "PARAMETER stop \"<|im_start|>\"\n"
      "PARAMETER temperature 0.7\n"
      "PARAMETER top_p 0.95\n"
      "PARAMETER use_mmap false\n"
      "LICENSE \"\"\"MIT\nLicense\"\"\"\n"
      "MESSAGE user Is it \"so\"?\n"
      "MESSAGE assistant \"Yes.\nIt is.\"\n";
  const std::vector<Command> original = MustParse(text);
  CreateRequest req = MustCreate(text, FakeDisk({{"./model.gguf", {{"model.gguf", "sha256:aa"}}}}));

  // The server stores the params layer as JSON bytes and reads it back.
  const json stored = json::parse(req.body["parameters"].dump());
  ShowModelfileInput in;
  in.short_name = "mine:latest";
  in.model_path = "/blobs/sha256-aa";
  in.template_text = req.body["template"].get<std::string>();
  in.system = req.body["system"].get<std::string>();
  in.parameters = stored;
  for (const json& l : req.body["license"]) in.licenses.push_back(l.get<std::string>());
  for (const json& m : req.body["messages"]) {
    in.messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  }
  std::vector<Command> shown = MustParse(FormatModelfile(in));
  ASSERT_EQ(shown.size(), original.size());
  EXPECT_EQ(shown[0], Cmd(Instruction::kFrom, "", "/blobs/sha256-aa"));
  for (size_t i = 1; i < shown.size(); ++i) EXPECT_EQ(shown[i], original[i]) << i;

  // Large integers come back in Go's exponent form, which Ollama itself cannot re-create.
  in.parameters = json::parse(R"({"num_ctx": 1048576})");
  Result<Modelfile> again = ParseModelfile(FormatModelfile(in));
  ASSERT_TRUE(again.ok());
  Result<CreateRequest> recreated = ToCreateRequest(*again, nullptr);
  ASSERT_FALSE(recreated.ok());
  EXPECT_EQ(recreated.status().message(), "invalid int value [1.048576e+06]");
}

}  // namespace
}  // namespace corral::modelfile
