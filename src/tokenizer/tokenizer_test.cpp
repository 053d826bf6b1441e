// Unit tests on tiny hand-made vocabularies written with our GGUF writer: the three algorithms,
// special tokens, decoding, streaming, and every load error.
#include <gtest/gtest.h>

#include <cstdio>

#include "gguf/gguf_writer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace corral::tokenizer {
namespace {

using gguf::MetaValue;

constexpr int32_t kNormal = 1, kUnknownType = 2, kControl = 3, kUserDefined = 4, kByte = 6;

// A vocabulary under construction; Build() writes it to GGUF bytes and loads it back.
struct VocabSpec {
  std::string model = "llama";
  std::string pre;
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  std::vector<std::string> merges;
  std::vector<std::pair<std::string, MetaValue>> extra;

  int32_t Add(const std::string& text, float score = 0, int32_t type = kNormal) {
    tokens.push_back(text);
    scores.push_back(score);
    types.push_back(type);
    return static_cast<int32_t>(tokens.size() - 1);
  }

  std::vector<uint8_t> Bytes() const {
    gguf::GgufWriter writer;
    EXPECT_TRUE(writer.Set("general.name", MetaValue::String("tiny")).ok());
    EXPECT_TRUE(writer.Set("tokenizer.ggml.model", MetaValue::String(model)).ok());
    if (!pre.empty()) {
      EXPECT_TRUE(writer.Set("tokenizer.ggml.pre", MetaValue::String(pre)).ok());
    }
    EXPECT_TRUE(writer.Set("tokenizer.ggml.tokens", MetaValue::StringArray(tokens)).ok());
    EXPECT_TRUE(writer.Set("tokenizer.ggml.scores", MetaValue::F32Array(scores)).ok());
    EXPECT_TRUE(writer.Set("tokenizer.ggml.token_type", MetaValue::I32Array(types)).ok());
    if (model == "gpt2") {
      EXPECT_TRUE(writer.Set("tokenizer.ggml.merges", MetaValue::StringArray(merges)).ok());
    }
    for (const auto& [key, value] : extra) EXPECT_TRUE(writer.Set(key, value).ok());
    auto bytes = writer.WriteToBuffer();
    EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
    return *bytes;
  }

  Result<Vocab> LoadVocab() const {
    const std::vector<uint8_t> bytes = Bytes();
    ASSIGN_OR_RETURN(auto file, gguf::GgufFile::Parse(bytes));
    return Vocab::FromGguf(*file);
  }

  std::unique_ptr<Tokenizer> Build() const {
    auto vocab = LoadVocab();
    EXPECT_TRUE(vocab.ok()) << vocab.status().ToString();
    if (!vocab.ok()) return nullptr;
    auto tokenizer = Tokenizer::Create(std::move(*vocab));
    EXPECT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
    return tokenizer.ok() ? std::move(*tokenizer) : nullptr;
  }
};

// SPM: <unk> <s> </s>, the 256 byte tokens, then the caller's pieces.
VocabSpec SpmSpec() {
  VocabSpec spec;
  spec.Add("<unk>", 0, kUnknownType);
  spec.Add("<s>", 0, kControl);
  spec.Add("</s>", 0, kControl);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    spec.Add(name, 0, kByte);
  }
  return spec;
}
constexpr int32_t kSpmBytes = 3;  // id of <0x00>

// Byte-level BPE: the 256 byte-alphabet characters, then the caller's tokens and merges.
VocabSpec BpeSpec() {
  VocabSpec spec;
  spec.model = "gpt2";
  spec.pre = "gpt-2";
  for (int b = 0; b < 256; ++b) spec.Add(unicode::ByteToUnicode(static_cast<uint8_t>(b)));
  return spec;
}
int32_t BpeByte(char c) { return static_cast<uint8_t>(c); }

TEST(SpmTest, MergesByScoreBestFirst) {
  // "▁a" beats "ab": the result is [▁a, b]; with the scores swapped it is [▁, ab].
  for (bool space_a_wins : {true, false}) {
    VocabSpec spec = SpmSpec();
    const int32_t space = spec.Add("▁", -5);
    const int32_t a = spec.Add("a", -5);
    const int32_t b = spec.Add("b", -5);
    const int32_t space_a = spec.Add("▁a", space_a_wins ? -1 : -3);
    const int32_t ab = spec.Add("ab", space_a_wins ? -3 : -1);
    auto tok = spec.Build();
    ASSERT_NE(tok, nullptr);
    const std::vector<int32_t> expected =
        space_a_wins ? std::vector<int32_t>{space_a, b} : std::vector<int32_t>{space, ab};
    EXPECT_EQ(tok->Encode("ab", false, false), expected);
    EXPECT_EQ(tok->Decode(expected, false), "ab");  // the prefix space is dropped again
    (void)a;
  }
}

TEST(SpmTest, ByteFallbackPrefixSpaceAndBos) {
  VocabSpec spec = SpmSpec();
  const int32_t space = spec.Add("▁", -1);
  const int32_t x = spec.Add("x", -1);
  auto tok = spec.Build();
  ASSERT_NE(tok, nullptr);
  // "é" is not a token: its two UTF-8 bytes go out as byte tokens.
  EXPECT_EQ(tok->Encode("xé", false, false),
            (std::vector<int32_t>{space, x, kSpmBytes + 0xC3, kSpmBytes + 0xA9}));
  EXPECT_EQ(tok->Encode("x", true, false), (std::vector<int32_t>{1, space, x}));
  EXPECT_EQ(tok->Encode("", true, false), (std::vector<int32_t>{1}));
  EXPECT_TRUE(tok->Encode("", false, false).empty());
  EXPECT_EQ(tok->Decode(tok->Encode("x é x", false, false), false), "x é x");
  // Invalid UTF-8 survives through byte tokens.
  const std::string invalid = "x\xFF\xC3";
  EXPECT_EQ(tok->Decode(tok->Encode(invalid, false, false), false), invalid);
}

TEST(SpmTest, ControlTokensOnlyWithParseSpecial) {
  VocabSpec spec = SpmSpec();
  const int32_t space = spec.Add("▁", -1);
  const int32_t x = spec.Add("x", -1);
  auto tok = spec.Build();
  ASSERT_NE(tok, nullptr);
  // The text after a special token gets the prefix space again.
  EXPECT_EQ(tok->Encode("x</s>x", false, true), (std::vector<int32_t>{space, x, 2, space, x}));
  const std::vector<int32_t> literal = tok->Encode("x</s>", false, false);
  EXPECT_EQ(literal.size(), 2u + 4u);  // ▁ x then "</s>" as four byte tokens
  EXPECT_EQ(tok->Decode(literal, false), "x</s>");
  EXPECT_EQ(tok->TokenToPiece(2, false), "");
  EXPECT_EQ(tok->TokenToPiece(2, true), "</s>");
  EXPECT_TRUE(tok->IsEndOfGeneration(2));  // "</s>" is EOS and named so
}

TEST(BpeTest, MergeRanksLowestFirst) {
  for (bool bc_first : {true, false}) {
    VocabSpec spec = BpeSpec();
    const int32_t ab = spec.Add("ab");
    const int32_t bc = spec.Add("bc");
    spec.merges =
        bc_first ? std::vector<std::string>{"b c", "a b"} : std::vector<std::string>{"a b", "b c"};
    auto tok = spec.Build();
    ASSERT_NE(tok, nullptr);
    const std::vector<int32_t> expected =
        bc_first ? std::vector<int32_t>{BpeByte('a'), bc} : std::vector<int32_t>{ab, BpeByte('c')};
    EXPECT_EQ(tok->Encode("abc", false, false), expected);
  }
}

TEST(BpeTest, PreTokenizerSplitsWordsAndSpaces) {
  VocabSpec spec = BpeSpec();
  const int32_t space_a = spec.Add("Ġa");
  spec.merges = {"Ġ a"};
  auto tok = spec.Build();
  ASSERT_NE(tok, nullptr);
  // GPT-2's regex: "a a" -> "a" " a"; "a  a" -> "a" " " " a" (\s+(?!\S) leaves one space).
  EXPECT_EQ(tok->Encode("a a", false, false), (std::vector<int32_t>{BpeByte('a'), space_a}));
  EXPECT_EQ(tok->Encode("a  a", false, false),
            (std::vector<int32_t>{BpeByte('a'), BpeByte(' '), space_a}));
  EXPECT_EQ(tok->Decode(tok->Encode("a  a\n", false, false), false), "a  a\n");
  // Invalid UTF-8 becomes U+FFFD before splitting, as in llama.cpp.
  EXPECT_EQ(tok->Encode("a\xFF", false, false), tok->Encode("a\xEF\xBF\xBD", false, false));
}

TEST(BpeTest, SpecialTokensAndCleanSpaces) {
  VocabSpec spec = BpeSpec();
  const int32_t eot = spec.Add("<|endoftext|>", 0, kControl);
  const int32_t tool = spec.Add("<tool>", 0, kUserDefined);
  const int32_t space_dot = spec.Add("Ġ.");
  spec.merges = {"Ġ ."};
  auto tok = spec.Build();
  ASSERT_NE(tok, nullptr);
  // User-defined tokens are split out even without parse_special; control tokens only with it.
  EXPECT_EQ(tok->Encode("a<tool>", false, false), (std::vector<int32_t>{BpeByte('a'), tool}));
  EXPECT_EQ(tok->Encode("<|endoftext|>", false, true), (std::vector<int32_t>{eot}));
  EXPECT_GT(tok->Encode("<|endoftext|>", false, false).size(), 1u);
  EXPECT_TRUE(tok->IsEndOfGeneration(eot));
  // gpt-2 cleans " ." to "." when decoding; the pieces themselves keep the space.
  const std::vector<int32_t> ids = {BpeByte('a'), space_dot};
  EXPECT_EQ(tok->Decode(ids, false), "a.");
  EXPECT_EQ(tok->TokenToPiece(space_dot, false), " .");
}

TEST(BpeTest, IgnoreMergesTakesWholeWords) {
  VocabSpec spec = BpeSpec();
  spec.pre = "llama-bpe";
  const int32_t hello = spec.Add("hello");
  spec.extra.push_back({"tokenizer.ggml.bos_token_id", MetaValue::U32(0)});
  auto tok = spec.Build();
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->Encode("hello", false, false), (std::vector<int32_t>{hello}));
  EXPECT_EQ(tok->Encode("hello", true, false), (std::vector<int32_t>{0, hello}));  // add_bos
}

// Llama 3 files without a (or with a "default") pre-tokenizer are recognized by their chat
// markers and tokenized as llama-bpe (ignore_merges: "hello" is one token, not merged pieces).
TEST(BpeTest, Llama3MarkersWithoutPreTokenizerMeanLlamaBpe) {
  for (const char* pre : {"", "default"}) {
    VocabSpec spec = BpeSpec();
    spec.pre = pre;
    const int32_t hello = spec.Add("hello");
    spec.Add("<|start_header_id|>", 0, kControl);
    spec.Add("<|eot_id|>", 0, kControl);
    auto vocab = spec.LoadVocab();
    ASSERT_TRUE(vocab.ok()) << vocab.status().ToString();
    EXPECT_EQ(vocab->pre, "llama-bpe") << "pre was '" << pre << "'";
    auto tok = spec.Build();
    ASSERT_NE(tok, nullptr);
    EXPECT_EQ(tok->Encode("hello", false, false), (std::vector<int32_t>{hello}));
  }
  VocabSpec plain = BpeSpec();  // no chat markers: stays default
  plain.pre = "";
  auto vocab = plain.LoadVocab();
  ASSERT_TRUE(vocab.ok());
  EXPECT_EQ(vocab->pre, "");
}

TEST(WpmTest, NormalizesAndMatchesLongestPieces) {
  VocabSpec spec;
  spec.model = "bert";
  const int32_t pad = spec.Add("[PAD]", 0, kControl);
  const int32_t unk = spec.Add("[UNK]", 0, kControl);
  const int32_t cls = spec.Add("[CLS]", 0, kControl);
  const int32_t sep = spec.Add("[SEP]", 0, kControl);
  const int32_t hello = spec.Add("▁hello");
  const int32_t hel = spec.Add("▁hel");
  const int32_t lo = spec.Add("lo");
  const int32_t comma = spec.Add("▁,");
  const int32_t world = spec.Add("▁world");
  const int32_t han = spec.Add("▁中");
  spec.extra = {{"tokenizer.ggml.padding_token_id", MetaValue::U32(pad)},
                {"tokenizer.ggml.unknown_token_id", MetaValue::U32(unk)},
                {"tokenizer.ggml.bos_token_id", MetaValue::U32(cls)},
                {"tokenizer.ggml.seperator_token_id", MetaValue::U32(sep)}};
  auto tok = spec.Build();
  ASSERT_NE(tok, nullptr);
  // Lowercase, accents stripped, punctuation and CJK as words of their own.
  EXPECT_EQ(tok->Encode("Héllo, WORLD中", false, false),
            (std::vector<int32_t>{hello, comma, world, han}));
  EXPECT_EQ(tok->Encode("hello", true, false), (std::vector<int32_t>{cls, hello, sep}));
  EXPECT_EQ(tok->Encode("hello\tzzz", false, false), (std::vector<int32_t>{hello, unk}));
  EXPECT_EQ(tok->Decode(std::vector<int32_t>{hello, world}, false), " hello world");
  (void)hel;
  (void)lo;
}

TEST(StreamingDecoderTest, HoldsBackIncompleteUtf8) {
  VocabSpec spec = SpmSpec();
  const int32_t space = spec.Add("▁", -1);
  const int32_t x = spec.Add("x", -1);
  auto tok = spec.Build();
  ASSERT_NE(tok, nullptr);
  StreamingDecoder stream(*tok, false);
  EXPECT_EQ(stream.Push(space), "");  // the prefix space of the first piece is dropped
  EXPECT_EQ(stream.Push(x), "x");
  EXPECT_EQ(stream.Push(kSpmBytes + 0xE2), "");
  EXPECT_EQ(stream.Push(kSpmBytes + 0x82), "");
  EXPECT_EQ(stream.Push(kSpmBytes + 0xAC), "€");
  EXPECT_EQ(stream.Push(kSpmBytes + 0xF0), "");
  EXPECT_EQ(stream.Flush(), "\xF0");
}

TEST(VocabTest, ReadsSpecialIdsAndFlags) {
  VocabSpec spec = SpmSpec();
  spec.Add("<|im_end|>", 0, kUserDefined);
  spec.extra = {{"tokenizer.ggml.seperator_token_id", MetaValue::U32(0xFFFFFFFFu)},
                {"tokenizer.ggml.add_bos_token", MetaValue::Bool(false)},
                {"tokenizer.ggml.add_space_prefix", MetaValue::Bool(false)}};
  auto vocab = spec.LoadVocab();
  ASSERT_TRUE(vocab.ok()) << vocab.status().ToString();
  EXPECT_EQ(vocab->kind, TokenizerKind::kSpm);
  EXPECT_EQ(vocab->bos, 1);
  EXPECT_EQ(vocab->eos, 2);
  EXPECT_EQ(vocab->unk, 0);
  EXPECT_EQ(vocab->sep, kNoToken);  // 0xFFFFFFFF means unset
  EXPECT_FALSE(vocab->add_bos);
  EXPECT_FALSE(vocab->add_space_prefix);
  // "<|im_end|>" is recognized as end of turn and forced to CONTROL.
  const int32_t im_end = vocab->Find("<|im_end|>");
  EXPECT_EQ(vocab->eot, im_end);
  EXPECT_TRUE(vocab->HasAttr(im_end, kAttrControl));
  EXPECT_EQ(vocab->end_of_generation, (std::vector<int32_t>{2, im_end}));
}

// Every load error, each from an otherwise valid vocabulary.
struct LoadErrorCase {
  const char* name;
  std::function<void(VocabSpec&)> damage;
  StatusCode code;
  const char* message_part;
};

class LoadErrorTest : public ::testing::TestWithParam<LoadErrorCase> {};

TEST_P(LoadErrorTest, IsReported) {
  VocabSpec spec = BpeSpec();
  spec.Add("ab");
  spec.merges = {"a b"};
  GetParam().damage(spec);
  auto vocab = spec.LoadVocab();
  ASSERT_FALSE(vocab.ok());
  EXPECT_EQ(vocab.status().code(), GetParam().code) << vocab.status().ToString();
  EXPECT_NE(vocab.status().message().find(GetParam().message_part), std::string::npos)
      << vocab.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(
    Errors, LoadErrorTest,
    ::testing::Values(
        LoadErrorCase{"UnknownModel", [](VocabSpec& s) { s.model = "t9"; },
                      StatusCode::kUnsupported, "unknown tokenizer model 't9'"},
        LoadErrorCase{"UnknownPre", [](VocabSpec& s) { s.pre = "nonsense"; },
                      StatusCode::kInvalidArgument, "unknown pre-tokenizer type 'nonsense'"},
        LoadErrorCase{"UnsupportedPre", [](VocabSpec& s) { s.pre = "kimi-k2"; },
                      StatusCode::kUnsupported, "kimi-k2"},
        LoadErrorCase{"ScoresLength", [](VocabSpec& s) { s.scores.pop_back(); },
                      StatusCode::kCorruption, "tokenizer.ggml.scores has"},
        LoadErrorCase{"TypesLength", [](VocabSpec& s) { s.types.push_back(1); },
                      StatusCode::kCorruption, "tokenizer.ggml.token_type has"},
        LoadErrorCase{"BadTokenType", [](VocabSpec& s) { s.types[3] = 9; }, StatusCode::kCorruption,
                      "token_type[3] is 9"},
        LoadErrorCase{"IdOutOfRange",
                      [](VocabSpec& s) {
                        s.extra.push_back({"tokenizer.ggml.eos_token_id", MetaValue::U32(5000)});
                      },
                      StatusCode::kOutOfRange, "eos_token_id = 5000"},
        LoadErrorCase{"MergeUnknownPart", [](VocabSpec& s) { s.merges = {"a zz"}; },
                      StatusCode::kCorruption, "names 'zz'"},
        LoadErrorCase{"MergeResultNotToken", [](VocabSpec& s) { s.merges = {"b c"}; },
                      StatusCode::kCorruption, "names 'bc'"},
        LoadErrorCase{"MergeWithoutSpace", [](VocabSpec& s) { s.merges = {"ab"}; },
                      StatusCode::kCorruption, "not two tokens"},
        LoadErrorCase{"DuplicateToken", [](VocabSpec& s) { s.Add("ab"); }, StatusCode::kCorruption,
                      "duplicate token 'ab'"},
        LoadErrorCase{"NoTokens",
                      [](VocabSpec& s) {
                        s.tokens.clear();
                        s.scores.clear();
                        s.types.clear();
                      },
                      StatusCode::kCorruption, "tokenizer.ggml.tokens"},
        LoadErrorCase{"AddBosWithoutBos",
                      [](VocabSpec& s) {
                        s.pre = "glm4";  // no BOS for this pre type
                        s.extra.push_back({"tokenizer.ggml.add_bos_token", MetaValue::Bool(true)});
                      },
                      StatusCode::kCorruption, "add_bos_token"},
        LoadErrorCase{"WrongKeyType",
                      [](VocabSpec& s) {
                        s.extra.push_back({"tokenizer.ggml.add_eos_token", MetaValue::U32(1)});
                      },
                      StatusCode::kInvalidArgument, "add_eos_token"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(VocabTest, MissingMergesIsAnError) {
  VocabSpec spec = BpeSpec();
  const std::vector<uint8_t> bytes = [&] {
    gguf::GgufWriter writer;
    EXPECT_TRUE(writer.Set("tokenizer.ggml.model", MetaValue::String("gpt2")).ok());
    EXPECT_TRUE(writer.Set("tokenizer.ggml.tokens", MetaValue::StringArray(spec.tokens)).ok());
    return *writer.WriteToBuffer();
  }();
  auto file = gguf::GgufFile::Parse(bytes);
  ASSERT_TRUE(file.ok());
  auto vocab = Vocab::FromGguf(**file);
  ASSERT_FALSE(vocab.ok());
  EXPECT_NE(vocab.status().message().find("tokenizer.ggml.merges"), std::string::npos)
      << vocab.status().ToString();
}

TEST(VocabTest, MissingModelIsAnError) {
  gguf::GgufWriter writer;
  ASSERT_TRUE(writer.Set("tokenizer.ggml.tokens", MetaValue::StringArray({"a"})).ok());
  const std::vector<uint8_t> bytes = *writer.WriteToBuffer();
  auto file = gguf::GgufFile::Parse(bytes);
  ASSERT_TRUE(file.ok());
  auto vocab = Vocab::FromGguf(**file);
  ASSERT_FALSE(vocab.ok());
  EXPECT_NE(vocab.status().message().find("tokenizer.ggml.model"), std::string::npos)
      << vocab.status().ToString();
}

TEST(PreTokenizerTest, EveryKnownRegexCompiles) {
  for (const char* pre :
       {"default",        "gpt-2",       "llama-bpe", "qwen2",     "qwen35",     "deepseek-llm",
        "deepseek-coder", "deepseek-v3", "falcon",    "mpt",       "starcoder",  "refact",
        "command-r",      "smollm",      "olmo",      "dbrx",      "jais",       "jais-2",
        "tekken",         "gpt-4o",      "chameleon", "poro-chat", "viking",     "bailingmoe",
        "seed-coder",     "minicpm5",    "ufakzeka",  "laguna",    "exaone-moe", "superbpe"}) {
    VocabSpec spec = BpeSpec();
    spec.pre = pre;
    spec.extra.push_back({"tokenizer.ggml.bos_token_id", MetaValue::U32(0)});
    auto tok = spec.Build();
    ASSERT_NE(tok, nullptr) << pre;
    // Every byte of every string survives the split (no text is dropped between matches).
    const std::string text = "Hello  world's 12345 ĀĒ 你好 \n\n\t!? <sentinel:3> 😀";
    std::string joined;
    for (int32_t id : tok->Encode(text, false, false)) joined += tok->TokenToPiece(id, false);
    EXPECT_EQ(joined, text) << pre;
  }
}

}  // namespace
}  // namespace corral::tokenizer
