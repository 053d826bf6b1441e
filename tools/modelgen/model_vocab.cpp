#include "modelgen/model_vocab.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <unordered_set>

namespace corral::modelgen {
namespace {

// splitmix64: tiny, fast and good enough to pick pieces.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1p-53; }

 private:
  uint64_t state_;
};

std::string Utf8(uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
  return out;
}

const std::string kSpmSpace = "\xe2\x96\x81";               // U+2581 "▁": SPM and WPM word start
const std::string kLetters = "etaoinshrdlcumwfgypbvkjxqz";  // rough English frequency order

// GPT-2's byte-level alphabet: printable bytes stand for themselves, the other 68 bytes map to
// U+0100 + n in byte order (so space is "Ġ" U+0120, newline "Ċ" U+010A).
std::vector<std::string> ByteLevelAlphabet() {
  std::vector<std::string> out(256);
  uint32_t n = 0;
  for (uint32_t b = 0; b < 256; ++b) {
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    out[b] = printable ? Utf8(b) : Utf8(256 + n++);
  }
  return out;
}

// Appends pieces to `pieces` until it holds `target`, each the concatenation of two pieces from
// [first, size) whose right part does not start with `word_start` (a word marker only begins a
// piece). Picks favour early (frequent) pieces, so short common pieces combine first. When
// `merges` is given, the "left right" merge of each new piece is appended.
void GrowPieces(std::vector<std::string>* pieces, std::unordered_set<std::string>* seen,
                size_t first, size_t target, const std::string& word_start, Rng* rng,
                std::vector<std::string>* merges) {
  auto pick = [&](size_t n) {
    double u = rng->Uniform();
    return first + static_cast<size_t>(static_cast<double>(n) * u * u * u);
  };
  size_t max_len = 12;
  int misses = 0;
  while (pieces->size() < target) {
    size_t n = pieces->size() - first;
    const std::string& left = (*pieces)[pick(n)];
    const std::string& right = (*pieces)[pick(n)];
    if (!word_start.empty() && right.starts_with(word_start)) continue;
    std::string joined = left + right;
    if (joined.size() > max_len || seen->contains(joined)) {
      // Small alphabets run out of short combinations: allow longer pieces then.
      if (++misses > 200) max_len += 4, misses = 0;
      continue;
    }
    misses = 0;
    if (merges != nullptr) merges->push_back(left + " " + right);
    seen->insert(joined);
    pieces->push_back(std::move(joined));
  }
}

}  // namespace

Result<Vocab> MakeSpmVocab(int n_vocab, uint32_t seed, bool add_space_prefix,
                           const std::vector<std::string>& extra_control) {
  Vocab v;
  v.model = "llama";
  auto add = [&](std::string text, float score, int32_t type) {
    v.tokens.push_back(std::move(text));
    v.scores.push_back(score);
    v.token_types.push_back(type);
  };
  add("<unk>", 0, 2);
  add("<s>", 0, 3);
  add("</s>", 0, 3);
  v.unk = 0, v.bos = 1, v.eos = 2;
  v.add_bos = true;
  v.add_space_prefix = add_space_prefix ? 1 : 0;
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    add(name, 0, 6);
  }
  // Single characters: the word marker, letters (frequent first), digits, punctuation.
  std::vector<std::string> pieces = {kSpmSpace};
  for (char c : kLetters) pieces.push_back(std::string(1, c));
  for (char c : kLetters) pieces.push_back(kSpmSpace + c);
  for (char c = 'A'; c <= 'Z'; ++c) pieces.push_back(std::string(1, c));
  for (char c = '0'; c <= '9'; ++c) pieces.push_back(std::string(1, c));
  for (char c = 33; c < 127; ++c) {
    if (!std::isalnum(static_cast<unsigned char>(c))) pieces.push_back(std::string(1, c));
  }
  const size_t fixed = v.tokens.size() + extra_control.size();
  if (n_vocab < static_cast<int>(fixed + pieces.size())) {
    return InvalidArgumentError("an SPM vocabulary needs at least " +
                                std::to_string(fixed + pieces.size()) + " tokens, got " +
                                std::to_string(n_vocab));
  }
  std::unordered_set<std::string> seen(pieces.begin(), pieces.end());
  Rng rng(seed);
  GrowPieces(&pieces, &seen, 0, static_cast<size_t>(n_vocab) - fixed, kSpmSpace, &rng, nullptr);
  // Scores decrease with rank: SPM merges the highest-scoring pair first.
  for (size_t i = 0; i < pieces.size(); ++i) add(pieces[i], -static_cast<float>(i), 1);
  for (const std::string& s : extra_control) add(s, 0, 3);
  return v;
}

Result<Vocab> MakeCharVocab(int n_vocab) {
  if (n_vocab != kCharVocabSize) {
    return InvalidArgumentError("a character vocabulary has exactly " +
                                std::to_string(kCharVocabSize) + " tokens, got " +
                                std::to_string(n_vocab));
  }
  Vocab v;
  v.model = "llama";
  auto add = [&](std::string text, float score, int32_t type) {
    v.tokens.push_back(std::move(text));
    v.scores.push_back(score);
    v.token_types.push_back(type);
  };
  add("<unk>", 0, 2);
  add("<s>", 0, 3);
  add("</s>", 0, 3);
  v.unk = 0, v.bos = 1, v.eos = 2;
  v.add_bos = true;
  v.add_space_prefix = 0;
  add(kSpmSpace, -1, 1);
  for (char c = 33; c < 127; ++c) add(std::string(1, c), -2 - static_cast<float>(c), 1);
  for (int b = 0x80; b < 0x100; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    add(name, 0, 6);
  }
  return v;
}

Result<Vocab> MakeBpeVocab(int n_vocab, const std::string& pre, uint32_t seed) {
  Vocab v;
  v.model = "gpt2";
  v.pre = pre;
  std::vector<std::string> specials;
  if (pre == "llama-bpe" || pre == "llama3") {
    specials = {"<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
                "<|eot_id|>"};
    // Llama 3 reserves 256 ids for control tokens; a full-size vocabulary keeps that shape,
    // so <|begin_of_text|> is 128000 as in the real model.
    if (n_vocab >= 128256) {
      for (int i = 0; specials.size() < 256; ++i) {
        specials.push_back("<|reserved_special_token_" + std::to_string(i) + "|>");
      }
    }
    v.add_bos = true;
  } else {
    specials = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  }
  std::vector<std::string> alphabet = ByteLevelAlphabet();
  // Base characters, frequent first: space ("Ġ"), letters, digits, punctuation, the rest.
  std::vector<std::string> pieces;
  std::unordered_set<std::string> seen;
  auto base = [&](const std::string& s) {
    if (seen.insert(s).second) pieces.push_back(s);
  };
  base(alphabet[' ']);
  for (char c : kLetters) base(alphabet[static_cast<unsigned char>(c)]);
  for (char c : kLetters) base(alphabet[static_cast<unsigned char>(std::toupper(c))]);
  for (char c = '0'; c <= '9'; ++c) base(alphabet[static_cast<unsigned char>(c)]);
  for (int b = 0; b < 256; ++b) base(alphabet[b]);
  const size_t n_normal = static_cast<size_t>(n_vocab) - specials.size();
  if (n_vocab < static_cast<int>(pieces.size() + specials.size()) + 44) {
    return InvalidArgumentError("a BPE vocabulary needs at least " +
                                std::to_string(pieces.size() + specials.size() + 44) +
                                " tokens, got " + std::to_string(n_vocab));
  }
  Rng rng(seed);
  GrowPieces(&pieces, &seen, 0, n_normal, alphabet[' '], &rng, &v.merges);
  v.tokens = std::move(pieces);
  v.token_types.assign(v.tokens.size(), 1);
  for (const std::string& s : specials) {
    v.tokens.push_back(s);
    v.token_types.push_back(3);
  }
  v.bos = static_cast<int32_t>(n_normal);
  if (v.add_bos) {
    v.eos = v.bos + 1;  // <|end_of_text|>
    v.eot = v.bos + 4;  // <|eot_id|>
  } else {
    v.eos = v.bos;  // Qwen2: <|endoftext|> for both, no BOS added
    v.eot = v.bos + 2;
  }
  return v;
}

Result<Vocab> MakeWpmVocab(int n_vocab, uint32_t seed) {
  Vocab v;
  v.model = "bert";
  v.tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  v.token_types.assign(v.tokens.size(), 3);
  v.token_types[1] = 2;
  v.pad = 0, v.unk = 1, v.bos = 2, v.sep = 3, v.mask = 4;
  v.add_bos = true;
  // WordPiece lowercases and splits punctuation into words of its own, so word-initial pieces
  // "▁x" for every letter, digit and ASCII symbol, plus continuation letters and digits, cover
  // all ASCII text.
  std::vector<std::string> pieces;
  for (char c : kLetters) pieces.push_back(std::string(1, c));
  for (char c = '0'; c <= '9'; ++c) pieces.push_back(std::string(1, c));
  for (char c : kLetters) pieces.push_back(kSpmSpace + c);
  for (char c = '0'; c <= '9'; ++c) pieces.push_back(kSpmSpace + c);
  for (char c = 33; c < 127; ++c) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && !std::isupper(c)) {
      pieces.push_back(kSpmSpace + c);
    }
  }
  const size_t fixed = v.tokens.size();
  if (n_vocab < static_cast<int>(fixed + pieces.size()) + 16) {
    return InvalidArgumentError("a WordPiece vocabulary needs at least " +
                                std::to_string(fixed + pieces.size() + 16) + " tokens, got " +
                                std::to_string(n_vocab));
  }
  std::unordered_set<std::string> seen(pieces.begin(), pieces.end());
  Rng rng(seed);
  // Letters only on the right: "▁" + anything + continuation, or continuation + continuation.
  GrowPieces(&pieces, &seen, 0, static_cast<size_t>(n_vocab) - fixed, kSpmSpace, &rng, nullptr);
  for (std::string& p : pieces) {
    v.tokens.push_back(std::move(p));
    v.token_types.push_back(1);
  }
  return v;
}

Status WriteVocab(const Vocab& v, gguf::GgufWriter* w) {
  using gguf::MetaValue;
  RETURN_IF_ERROR(w->Set("tokenizer.ggml.model", MetaValue::String(v.model)));
  if (!v.pre.empty()) RETURN_IF_ERROR(w->Set("tokenizer.ggml.pre", MetaValue::String(v.pre)));
  RETURN_IF_ERROR(w->Set("tokenizer.ggml.tokens", MetaValue::StringArray(v.tokens)));
  if (!v.scores.empty()) {
    RETURN_IF_ERROR(w->Set("tokenizer.ggml.scores", MetaValue::F32Array(v.scores)));
  }
  RETURN_IF_ERROR(w->Set("tokenizer.ggml.token_type", MetaValue::I32Array(v.token_types)));
  if (!v.merges.empty()) {
    RETURN_IF_ERROR(w->Set("tokenizer.ggml.merges", MetaValue::StringArray(v.merges)));
  }
  auto id = [&](const char* key, int32_t value) -> Status {
    if (value < 0) return Status::Ok();
    return w->Set(key, MetaValue::U32(static_cast<uint32_t>(value)));
  };
  RETURN_IF_ERROR(id("tokenizer.ggml.bos_token_id", v.bos));
  RETURN_IF_ERROR(id("tokenizer.ggml.eos_token_id", v.eos));
  RETURN_IF_ERROR(id("tokenizer.ggml.eot_token_id", v.eot));
  RETURN_IF_ERROR(id("tokenizer.ggml.unknown_token_id", v.unk));
  RETURN_IF_ERROR(id("tokenizer.ggml.seperator_token_id", v.sep));  // sic: llama.cpp's key
  RETURN_IF_ERROR(id("tokenizer.ggml.padding_token_id", v.pad));
  RETURN_IF_ERROR(id("tokenizer.ggml.mask_token_id", v.mask));
  RETURN_IF_ERROR(w->Set("tokenizer.ggml.add_bos_token", MetaValue::Bool(v.add_bos)));
  RETURN_IF_ERROR(w->Set("tokenizer.ggml.add_eos_token", MetaValue::Bool(v.add_eos)));
  if (v.add_space_prefix >= 0) {
    RETURN_IF_ERROR(
        w->Set("tokenizer.ggml.add_space_prefix", MetaValue::Bool(v.add_space_prefix == 1)));
  }
  if (v.model == "bert") {
    RETURN_IF_ERROR(w->Set("tokenizer.ggml.token_type_count", MetaValue::U32(2)));
  }
  return Status::Ok();
}

}  // namespace corral::modelgen
