// TextStream and ComputeLogprob over real vocabularies (the shared test data; skipped where it
// is absent): byte-level BPE and SPM byte-fallback tokens split characters across tokens.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "sampling/logprobs.h"
#include "sampling/stop.h"
#include "sampling/utf8.h"
#include "testing/testdata.h"
#include "tokenizer/tokenizer.h"

namespace corral::sampling {
namespace {

// "😀" and "你好" take several tokens in both vocabularies; "stop" (lower case) is not a stop.
constexpr char kText[] =
    "Hello w\xC3\xB6rld \xF0\x9F\x98\x80 \xE4\xBD\xA0\xE5\xA5\xBD, stop here STOP tail";
constexpr char kBeforeStop[] =
    "Hello w\xC3\xB6rld \xF0\x9F\x98\x80 \xE4\xBD\xA0\xE5\xA5\xBD, stop here ";

struct Streamed {
  std::string text;
  DoneReason done = DoneReason::kNone;
  bool split_character = false;  // some piece alone was not valid UTF-8
};

Streamed StreamText(const tokenizer::Tokenizer& tok) {
  Streamed out;
  TextStream stream({"STOP"}, 1000);
  for (int32_t id : tok.Encode(kText, /*add_special=*/false, /*parse_special=*/false)) {
    const std::string piece = tok.TokenToPiece(id, /*special=*/false);
    out.split_character |= SanitizeUtf8(piece) != piece;
    const StreamStep step = stream.Push(piece, tok.IsEndOfGeneration(id));
    EXPECT_EQ(SanitizeUtf8(step.text), step.text) << "a chunk is not valid UTF-8";
    out.text += step.text;
    if (step.done != DoneReason::kNone) {
      out.done = step.done;
      break;
    }
  }
  return out;
}

std::unique_ptr<tokenizer::Tokenizer> Load(const std::string& path) {
  auto file = gguf::GgufFile::Open(path);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  if (!file.ok()) return nullptr;
  auto tok = tokenizer::Tokenizer::FromGguf(**file);
  EXPECT_TRUE(tok.ok()) << tok.status().ToString();
  return tok.ok() ? std::move(tok).value() : nullptr;
}

TEST(StreamTokenizerTest, ByteLevelBpe) {
  REQUIRE_SHARED_TESTDATA(path, "vocab/ggml-vocab-gpt-2.gguf");
  auto tok = Load(path);
  ASSERT_NE(tok, nullptr);
  const Streamed s = StreamText(*tok);
  EXPECT_TRUE(s.split_character);
  EXPECT_EQ(s.text, kBeforeStop);
  EXPECT_EQ(s.done, DoneReason::kStop);
}

TEST(StreamTokenizerTest, SpmByteFallback) {
  REQUIRE_SHARED_TESTDATA(path, "vocab/ggml-vocab-llama-spm.gguf");
  auto tok = Load(path);
  ASSERT_NE(tok, nullptr);
  const Streamed s = StreamText(*tok);
  EXPECT_TRUE(s.split_character);
  // SPM adds a prefix space to the text; raw pieces keep it (as a continuation would).
  EXPECT_EQ(s.text, std::string(" ") + kBeforeStop);
  EXPECT_EQ(s.done, DoneReason::kStop);
}

TEST(StreamTokenizerTest, LogprobTokenText) {
  REQUIRE_SHARED_TESTDATA(path, "vocab/ggml-vocab-gpt-2.gguf");
  auto tok = Load(path);
  ASSERT_NE(tok, nullptr);
  const std::vector<int32_t> ids = tok->Encode("Hello", false, false);
  ASSERT_EQ(ids.size(), 1u);
  // Every logit equal except "Hello"'s: it is the top alternative, with its text and bytes.
  std::vector<float> logits(static_cast<size_t>(tok->n_tokens()), 0.0f);
  logits[ids[0]] = 5.0f;
  const Logprob lp = ComputeLogprob(logits, ids[0], 1, *tok);
  EXPECT_EQ(lp.chosen.token, "Hello");
  ASSERT_EQ(lp.top.size(), 1u);
  EXPECT_EQ(lp.top[0].id, ids[0]);
  EXPECT_EQ(LogprobToJson(lp)["bytes"], nlohmann::ordered_json::parse("[72, 101, 108, 108, 111]"));
}

}  // namespace
}  // namespace corral::sampling
