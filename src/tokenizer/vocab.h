// A tokenizer vocabulary read from GGUF metadata alone (tokenizer.ggml.*), with llama.cpp's
// defaults and per-model fix-ups, validated at load: anything inconsistent is a Status, never a
// silent fallback.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "gguf/gguf_reader.h"
#include "tokenizer/token_tables.h"

namespace corral::tokenizer {

inline constexpr int32_t kNoToken = -1;

enum class TokenizerKind { kSpm, kBpe, kWpm };
std::string_view TokenizerKindName(TokenizerKind kind);  // "SPM", "BPE", "WPM"

// Token attributes as llama.cpp's bit flags (llama_token_attr).
enum TokenAttr : uint32_t {
  kAttrUndefined = 0,
  kAttrUnknown = 1u << 0,
  kAttrUnused = 1u << 1,
  kAttrNormal = 1u << 2,
  kAttrControl = 1u << 3,
  kAttrUserDefined = 1u << 4,
  kAttrByte = 1u << 5,
  kAttrNormalized = 1u << 6,
  kAttrLstrip = 1u << 7,
  kAttrRstrip = 1u << 8,
  kAttrSingleWord = 1u << 9,
};

static_assert(kAttrSingleWord < (1u << 16), "Vocab::attrs holds attributes in 16 bits");

struct Vocab {
  TokenizerKind kind = TokenizerKind::kSpm;
  std::string model;  // tokenizer.ggml.model
  std::string pre;    // tokenizer.ggml.pre ("" when absent)
  std::string name;   // general.name

  TokenTextTable texts;         // text of each id, and id of each text
  std::vector<uint16_t> attrs;  // TokenAttr bits of each id (same size as texts)
  std::vector<float> scores;    // score of each id; empty when the file has none (all 0)
  // BPE merge ranks of (left id, right id) pairs; the merged text is a token too.
  MergeTable merges;
  size_t max_token_bytes = 0;

  // BPE pre-tokenizer: regexes applied one after another, and llama.cpp's flags for the pre type.
  std::vector<std::string> pre_regexes;
  bool ignore_merges = false;
  bool clean_spaces = false;

  int32_t bos = kNoToken, eos = kNoToken, eot = kNoToken, eom = kNoToken, unk = kNoToken,
          sep = kNoToken, pad = kNoToken, mask = kNoToken;
  int32_t fim_pre = kNoToken, fim_suf = kNoToken, fim_mid = kNoToken, fim_pad = kNoToken,
          fim_rep = kNoToken, fim_sep = kNoToken;
  bool add_bos = false;
  bool add_eos = false;
  bool add_sep = false;
  bool add_space_prefix = false;
  bool remove_extra_whitespaces = false;

  std::vector<int32_t> end_of_generation;  // sorted ascending
  // CONTROL / USER_DEFINED / UNKNOWN tokens, longest text first: what special-token parsing
  // looks for in raw text.
  std::vector<int32_t> special_tokens;

  static Result<Vocab> FromGguf(const gguf::GgufFile& file);

  int32_t n_tokens() const { return texts.size(); }
  std::string_view text(int32_t id) const { return texts[id]; }
  int32_t Find(std::string_view s) const { return texts.Find(s); }
  float score(int32_t id) const { return scores.empty() ? 0.0f : scores[id]; }
  uint32_t attr(int32_t id) const { return attrs[id]; }
  void SetAttr(int32_t id, uint32_t attr) { attrs[id] = static_cast<uint16_t>(attr); }
  bool HasAttr(int32_t id, uint32_t attr) const { return (attrs[id] & attr) != 0; }
  int32_t MergeRank(int32_t left, int32_t right) const { return merges.Rank(left, right); }
};

// llama.cpp's flags and regexes for a `tokenizer.ggml.pre` value ("" = missing = "default").
struct PreTokenizerConfig {
  std::vector<std::string> regexes;
  bool ignore_merges = false;
  bool add_bos = false;
  bool clean_spaces = true;
  bool bos_is_null = false;
  bool add_sep = false;
};
// InvalidArgument for names llama.cpp does not know; Unsupported for ones that
// need llama.cpp's hand-written splitters or non-byte-level BPE.
Result<PreTokenizerConfig> LookUpPreTokenizer(std::string_view pre);

}  // namespace corral::tokenizer
