#include "store/manifest.h"

#include <gtest/gtest.h>

#include <string>

namespace corral::store {
namespace {

const std::string kA = "sha256:4f659a1e86d7f5a33c389f7991e7224b7ee6ad0358b53437d54c02d2e1b1118d";
const std::string kB = "sha256:74701a8c35f6c8d9a4b91f3f3497643001d63e0c7a84e085bed452548fa88d45";
const std::string kC = "sha256:966de95ca8a62200913e3f8bfbf84c8494536f1b94b49166851e76644e966396";

// The shape `ollama pull` stores, plus keys a newer Ollama or a registry may add.
const std::string kOllamaManifest =
    R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
    R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" +
    kA + R"(","size":485},"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":")" +
    kB + R"(","size":1321082688,"from":"/root/.ollama/models/blobs/x","annotations":{"k":"v"}},)" +
    R"({"mediaType":"application/vnd.ollama.image.template","digest":")" + kC +
    R"(","size":1429}],"runner":"ollama","unknown":[1,2,{"x":null}]})";

TEST(ManifestTest, ParsesOllamaManifestIgnoringUnknownKeys) {
  Result<Manifest> m = ParseManifest(kOllamaManifest, "test");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->schema_version, 2);
  EXPECT_EQ(m->media_type, kMediaTypeManifest);
  EXPECT_EQ(m->config.media_type, kMediaTypeConfig);
  EXPECT_EQ(m->config.digest.String(), kA);
  EXPECT_EQ(m->config.size, 485);
  ASSERT_EQ(m->layers.size(), 2u);
  EXPECT_EQ(m->layers[0].media_type, kMediaTypeModel);
  EXPECT_EQ(m->layers[0].digest.String(), kB);
  EXPECT_EQ(m->layers[0].size, 1321082688);
  EXPECT_EQ(m->layers[0].from, "/root/.ollama/models/blobs/x");
  EXPECT_EQ(m->layers[1].media_type, kMediaTypeTemplate);
  EXPECT_EQ(m->Size(), 485 + 1321082688 + 1429);
  ASSERT_EQ(m->Blobs().size(), 3u);
  EXPECT_EQ(m->Blobs()[0].String(), kA);
  EXPECT_EQ(m->Blobs()[2].String(), kC);
}

TEST(ManifestTest, NullsAndMissingKeysAreZeroValuesAsInGo) {
  Result<Manifest> m = ParseManifest(R"({"schemaVersion":2,"config":null,"layers":null})", "t");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->config.digest.empty());
  EXPECT_TRUE(m->layers.empty());
  EXPECT_TRUE(m->Blobs().empty());
  // Go matches keys case-insensitively when there is no exact match.
  m = ParseManifest(R"({"SchemaVersion":2,"Layers":[{"Digest":")" + kB + R"(","SIZE":7}]})", "t");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].size, 7);
}

TEST(ManifestTest, BlobsHaveNoRepeats) {
  Manifest m;
  m.config.digest = *Digest::Parse(kA);
  m.layers.push_back(Layer{"a", *Digest::Parse(kB), 1, "", ""});
  m.layers.push_back(Layer{"b", *Digest::Parse(kA), 1, "", ""});
  m.layers.push_back(Layer{"c", *Digest::Parse(kB), 1, "", ""});
  ASSERT_EQ(m.Blobs().size(), 2u);
}

struct BadCase {
  std::string json;
  const char* want;  // a substring of the error
};

TEST(ManifestTest, RefusesMalformedManifestsNamingTheFile) {
  const BadCase cases[] = {
      {"", "not valid JSON"},
      {"{", "not valid JSON"},
      {R"({"schemaVersion":2,})", "not valid JSON"},
      {"[]", "want a JSON object"},
      {"null", "want a JSON object"},
      {R"({"schemaVersion":"2"})", "schemaVersion: want an integer"},
      {R"({"schemaVersion":2.5})", "schemaVersion: want an integer"},
      {R"({"mediaType":5})", "mediaType: want a string"},
      {R"({"config":[]})", "config: want an object"},
      {R"({"layers":{}})", "layers: want an array"},
      {R"({"layers":[5]})", "layers[0]: want an object"},
      {R"({"layers":[null]})", "layers[0]: is null"},
      {R"({"layers":[{"mediaType":"m","size":1}]})", "layers[0].digest: is missing"},
      {R"({"layers":[{"digest":")" + kB + R"(","size":-1}]})", "layers[0].size: is negative"},
      {R"({"layers":[{"digest":")" + kB + R"(","size":1e3}]})", "want an integer"},
      {R"({"layers":[{"digest":")" + kB + R"(","size":18446744073709551615}]})", "out of range"},
      // CVE-2024-37032: a digest that would make a path outside blobs/.
      {R"({"layers":[{"digest":"sha256:../../../../etc/passwd","size":1}]})",
       "layers[0].digest: invalid digest"},
      {R"({"config":{"digest":"../x"},"layers":[]})", "config.digest: invalid digest"},
      {R"({"layers":[{"digest":")" + kB.substr(0, 70) + R"(","size":1}]})", "invalid digest"},
      {R"({"layers":[{"digest":"SHA256:)" + kB.substr(7) + R"(","size":1}]})", "invalid digest"},
  };
  for (const BadCase& c : cases) {
    Result<Manifest> m = ParseManifest(c.json, "/models/manifests/h/n/m/t");
    ASSERT_FALSE(m.ok()) << "accepted " << c.json;
    EXPECT_EQ(m.status().code(), StatusCode::kCorruption) << c.json;
    EXPECT_NE(m.status().message().find("/models/manifests/h/n/m/t"), std::string::npos)
        << m.status().message();
    EXPECT_NE(m.status().message().find(c.want), std::string::npos)
        << c.json << " -> " << m.status().message();
  }
  std::string huge(kMaxManifestBytes + 1, ' ');
  Result<Manifest> m = ParseManifest(huge, "big");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kResourceExhausted);
}

TEST(ManifestTest, SerializesAsGoJsonEncoder) {
  Manifest m;
  m.config = Layer{std::string(kMediaTypeConfig), *Digest::Parse(kA), 485, "", ""};
  m.layers.push_back(
      Layer{std::string(kMediaTypeModel), *Digest::Parse(kB), 1321082688, "<a>&\"b\"\\\n\t", ""});
  m.layers.push_back(Layer{std::string(kMediaTypeLicense), *Digest::Parse(kC), 0, "",
                           "caf\xc3\xa9\xe2\x80\xa8\x01\xff"});
  // What Go's json.NewEncoder(f).Encode(m) writes for Ollama's struct: key order as declared,
  // omitempty for from/name, <>& and U+2028 escaped, invalid UTF-8 as \ufffd, a final newline.
  const std::string want =
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
      R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" +
      kA + R"(","size":485},"layers":[{"mediaType":"application/vnd.ollama.image.model",)" +
      R"("digest":")" + kB + R"(","size":1321082688,"from":"\u003ca\u003e\u0026\"b\"\\\n\t"},)" +
      R"({"mediaType":"application/vnd.ollama.image.license","digest":")" + kC +
      R"(","size":0,"name":"caf)" + "\xc3\xa9" + R"(\u2028\u0001\ufffd"}]})" + "\n";
  EXPECT_EQ(SerializeManifest(m), want);

  Result<Manifest> back = ParseManifest(SerializeManifest(m), "round trip");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->layers[0], m.layers[0]);
  EXPECT_EQ(back->config, m.config);
}

TEST(ManifestTest, GoJsonStringEscapesAsGoDoes) {
  // Go's encoding/json (HTML escaping on) replaces each byte that does not start a valid UTF-8
  // sequence with \ufffd: lead bytes beyond 0xF4, overlong forms, surrogates, cut sequences.
  struct Case {
    std::string in, want;
  } cases[] = {
      {"<a&b>", R"("\u003ca\u0026b\u003e")"},
      {"\x01\x7f\"\\", R"("\u0001)"
                       "\x7f"
                       R"(\"\\")"},
      {"\xe2\x80\xa8\xe2\x80\xa9", R"("\u2028\u2029")"},
      {"\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""},  // U+1F600 is copied
      {"\xf8\x88\x80\x80", R"("\ufffd\ufffd\ufffd\ufffd")"},
      {"\xf5\x80\x80\x80", R"("\ufffd\ufffd\ufffd\ufffd")"},
      {"\xc0\x80", R"("\ufffd\ufffd")"},
      {"\xed\xa0\x80", R"("\ufffd\ufffd\ufffd")"},
      {"a\xe2\x82", R"("a\ufffd\ufffd")"},
  };
  for (const Case& c : cases) {
    std::string out;
    AppendGoJsonString(c.in, &out);
    EXPECT_EQ(out, c.want) << c.in;
  }
}

TEST(ManifestTest, ParseOfSerializeIsIdentity) {
  Result<Manifest> m = ParseManifest(kOllamaManifest, "test");
  ASSERT_TRUE(m.ok());
  Result<Manifest> again = ParseManifest(SerializeManifest(*m), "again");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *m);
}

}  // namespace
}  // namespace corral::store
