// llama.cpp's pre-tokenizer table: which regexes (in order) and flags each `tokenizer.ggml.pre`
// value selects. The regex strings are the ones llama.cpp runs (its adapted forms, e.g. the
// case-insensitive contractions spelled out), since those define the reference behaviour.
#include <initializer_list>

#include "tokenizer/vocab.h"

namespace corral::tokenizer {
namespace {

#define CONTRACTIONS R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]))"

constexpr const char* kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
constexpr const char* kLlama3 = CONTRACTIONS
    R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2 = CONTRACTIONS
    R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen35 = CONTRACTIONS
    R"(|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kJais2 = CONTRACTIONS
    R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s{512}(?!\S)|\s{256}(?!\S)|\s{128}(?!\S)|\s{64}(?!\S)|\s{32}(?!\S)|\s{16}(?!\S)|\s{8}(?!\S)|\s{4}(?!\S)|\s{1,2}(?!\S)|\s{1})";
constexpr const char* kDeepseekLlmLetters =
    R"(\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\x{1F7D}ᾀ-ᾴᾶ-ᾼ\x{1FBE}ῂ-ῄῆ-ῌῐ-\x{1FD3}ῖ-\x{1FDB}ῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\x{2126}ℨ\x{212A}-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+)";
constexpr const char* kCjk = R"([一-龥ࠀ-一가-퟿]+)";
constexpr const char* kDeepseek3Main =
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kPoro = R"( ?[^(\s|.,!?…。，、।۔،)]+)";
constexpr const char* kTekken =
    R"([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kGpt4o =
    R"([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+)" CONTRACTIONS
    R"(?|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*)" CONTRACTIONS
    R"(?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kBailing =
    R"('(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)";
constexpr const char* kSeedCoder = CONTRACTIONS
    R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kMinicpm5 = CONTRACTIONS
    R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kUfakzeka =
    R"([^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kExaoneMoe = CONTRACTIONS
    R"(|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+)";

#undef CONTRACTIONS

enum class Regexes {
  kDefault,
  kGpt2,
  kLlama3,
  kQwen2,
  kQwen35,
  kJais2,
  kDeepseekLlm,
  kDeepseekCoder,
  kDeepseek3,
  kFalcon,
  kStarcoder,
  kPoro,
  kViking,
  kTekken,
  kGpt4o,
  kChameleon,
  kBailing,
  kSeedCoder,
  kMinicpm5,
  kUfakzeka,
  kLaguna,
  kExaoneMoe,
  kSuperBpe,
  kUnsupported,  // needs a hand-written splitter or non-byte-level BPE
};

std::vector<std::string> RegexList(Regexes which) {
  switch (which) {
    case Regexes::kDefault:
      return {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"};
    case Regexes::kGpt2:
      return {kGpt2};
    case Regexes::kLlama3:
      return {kLlama3};
    case Regexes::kQwen2:
      return {kQwen2};
    case Regexes::kQwen35:
      return {kQwen35};
    case Regexes::kJais2:
      return {kJais2};
    case Regexes::kDeepseekLlm:
      return {"[\r\n]", kDeepseekLlmLetters, R"(\s?[!-/:-~！-／：-～‘-‟　-。]+)", R"(\s+$)",
              kCjk,     R"(\p{N}+)"};
    case Regexes::kDeepseekCoder:
      return {"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kCjk, R"(\p{N})"};
    case Regexes::kDeepseek3:
      return {R"(\p{N}{1,3})", R"([一-龥぀-ゟ゠-ヿ]+)", kDeepseek3Main};
    case Regexes::kFalcon:
      return {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2, "[0-9][0-9][0-9]"};
    case Regexes::kStarcoder:
      return {R"(\p{N})", kGpt2};
    case Regexes::kPoro:
      return {kPoro};
    case Regexes::kViking:
      return {kPoro, R"(\p{N})"};
    case Regexes::kTekken:
      return {kTekken};
    case Regexes::kGpt4o:
      return {kGpt4o};
    case Regexes::kChameleon:
      return {"<sentinel:[0-9]+>",       "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
              "([\\t\\n]|    |  )",      R"(\p{N})",
              R"([\p{P}!-/:-@\[-`{-~])", kGpt2};
    case Regexes::kBailing:
      return {kBailing};
    case Regexes::kSeedCoder:
      return {kSeedCoder};
    case Regexes::kMinicpm5:
      return {R"(\p{N}{1,3})", kMinicpm5};
    case Regexes::kUfakzeka:
      return {kUfakzeka};
    case Regexes::kLaguna:
      return {R"([^\n]+|[\n]+)", kQwen2};
    case Regexes::kExaoneMoe:
      return {kExaoneMoe};
    case Regexes::kSuperBpe:
      return {R"(\p{N}+)", R"((?=(\d{3})+(?!\d)))"};
    case Regexes::kUnsupported:
      break;
  }
  return {};
}

// Flags beyond the regexes, as llama.cpp sets them per name.
enum Flag : unsigned {
  kNone = 0,
  kIgnoreMerges = 1,
  kAddBos = 2,
  kNoCleanSpaces = 4,
  kBosNull = 8,
  kAddSep = 16,
};

struct PreEntry {
  const char* name;
  Regexes regexes;
  unsigned flags;
};

constexpr PreEntry kPreTable[] = {
    {"default", Regexes::kDefault, kNone},
    {"minicpm5", Regexes::kMinicpm5, kIgnoreMerges},
    {"llama3", Regexes::kLlama3, kIgnoreMerges | kAddBos},
    {"llama-v3", Regexes::kLlama3, kIgnoreMerges | kAddBos},
    {"llama-bpe", Regexes::kLlama3, kIgnoreMerges | kAddBos},
    {"falcon3", Regexes::kLlama3, kIgnoreMerges | kAddBos},
    {"falcon-h1", Regexes::kLlama3, kIgnoreMerges | kAddBos},
    {"pixtral", Regexes::kLlama3, kIgnoreMerges | kAddBos},
    {"midm-2.0", Regexes::kLlama3, kIgnoreMerges | kAddBos},
    {"lfm2", Regexes::kLlama3, kIgnoreMerges | kAddBos},
    {"jina-v5-nano", Regexes::kLlama3, kIgnoreMerges | kAddBos},
    {"deepseek-llm", Regexes::kDeepseekLlm, kNoCleanSpaces},
    {"deepseek-coder", Regexes::kDeepseekCoder, kNoCleanSpaces},
    {"deepseek-v3", Regexes::kDeepseek3, kNoCleanSpaces},
    {"spark2_5", Regexes::kUnsupported, kNoCleanSpaces},
    {"youtu", Regexes::kUnsupported, kNoCleanSpaces | kIgnoreMerges},
    {"falcon", Regexes::kFalcon, kNone},
    {"mpt", Regexes::kGpt2, kNone},
    {"starcoder", Regexes::kStarcoder, kNone},
    {"gpt-2", Regexes::kGpt2, kNone},
    {"phi-2", Regexes::kGpt2, kNone},
    {"jina-es", Regexes::kGpt2, kNone},
    {"jina-de", Regexes::kGpt2, kNone},
    {"gigachat", Regexes::kGpt2, kNone},
    {"jina-v2-es", Regexes::kGpt2, kNone},
    {"jina-v2-de", Regexes::kGpt2, kNone},
    {"a.x-4.0", Regexes::kGpt2, kNone},
    {"mellum", Regexes::kGpt2, kNone},
    {"modern-bert", Regexes::kGpt2, kNone},
    {"jais-2", Regexes::kJais2, kNone},
    {"gemma4", Regexes::kUnsupported, kNone},
    {"granite-embed-multi-311m", Regexes::kUnsupported, kNone},
    {"sarvam-moe", Regexes::kUnsupported, kNoCleanSpaces},
    {"jina-v1-en", Regexes::kGpt2, kAddSep},
    {"jina-v2-code", Regexes::kGpt2, kAddSep},
    {"roberta-bpe", Regexes::kGpt2, kAddSep},
    {"whitespace", Regexes::kUnsupported, kNone},
    {"refact", Regexes::kStarcoder, kNone},
    {"command-r", Regexes::kStarcoder, kNoCleanSpaces},
    {"qwen2", Regexes::kQwen2, kNoCleanSpaces},
    {"deepseek-r1-qwen", Regexes::kQwen2, kNoCleanSpaces},
    {"kormo", Regexes::kQwen2, kNoCleanSpaces},
    {"f2llmv2", Regexes::kQwen2, kNoCleanSpaces},
    {"qwen35", Regexes::kQwen35, kNoCleanSpaces},
    {"stablelm2", Regexes::kQwen2, kNone},
    {"olmo", Regexes::kGpt2, kNone},
    {"dbrx", Regexes::kLlama3, kNone},
    {"smaug-bpe", Regexes::kLlama3, kNone},
    {"poro-chat", Regexes::kPoro, kNoCleanSpaces},
    {"glm4", Regexes::kLlama3, kBosNull},
    {"chatglm-bpe", Regexes::kLlama3, kBosNull},
    {"viking", Regexes::kViking, kNoCleanSpaces},
    {"jais", Regexes::kGpt2, kNone},
    {"tekken", Regexes::kTekken, kNoCleanSpaces | kIgnoreMerges | kAddBos},
    {"smollm", Regexes::kStarcoder, kNoCleanSpaces},
    {"codeshell", Regexes::kStarcoder, kNone},
    {"bloom", Regexes::kPoro, kNone},
    {"gpt3-finnish", Regexes::kPoro, kNone},
    {"exaone", Regexes::kStarcoder, kNone},
    {"exaone4", Regexes::kGpt2, kNone},
    {"exaone-moe", Regexes::kExaoneMoe, kNone},
    {"chameleon", Regexes::kChameleon, kAddBos | kNoCleanSpaces},
    {"minerva-7b", Regexes::kStarcoder, kNone},
    {"megrez", Regexes::kQwen2, kNone},
    {"gpt-4o", Regexes::kGpt4o, kNoCleanSpaces},
    {"llama4", Regexes::kGpt4o, kNoCleanSpaces},
    {"kanana2", Regexes::kGpt4o, kNoCleanSpaces},
    {"talkie", Regexes::kGpt4o, kNoCleanSpaces},
    {"granite-embed-multi-97m", Regexes::kUnsupported, kNoCleanSpaces | kIgnoreMerges},
    {"tiny_aya", Regexes::kUnsupported, kNoCleanSpaces},
    {"cohere2moe", Regexes::kUnsupported, kNoCleanSpaces},
    {"superbpe", Regexes::kSuperBpe, kNoCleanSpaces},
    {"trillion", Regexes::kGpt2, kNoCleanSpaces},
    {"granite-docling", Regexes::kGpt2, kNoCleanSpaces},
    {"bailingmoe", Regexes::kBailing, kNoCleanSpaces},
    {"bailingmoe2", Regexes::kBailing, kNoCleanSpaces},
    {"llada-moe", Regexes::kBailing, kNoCleanSpaces},
    {"seed-coder", Regexes::kSeedCoder, kNoCleanSpaces},
    {"hunyuan", Regexes::kQwen2, kNoCleanSpaces},
    {"hunyuan-dense", Regexes::kDeepseek3, kNoCleanSpaces},
    {"hy_v4", Regexes::kDeepseek3, kNoCleanSpaces},
    {"joyai-llm", Regexes::kDeepseek3, kNoCleanSpaces},
    {"kimi-k2", Regexes::kUnsupported, kNoCleanSpaces},
    {"ufakzeka", Regexes::kUfakzeka, kNoCleanSpaces},
    {"grok-2", Regexes::kQwen2, kNoCleanSpaces},
    {"afmoe", Regexes::kUnsupported, kNoCleanSpaces},
    {"laguna", Regexes::kLaguna, kNoCleanSpaces},
    {"minimax-m2", Regexes::kGpt4o, kNoCleanSpaces},
    {"solar-open", Regexes::kQwen2, kNoCleanSpaces},
    {"mellum2", Regexes::kStarcoder, kNone},
};

}  // namespace

Result<PreTokenizerConfig> LookUpPreTokenizer(std::string_view pre) {
  if (pre.empty()) pre = "default";  // llama.cpp warns and uses the default regexes
  for (const PreEntry& entry : kPreTable) {
    if (pre != entry.name) continue;
    if (entry.regexes == Regexes::kUnsupported) {
      return UnsupportedError("pre-tokenizer '" + std::string(pre) +
                              "' needs llama.cpp's hand-written splitter or non-byte-level BPE, "
                              "which corral does not implement yet");
    }
    PreTokenizerConfig config;
    config.regexes = RegexList(entry.regexes);
    config.ignore_merges = entry.flags & kIgnoreMerges;
    config.add_bos = entry.flags & kAddBos;
    config.clean_spaces = !(entry.flags & kNoCleanSpaces);
    config.bos_is_null = entry.flags & kBosNull;
    config.add_sep = entry.flags & kAddSep;
    return config;
  }
  return InvalidArgumentError("unknown pre-tokenizer type '" + std::string(pre) +
                              "' in tokenizer.ggml.pre");
}

}  // namespace corral::tokenizer
