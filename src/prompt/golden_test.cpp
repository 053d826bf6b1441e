// Every golden of src/template/testdata/goldens (rendered by Go's text/template with Ollama's
// own template texts; see tools/template_goldens) must come out of RenderChat (RenderGenerate for
// /api/generate shapes) with our library template byte for byte.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "prompt/prompt.h"
#include "template/library.h"
#include "testing/testdata.h"

namespace corral::prompt {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path GoldenDir() { return fs::path(testing::SourceDir()) / "src/template/testdata/goldens"; }

json ReadJson(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

TEST(GoldenTest, EveryLibraryTemplateMatchesOllama) {
  ASSERT_TRUE(fs::is_directory(GoldenDir())) << GoldenDir();
  std::map<std::string, int> shapes_per_template;
  int failures = 0;
  for (const auto& dir : fs::directory_iterator(GoldenDir())) {
    for (const auto& file : fs::directory_iterator(dir.path())) {
      json golden = ReadJson(file.path());
      std::string name = golden.at("template").get<std::string>();
      SCOPED_TRACE(file.path().string());
      ASSERT_FALSE(golden.at("derivation").get<std::string>().empty());
      const tmpl::LibraryTemplate* entry = tmpl::FindLibraryTemplate(name);
      ASSERT_NE(entry, nullptr) << "no library template " << name;
      Result<PromptTemplate> t = PromptTemplate::Parse(entry->text);
      ASSERT_TRUE(t.ok()) << t.status().ToString();

      const json& request = golden.at("request");
      Think think;
      if (request.contains("think")) {
        Result<Think> parsed = ParseThink(request["think"]);
        ASSERT_TRUE(parsed.ok());
        think = *parsed;
      }
      Result<std::string> prompt = InternalError("unset");
      if (request.contains("prompt")) {  // an /api/generate request
        GenerateRequest generate;
        generate.prompt = request["prompt"].get<std::string>();
        generate.system = request.value("system", "");
        generate.images = static_cast<int>(request.value("images", json::array()).size());
        generate.think = think;
        prompt = RenderGenerate(*t, generate);
      } else {
        ChatRequest chat;
        Result<std::vector<Message>> messages = ParseMessages(request.at("messages"));
        ASSERT_TRUE(messages.ok()) << messages.status().ToString();
        chat.messages = std::move(*messages);
        if (request.contains("tools")) chat.tools = request["tools"];
        chat.think = think;
        prompt = RenderChat(*t, chat);
      }
      ASSERT_TRUE(prompt.ok()) << prompt.status().ToString();
      EXPECT_EQ(*prompt, golden.at("prompt").get<std::string>());
      if (*prompt != golden.at("prompt").get<std::string>()) ++failures;
      ++shapes_per_template[name];
    }
  }
  EXPECT_EQ(failures, 0);
  // Each library template has its goldens, at least 5 conversation shapes each.
  for (const tmpl::LibraryTemplate& entry : tmpl::LibraryTemplates()) {
    EXPECT_GE(shapes_per_template[std::string(entry.name)], 5) << entry.name;
  }
}

}  // namespace
}  // namespace corral::prompt
