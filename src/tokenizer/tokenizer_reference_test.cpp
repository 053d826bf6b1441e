// Compares our tokenizers with llama.cpp (through the reference harness) on generated strings:
// encode with and without special-token parsing, decode with and without special tokens, and
// the round trip decode(encode(s)) == s where the tokenizer is lossless.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "gguf/gguf_writer.h"
#include "testing/reference.h"
#include "testing/testdata.h"
#include "tokenizer/test_strings.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace corral::tokenizer {
namespace {

namespace reference = corral::testing::reference;
using nlohmann::json;

constexpr size_t kStringsPerModel = 240;

bool IsValidUtf8(std::string_view s) {
  for (size_t offset = 0; offset < s.size();) {
    const size_t start = offset;
    const uint32_t cpt = unicode::DecodeOne(s, &offset);
    if (cpt == unicode::kReplacementChar && s.substr(start, 3) != "\xEF\xBF\xBD") return false;
  }
  return true;
}

// The harness reads its whole stdin at once and gets EAGAIN once a request outgrows the pipe
// buffer, so requests go in batches of under 48 KB of JSON.
Result<std::vector<json>> CallInBatches(const std::vector<json>& requests) {
  std::vector<json> responses, batch;
  size_t batch_bytes = 0;
  const auto flush = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    ASSIGN_OR_RETURN(std::vector<json> part, reference::CallMany(batch));
    responses.insert(responses.end(), part.begin(), part.end());
    batch.clear();
    batch_bytes = 0;
    return Status::Ok();
  };
  for (const json& request : requests) {
    const size_t bytes = request.dump().size() + 2;
    if (batch_bytes + bytes > 48 * 1024) RETURN_IF_ERROR(flush());
    batch.push_back(request);
    batch_bytes += bytes;
  }
  RETURN_IF_ERROR(flush());
  return responses;
}

// Counts per tokenizer kind, printed at the end.
std::map<std::string, int>& Compared() {
  static std::map<std::string, int> counts;
  return counts;
}

class ReferenceTest : public ::testing::TestWithParam<std::string> {
 public:
  static void TearDownTestSuite() {
    for (const auto& [kind, n] : Compared()) {
      std::cout << "[ reference] " << kind << ": " << n
                << " strings matched llama.cpp (encode with and without parse_special, decode)\n";
    }
  }
};

void CompareWithLlamaCpp(const std::string& model, const std::string& label,
                         size_t n_strings = kStringsPerModel) {
  auto file = gguf::GgufFile::Open(model);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto loaded = Tokenizer::FromGguf(**file);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const Tokenizer& tokenizer = **loaded;

  // The vocabulary's own special texts, so parse_special has something to find.
  std::vector<std::string> extra;
  for (int32_t id : tokenizer.vocab().special_tokens) {
    if (extra.size() >= 12) break;
    extra.emplace_back(tokenizer.vocab().text(id));
  }
  const std::vector<std::string> strings = testing::GenerateStrings(n_strings, extra, 7);

  std::vector<json> requests;
  std::vector<std::vector<int32_t>> ours_plain, ours_special;
  for (size_t i = 0; i < strings.size(); ++i) {
    const bool add_special = i % 5 == 0;
    ours_plain.push_back(tokenizer.Encode(strings[i], add_special, false));
    ours_special.push_back(tokenizer.Encode(strings[i], add_special, true));
    for (bool parse_special : {false, true}) {
      requests.push_back({{"op", "tokenize"},
                          {"model", model},
                          {"text", strings[i]},
                          {"add_special", add_special},
                          {"parse_special", parse_special}});
    }
    requests.push_back({{"op", "detokenize"},
                        {"model", model},
                        {"tokens", ours_special.back()},
                        {"special", i % 2 == 0}});
  }
  auto responses = CallInBatches(requests);
  ASSERT_TRUE(responses.ok()) << responses.status().ToString();
  ASSERT_EQ(responses->size(), requests.size());

  const bool wpm = tokenizer.kind() == TokenizerKind::kWpm;
  // Every byte has a token (byte-alphabet character or <0xXX>), so no text can be dropped.
  bool every_byte = !wpm;
  for (int b = 0; b < 256 && every_byte; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    every_byte = tokenizer.vocab().Find(tokenizer.kind() == TokenizerKind::kBpe
                                            ? unicode::ByteToUnicode(static_cast<uint8_t>(b))
                                            : std::string(name)) != kNoToken;
  }
  const bool lossless = every_byte && !tokenizer.vocab().clean_spaces;
  int matched = 0, round_trips = 0, special_differs = 0;
  for (size_t i = 0; i < strings.size(); ++i) {
    const json& plain = (*responses)[3 * i];
    const json& special = (*responses)[3 * i + 1];
    const json& decoded = (*responses)[3 * i + 2];
    std::vector<int32_t> expected_plain = plain["tokens"].get<std::vector<int32_t>>();
    std::vector<int32_t> expected_special = special["tokens"].get<std::vector<int32_t>>();
    // The harness adds only BOS/EOS for add_special; WordPiece also appends [SEP].
    if (wpm && i % 5 == 0) {
      expected_plain.push_back(tokenizer.vocab().sep);
      expected_special.push_back(tokenizer.vocab().sep);
    }
    bool ok = true;
    ok &= ours_plain[i] == expected_plain;
    EXPECT_EQ(ours_plain[i], expected_plain)
        << "parse_special=false, string " << i << ": '" << strings[i] << "'";
    ok &= ours_special[i] == expected_special;
    EXPECT_EQ(ours_special[i], expected_special)
        << "parse_special=true, string " << i << ": '" << strings[i] << "'";
    const std::string our_text = tokenizer.Decode(ours_special[i], i % 2 == 0);
    if (IsValidUtf8(our_text)) {  // the harness returns JS strings, which cannot hold bad UTF-8
      ok &= our_text == decoded["text"].get<std::string>();
      EXPECT_EQ(our_text, decoded["text"].get<std::string>()) << "decode of string " << i;
    }
    special_differs += ours_plain[i] != ours_special[i];
    if (every_byte && IsValidUtf8(strings[i])) {
      // Lossless at the piece level even where Decode's space clean-up is not.
      std::vector<int32_t> ids = tokenizer.Encode(strings[i], false, false);
      std::string joined;
      for (int32_t id : ids) joined += tokenizer.TokenToPiece(id, false);
      if (tokenizer.vocab().add_space_prefix && !joined.empty()) joined.erase(0, 1);
      EXPECT_EQ(joined, strings[i]) << "pieces of string " << i;
    }
    if (lossless) {
      std::vector<int32_t> ids = tokenizer.Encode(strings[i], false, false);
      EXPECT_EQ(tokenizer.Decode(ids, false), strings[i]) << "round trip of string " << i;
      ++round_trips;
    }
    matched += ok;
  }
  EXPECT_EQ(matched, static_cast<int>(strings.size()));
  // The strings carry the vocabulary's special texts, so parsing them must change something.
  EXPECT_GT(special_differs, 0);
  Compared()[std::string(TokenizerKindName(tokenizer.kind()))] += matched;
  std::cout << "[ reference] " << label << ": " << matched << "/" << strings.size()
            << " match llama.cpp; " << round_trips << " round trips checked\n";
}

TEST_P(ReferenceTest, MatchesLlamaCpp) {
  REQUIRE_SHARED_TESTDATA(model, "vocab/ggml-vocab-" + GetParam() + ".gguf");
  CompareWithLlamaCpp(model, GetParam());
}

INSTANTIATE_TEST_SUITE_P(VocabFiles, ReferenceTest,
                         ::testing::Values("llama-spm", "phi-3", "baichuan", "gpt-2",
                                           "deepseek-llm", "deepseek-coder", "falcon", "starcoder",
                                           "mpt", "refact", "gpt-neox", "bert-bge"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

// The pre-tokenizers without a vocab file here: GPT-2's vocabulary and merges under another
// `tokenizer.ggml.pre`, so any difference in where the regexes split shows up in the merges.
class PreTokenizerReferenceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PreTokenizerReferenceTest, MatchesLlamaCpp) {
  REQUIRE_SHARED_TESTDATA(gpt2, "vocab/ggml-vocab-gpt-2.gguf");
  auto source = gguf::GgufFile::Open(gpt2);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  gguf::GgufWriter writer;
  for (const gguf::KeyValue& kv : (*source)->metadata()) {
    if (kv.key == "general.alignment") continue;
    ASSERT_TRUE(writer.Set(kv.key, gguf::MetaValue::From(kv.value)).ok());
  }
  ASSERT_TRUE(writer.Set("tokenizer.ggml.pre", gguf::MetaValue::String(GetParam())).ok());
  // These pre types add BOS; GPT-2's "<|endoftext|>" serves.
  ASSERT_TRUE(writer.Set("tokenizer.ggml.bos_token_id", gguf::MetaValue::U32(50256)).ok());
  const std::string path = ::testing::TempDir() + "/corral-vocab-pre-" + GetParam() + ".gguf";
  ASSERT_TRUE(writer.Write(path).ok());
  CompareWithLlamaCpp(path, "gpt-2 vocabulary with pre '" + GetParam() + "'", 120);
  std::remove(path.c_str());
}

INSTANTIATE_TEST_SUITE_P(PreTypes, PreTokenizerReferenceTest,
                         ::testing::Values("default", "llama-bpe", "qwen2", "command-r", "smollm",
                                           "olmo", "dbrx", "jais", "tekken", "gpt-4o", "chameleon",
                                           "deepseek-v3", "poro-chat", "viking", "seed-coder",
                                           "bailingmoe", "stablelm2"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace corral::tokenizer
