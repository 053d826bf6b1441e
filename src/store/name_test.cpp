#include "store/name.h"

#include <gtest/gtest.h>

#include <string>

namespace corral::store {
namespace {

struct ValidCase {
  std::string input;
  const char* host;
  const char* ns;
  const char* model;
  const char* tag;
  const char* scheme;
  const char* display;
};

// Worked out by hand from Ollama's ParseNameBare (right to left: the tag is after the last ':'
// only when that ':' follows the last '/'; then model, namespace, host by '/'), the defaults and
// DisplayShortest (ollama-api.md §5).
TEST(NameTest, ParsesValidNamesAsOllama) {
  const std::string m80(80, 'm');
  const std::string h350 = "h" + std::string(349, '.');
  const ValidCase cases[] = {
      {"llama3.2", "registry.ollama.ai", "library", "llama3.2", "latest", "", "llama3.2:latest"},
      {"llama3.2:1b", "registry.ollama.ai", "library", "llama3.2", "1b", "", "llama3.2:1b"},
      {"user/m:t", "registry.ollama.ai", "user", "m", "t", "", "user/m:t"},
      {"example.com/user/m:t", "example.com", "user", "m", "t", "", "example.com/user/m:t"},
      {"example.com/library/m", "example.com", "library", "m", "latest", "",
       "example.com/library/m:latest"},
      {"localhost:5000/ns/m:t", "localhost:5000", "ns", "m", "t", "", "localhost:5000/ns/m:t"},
      // The ':' is before the last '/': a port, not a tag.
      {"localhost:5000/ns/m", "localhost:5000", "ns", "m", "latest", "",
       "localhost:5000/ns/m:latest"},
      {"https://example.com/ns/m:t", "example.com", "ns", "m", "t", "https", "example.com/ns/m:t"},
      {"http://localhost:5000/ns/m", "localhost:5000", "ns", "m", "latest", "http",
       "localhost:5000/ns/m:latest"},
      // Ollama's strings.Cut takes any scheme text.
      {"ftp://h/ns/m", "h", "ns", "m", "latest", "ftp", "h/ns/m:latest"},
      {"hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", "hf.co", "bartowski",
       "Llama-3.2-1B-Instruct-GGUF", "Q4_K_M", "",
       "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"},
      {"registry.ollama.ai/library/m:latest", "registry.ollama.ai", "library", "m", "latest", "",
       "m:latest"},
      // Defaults are recognised ignoring case in the display form.
      {"Registry.Ollama.AI/Library/M:T", "Registry.Ollama.AI", "Library", "M", "T", "", "M:T"},
      {"_m", "registry.ollama.ai", "library", "_m", "latest", "", "_m:latest"},
      {"m-1.5_x:1.0-rc_2", "registry.ollama.ai", "library", "m-1.5_x", "1.0-rc_2", "",
       "m-1.5_x:1.0-rc_2"},
      // Dots are plain characters after the first one: "a..b" is a name, not a path step.
      {"a..b:t..", "registry.ollama.ai", "library", "a..b", "t..", "", "a..b:t.."},
      {"9/9:9", "registry.ollama.ai", "9", "9", "9", "", "9/9:9"},
      {m80 + ":" + m80, "registry.ollama.ai", "library", m80.c_str(), m80.c_str(), "", nullptr},
      {h350 + "/n/m", h350.c_str(), "n", "m", "latest", "", nullptr},
  };
  for (const ValidCase& c : cases) {
    Result<Name> n = ParseName(c.input);
    ASSERT_TRUE(n.ok()) << c.input << ": " << n.status().ToString();
    EXPECT_EQ(n->host, c.host) << c.input;
    EXPECT_EQ(n->ns, c.ns) << c.input;
    EXPECT_EQ(n->model, c.model) << c.input;
    EXPECT_EQ(n->tag, c.tag) << c.input;
    EXPECT_EQ(n->scheme, c.scheme) << c.input;
    EXPECT_TRUE(n->IsValid()) << c.input;
    if (c.display != nullptr) {
      EXPECT_EQ(n->DisplayShortest(), c.display) << c.input;
    }
    // The display form parses back to the same name (the defaults compare ignoring case).
    Result<Name> again = ParseName(n->DisplayShortest());
    ASSERT_TRUE(again.ok()) << n->DisplayShortest();
    EXPECT_TRUE(again->EqualFold(*n)) << c.input;
  }
}

TEST(NameTest, RefusesInvalidNames) {
  const std::string s81(81, 'm');
  const std::string h351 = "h" + std::string(350, 'o');
  const std::string cases[] = {
      "",
      ":",
      "/",
      "m:",                 // empty tag after a separator
      ":t",                 // empty model
      "/m",                 // empty namespace
      "ns/",                // empty model
      "a//m",               // empty namespace between separators
      "h/ns/",              // empty model
      "h//m:t",             // empty namespace
      "../x",               // namespace ".."
      "a/../../b",          // host "a/.."
      "host/ns/m:../../t",  // the ':' is before the last '/': namespace "..", host with '/'
      "m:../t",             // namespace "m:.."
      "m:t/../../x",
      "/etc/passwd",  // empty host
      "a/b/c/d",      // host "a/b"
      "..",
      ".",
      ".m",
      "-m",
      "m:-t",
      "m:.t",
      "ns.x/m",  // '.' is not allowed in a namespace
      "m:t:x",   // model "m:t"
      "m@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "m:t@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "m\u00f6del",  // UTF-8 bytes are not allowed
      "m:t\u00e5g",
      "\uff4d",  // fullwidth 'm'
      "m x",
      "m\\x",
      "C:\\x",
      "%2e%2e/m",
      "m\n",
      std::string("m\0x", 3),
      "https://m",  // host "https:" with an empty namespace
      "http://",
      s81,
      "m:" + s81,
      s81 + "/m",
      h351 + "/n/m",
  };
  for (const std::string& c : cases) {
    Result<Name> n = ParseName(c);
    EXPECT_FALSE(n.ok()) << "accepted \"" << c << "\" as " << (n.ok() ? n->String() : "");
    if (!n.ok()) {
      EXPECT_EQ(n.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(n.status().message().find("invalid model name"), std::string::npos);
    }
    EXPECT_FALSE(ParseNameWithDefaults(c).IsValid()) << c;
  }
}

TEST(NameTest, ErrorSaysWhichPart) {
  Result<Name> n = ParseName("a/../b");
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("namespace \"..\""), std::string::npos)
      << n.status().message();
  n = ParseName(std::string(100000, '.'));
  ASSERT_FALSE(n.ok());
  EXPECT_LT(n.status().message().size(), 400u);
  n = ParseName("m:" + std::string(81, 't'));
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("tag is 81 bytes long; the limit is 80"), std::string::npos)
      << n.status().message();
}

TEST(NameTest, BareParseKeepsMissingPartsEmptyOrMarked) {
  Name n = ParseNameBare("m");
  EXPECT_EQ(n.model, "m");
  EXPECT_EQ(n.host, "");
  EXPECT_EQ(n.ns, "");
  EXPECT_EQ(n.tag, "");
  n = ParseNameBare("m:");
  EXPECT_EQ(n.tag, kMissingPart);
  n = ParseNameBare("a//m");
  EXPECT_EQ(n.ns, kMissingPart);
  EXPECT_EQ(n.host, "a");
}

TEST(NameTest, EqualFoldIgnoresCaseAndScheme) {
  Name a = *ParseName("LLama3.2");
  Name b = *ParseName("https://registry.ollama.ai/library/llama3.2:LATEST");
  EXPECT_TRUE(a.EqualFold(b));
  EXPECT_FALSE(a == b);  // exact comparison sees the casing
  EXPECT_FALSE(a.EqualFold(*ParseName("llama3.2:1b")));
  EXPECT_FALSE(a.EqualFold(*ParseName("user/llama3.2")));
  EXPECT_FALSE(a.EqualFold(*ParseName("example.com/library/llama3.2")));
}

TEST(NameTest, FilepathAndBack) {
  Name n = *ParseName("localhost:5000/ns/m:t");
  EXPECT_EQ(n.Filepath(), "localhost:5000/ns/m/t");
  Result<Name> back = NameFromFilepath(n.Filepath());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, n);
  EXPECT_EQ(ParseName("llama3.2")->Filepath(), "registry.ollama.ai/library/llama3.2/latest");

  const char* invalid[] = {
      "a/b/c",     "a/b/c/d/e",       "a/../c/d",  "a/b/c/.tmp",      "a//c/d",
      "/a/b/c",    "a/b/c/",          "a/b.c/m/t", "a/b/c/.DS_Store", "..",
      "a/b/c/d\n", "a/b/m\xc3\xa9/t", "",
  };
  for (const char* p : invalid) {
    EXPECT_FALSE(NameFromFilepath(p).ok()) << p;
  }
}

TEST(NameTest, ValidPartsNeverSpellAPathStep) {
  // Exhaustive over every byte as the first character: only [A-Za-z0-9_] may start a part, so
  // '.', '/', '\\' and NUL never can.
  for (int c = 0; c < 256; ++c) {
    std::string s(1, static_cast<char>(c));
    bool want =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    for (NamePart part :
         {NamePart::kHost, NamePart::kNamespace, NamePart::kModel, NamePart::kTag}) {
      EXPECT_EQ(IsValidNamePart(part, s), want) << "byte " << c;
      EXPECT_FALSE(IsValidNamePart(part, "a/" + s)) << "byte " << c;
    }
  }
  EXPECT_TRUE(IsValidNamePart(NamePart::kHost, "h:1"));
  EXPECT_FALSE(IsValidNamePart(NamePart::kModel, "m:1"));
  EXPECT_FALSE(IsValidNamePart(NamePart::kNamespace, "a.b"));
  EXPECT_TRUE(IsValidNamePart(NamePart::kModel, "a.b"));
}

}  // namespace
}  // namespace corral::store
