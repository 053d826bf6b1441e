// Files our GGUF writer produces load in llama.cpp and behave exactly like the original:
// stories260K is read with our reader, rewritten with our writer (custom alignment, so the
// layout really differs), and llama.cpp's tokens and greedy continuation must not change.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "testing/reference.h"
#include "testing/testdata.h"

namespace corral::testing {
namespace {

TEST(GgufWriterReferenceTest, RewrittenModelGeneratesTheSameText) {
  REQUIRE_SHARED_TESTDATA(original, "models/stories260K.gguf");
  auto source = gguf::GgufFile::Open(original);
  ASSERT_TRUE(source.ok()) << source.status().ToString();

  gguf::GgufWriter writer(64);
  for (const gguf::KeyValue& kv : (*source)->metadata()) {
    ASSERT_TRUE(writer.Set(kv.key, gguf::MetaValue::From(kv.value)).ok());
  }
  for (const gguf::TensorInfo& t : (*source)->tensors()) {
    std::vector<uint64_t> shape(t.ne.begin(), t.ne.begin() + std::max<uint32_t>(t.n_dims, 1));
    ASSERT_TRUE(writer.AddTensor(t.name, t.type, shape, std::span(t.data, t.n_bytes)).ok());
  }
  std::filesystem::path copy = std::filesystem::temp_directory_path() /
                               ("corral-rewrite-" + std::to_string(getpid()) + ".gguf");
  ASSERT_TRUE(writer.Write(copy.string()).ok());

  auto want = reference::Greedy(original, "Once upon a time", 24);
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  auto got = reference::Greedy(copy.string(), "Once upon a time", 24);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->prompt, want->prompt);
  EXPECT_EQ(got->tokens, want->tokens);
  EXPECT_EQ(got->text, want->text);

  // llama.cpp's own GGUF parser sees the same metadata in both files.
  auto infos = reference::CallMany(
      {{{"op", "info"}, {"model", original}}, {{"op", "info"}, {"model", copy.string()}}});
  ASSERT_TRUE(infos.ok()) << infos.status().ToString();
  nlohmann::json rewritten = (*infos)[1]["metadata"];
  EXPECT_EQ(rewritten["general"]["alignment"], 64);
  rewritten["general"].erase("alignment");
  EXPECT_EQ((*infos)[0]["metadata"], rewritten);
  std::filesystem::remove(copy);
}

}  // namespace
}  // namespace corral::testing
