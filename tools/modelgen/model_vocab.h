// Synthesized tokenizers for random-weight models (model_factory.h). Each is a vocabulary that
// llama.cpp accepts and that tokenizes any plain ASCII text without unknown tokens:
//   SPM  ("llama"): <unk> <s> </s>, the 256 byte tokens <0x00>..<0xFF>, then pieces with scores
//   BPE  ("gpt2"):  the 256 byte-level characters, generated merges, control tokens at the end
//   WPM  ("bert"):  [PAD] [UNK] [CLS] [SEP] [MASK], then word-initial ("▁x") and continuation
//                   pieces
// Pieces are grown by concatenating two existing pieces (as BPE training does), so every piece is
// reachable by the tokenizer's merges; the result is deterministic for a seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "gguf/gguf_writer.h"

namespace corral::modelgen {

enum class VocabKind { kSpm, kBpe, kWpm };

struct Vocab {
  std::string model;  // tokenizer.ggml.model: "llama", "gpt2" or "bert"
  std::string pre;    // tokenizer.ggml.pre (BPE only)
  std::vector<std::string> tokens;
  std::vector<float> scores;         // SPM only (empty otherwise)
  std::vector<int32_t> token_types;  // 1 normal, 2 unknown, 3 control, 6 byte
  std::vector<std::string> merges;   // BPE only: "left right", rank = index
  int32_t bos = -1, eos = -1, eot = -1, unk = -1, sep = -1, pad = -1, mask = -1;
  bool add_bos = false;
  bool add_eos = false;
  int add_space_prefix = -1;  // SPM: 0/1 written; -1 not written
};

// `n_vocab` tokens in all (at least what the fixed tokens need: 262 for SPM, 300 for BPE, 64
// for WPM). `pre` is the BPE pre-tokenizer name ("qwen2", "llama-bpe", ...).
// `extra_control` tokens (e.g. Phi-3's "<|endoftext|>", "<|end|>") go at the end of an SPM
// vocabulary, as in the real models.
Result<Vocab> MakeSpmVocab(int n_vocab, uint32_t seed, bool add_space_prefix,
                           const std::vector<std::string>& extra_control = {});
Result<Vocab> MakeBpeVocab(int n_vocab, const std::string& pre, uint32_t seed);
// An SPM vocabulary of single characters only: <unk> <s> </s>, "▁" (space), the 94 other
// printable ASCII characters and the byte tokens <0x80>..<0xFF> (any non-ASCII character as
// UTF-8 bytes), so n_vocab must be kCharVocabSize. With flat random logits every token is about
// as likely as any other: structured-output tests use it so that a random model closes its
// strings (a '"') within a few hundred tokens.
inline constexpr int kCharVocabSize = 226;
Result<Vocab> MakeCharVocab(int n_vocab);
Result<Vocab> MakeWpmVocab(int n_vocab, uint32_t seed);

// Writes the tokenizer.ggml.* keys.
Status WriteVocab(const Vocab& vocab, gguf::GgufWriter* writer);

}  // namespace corral::modelgen
