// Text <-> token ids, matching llama.cpp token for token (SPM, byte-level BPE, WordPiece).
//
//   ASSIGN_OR_RETURN(auto file, gguf::GgufFile::Open(path));
//   ASSIGN_OR_RETURN(auto tok, tokenizer::Tokenizer::FromGguf(*file));
//   std::vector<int32_t> ids = tok->Encode("Hello", /*add_special=*/true, /*parse_special=*/false);
//
// Thread-safety: immutable after creation; Encode/Decode may run concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "gguf/gguf_reader.h"
#include "tokenizer/token_tables.h"
#include "tokenizer/vocab.h"

namespace corral::tokenizer {

class Tokenizer {
 public:
  static Result<std::unique_ptr<Tokenizer>> FromGguf(const gguf::GgufFile& file);
  static Result<std::unique_ptr<Tokenizer>> Create(Vocab vocab);
  virtual ~Tokenizer() = default;

  // add_special: BOS / EOS / SEP as the vocabulary asks. parse_special: control tokens written
  // in the text (e.g. "<|im_start|>") become their ids; user-defined tokens always do.
  std::vector<int32_t> Encode(std::string_view text, bool add_special, bool parse_special) const;

  // One token's text. special: print control / unknown tokens too (otherwise they are empty).
  // Byte tokens give one raw byte, so a piece can be part of a UTF-8 sequence.
  std::string TokenToPiece(int32_t id, bool special) const;

  // llama_detokenize(remove_special = false): pieces joined, SPM's prefix space dropped from the
  // first piece, BPE/WPM space clean-up where the vocabulary asks for it.
  std::string Decode(std::span<const int32_t> ids, bool special) const;

  bool IsEndOfGeneration(int32_t id) const;
  const std::vector<int32_t>& end_of_generation() const { return vocab_.end_of_generation; }

  const Vocab& vocab() const { return vocab_; }
  TokenizerKind kind() const { return vocab_.kind; }
  int32_t n_tokens() const { return vocab_.n_tokens(); }

 protected:
  explicit Tokenizer(Vocab vocab);

  // Tokenizes one stretch of text without special tokens. `after_special`: the stretch starts
  // the text or follows a special token (SPM adds its prefix space there).
  virtual void EncodeText(std::string_view text, bool after_special,
                          std::vector<int32_t>* out) const = 0;
  // Text of a NORMAL token (SPM/WPM unescape "▁", BPE maps its byte alphabet back).
  virtual std::string NormalPiece(std::string_view token_text) const = 0;

  void BuildPieceCache();  // call at the end of a subclass constructor

  Vocab vocab_;

 private:
  struct Fragment {
    size_t offset = 0;
    size_t length = 0;
    int32_t token = kNoToken;  // kNoToken: raw text
  };
  std::vector<Fragment> SplitSpecialTokens(std::string_view text, bool parse_special) const;

  // Each token's piece as printed with special = true, by id (n_tokens() strings in one buffer).
  StringArena pieces_;
};

// Turns a stream of token ids into text that never ends inside a UTF-8 sequence: bytes of an
// incomplete character are held back until the tokens that complete it arrive.
class StreamingDecoder {
 public:
  StreamingDecoder(const Tokenizer& tokenizer, bool special)
      : tokenizer_(tokenizer), special_(special) {}

  // Text that became complete with `id` (possibly empty).
  std::string Push(int32_t id);
  // Whatever is still held back (an incomplete sequence at the very end), as is.
  std::string Flush();

 private:
  const Tokenizer& tokenizer_;
  bool special_;
  bool first_ = true;
  std::string pending_;
};

}  // namespace corral::tokenizer
