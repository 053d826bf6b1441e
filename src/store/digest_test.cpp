#include "store/digest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace corral::store {
namespace {

const std::string kEmptyHex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::string kAbcHex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(DigestTest, ParsesOnlyCanonicalSha256) {
  Result<Digest> d = Digest::Parse("sha256:" + kAbcHex);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->hex(), kAbcHex);
  EXPECT_EQ(d->String(), "sha256:" + kAbcHex);
  EXPECT_EQ(d->Filename(), "sha256-" + kAbcHex);

  std::string upper = kAbcHex;
  for (char& c : upper) c = static_cast<char>(toupper(c));
  const std::string cases[] = {
      "",
      "sha256:",
      "sha256",
      "sha256:" + kAbcHex.substr(0, 63),  // 63 digits
      "sha256:" + kAbcHex + "0",          // 65 digits
      "sha256:" + upper,                  // uppercase
      "SHA256:" + kAbcHex,
      "sha256-" + kAbcHex,  // the file-name form is not a digest
      "sha512:" + kAbcHex,
      "sha256:../../../../etc/passwd",
      "sha256:" + kAbcHex.substr(0, 60) + "/../",
      "../sha256:" + kAbcHex,
      "sha256:" + kAbcHex + "\n",
      " sha256:" + kAbcHex,
      "sha256:" + kAbcHex.substr(0, 32) + std::string(1, '\0') + kAbcHex.substr(33),
      "sha256:" + kAbcHex.substr(0, 63) + "g",
      "sha256:%2e%2e%2f" + kAbcHex.substr(9),
  };
  for (const std::string& c : cases) {
    Result<Digest> r = Digest::Parse(c);
    EXPECT_FALSE(r.ok()) << "accepted " << c;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find("invalid digest"), std::string::npos);
    }
    EXPECT_FALSE(IsValidDigest(c));
  }
  // Error text never carries raw control bytes (a hostile digest cannot forge log lines).
  Result<Digest> bad = Digest::Parse("sha256:\n\x1b[31mred");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find('\n'), std::string::npos);
  EXPECT_EQ(bad.status().message().find('\x1b'), std::string::npos);
}

TEST(DigestTest, FilenameForm) {
  Result<Digest> d = Digest::FromFilename("sha256-" + kEmptyHex);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->hex(), kEmptyHex);
  EXPECT_TRUE(IsValidBlobFilename("sha256-" + kEmptyHex));
  EXPECT_FALSE(IsValidBlobFilename("sha256:" + kEmptyHex));
  EXPECT_FALSE(IsValidBlobFilename("sha256-" + kEmptyHex + "-partial"));
  EXPECT_FALSE(IsValidBlobFilename("sha256-" + kEmptyHex + "-partial-0"));
  EXPECT_FALSE(IsValidBlobFilename("sha256-tmp-123456"));
  EXPECT_FALSE(IsValidBlobFilename(".."));
  EXPECT_TRUE(Digest().empty());
  EXPECT_EQ(Digest().String(), "");
}

TEST(DigestTest, Sha256KnownVectors) {
  EXPECT_EQ(Sha256Of("").hex(), kEmptyHex);
  EXPECT_EQ(Sha256Of("abc").hex(), kAbcHex);
  // FIPS 180-2 two-block vector.
  EXPECT_EQ(Sha256Of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").hex(),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 h;
  h.Update("a");
  h.Update("");
  h.Update("bc");
  EXPECT_EQ(h.Finish().hex(), kAbcHex);
  // Finish resets.
  h.Update("abc");
  EXPECT_EQ(h.Finish().hex(), kAbcHex);
}

TEST(DigestTest, StreamAndFileAgreeWithOneShot) {
  std::string data;
  for (int i = 0; i < 3'000'000; ++i) data.push_back(static_cast<char>(i * 131 + (i >> 9)));
  Digest want = Sha256Of(data);

  std::istringstream in(data);
  Result<Digest> from_stream = Sha256OfStream(in);
  ASSERT_TRUE(from_stream.ok());
  EXPECT_EQ(*from_stream, want);

  char tmpl[] = "/tmp/corral-digest-XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream out(tmpl, std::ios::binary);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
  }
  Result<Digest> from_file = Sha256OfFile(tmpl);
  unlink(tmpl);
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  EXPECT_EQ(*from_file, want);

  Result<Digest> missing = Sha256OfFile("/nonexistent/corral/file");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/corral/file"), std::string::npos);
}

}  // namespace
}  // namespace corral::store
