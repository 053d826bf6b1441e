// Byte-level BPE as llama.cpp runs it: the text is split by the pre-tokenizer regexes (PCRE2,
// UTF + UCP, JIT; compiled once), each piece is mapped to GPT-2's byte alphabet, then adjacent
// symbols are merged lowest merge rank first (leftmost on ties).
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <array>

#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode.h"

namespace corral::tokenizer::internal {
namespace {

// llama.cpp runs its regexes over a copy of the text in which every non-ASCII whitespace
// character is a vertical tab (std::regex's \s knows ASCII only); surrogates, which PCRE2 refuses
// in UTF mode, stand in as a private-use character (both are category "other").
constexpr uint32_t kSurrogateStandIn = 0xE000;

struct CompiledRegex {
  pcre2_code* code = nullptr;
  ~CompiledRegex() { pcre2_code_free(code); }
};

class MatchData {
 public:
  explicit MatchData(const pcre2_code* code)
      : data_(pcre2_match_data_create_from_pattern(code, nullptr)) {}
  ~MatchData() { pcre2_match_data_free(data_); }
  MatchData(const MatchData&) = delete;
  MatchData& operator=(const MatchData&) = delete;
  pcre2_match_data* get() const { return data_; }

 private:
  pcre2_match_data* data_;
};

struct Symbol {
  int prev;
  int next;
  uint32_t offset;
  uint32_t length;  // 0 once merged into its left neighbour
  int32_t id;       // token of this symbol's text, or kNoToken
};

struct Bigram {
  int left;
  int right;
  int32_t rank;
  int32_t left_id;
  int32_t right_id;
};

struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

class BpeTokenizer final : public Tokenizer {
 public:
  explicit BpeTokenizer(Vocab vocab) : Tokenizer(std::move(vocab)) {
    for (int byte = 0; byte < 256; ++byte) {
      byte_tokens_[byte] = vocab_.Find(std::string(1, static_cast<char>(byte)));
    }
  }

  Status Compile() {
    for (const std::string& pattern : vocab_.pre_regexes) {
      int error = 0;
      PCRE2_SIZE error_offset = 0;
      auto regex = std::make_unique<CompiledRegex>();
      regex->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                  PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY | PCRE2_NO_UTF_CHECK,
                                  &error, &error_offset, nullptr);
      if (regex->code == nullptr) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(error, message, sizeof message);
        return InternalError("pre-tokenizer regex '" + pattern + "' does not compile at " +
                             std::to_string(error_offset) + ": " +
                             reinterpret_cast<const char*>(message));
      }
      pcre2_jit_compile(regex->code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter
      regexes_.push_back(std::move(regex));
    }
    BuildPieceCache();
    return Status::Ok();
  }

 protected:
  void EncodeText(std::string_view text, bool /*after_special*/,
                  std::vector<int32_t>* out) const override {
    const std::vector<uint32_t> cpts = unicode::Decode(text);
    // The regex subject, and where each code point starts in it.
    std::string subject;
    subject.reserve(text.size());
    std::vector<uint32_t> cpt_offsets(cpts.size() + 1);
    std::vector<uint32_t> byte_to_cpt;
    for (size_t i = 0; i < cpts.size(); ++i) {
      cpt_offsets[i] = static_cast<uint32_t>(subject.size());
      uint32_t cpt = cpts[i];
      if (cpt >= 0x80 && unicode::IsWhitespace(cpt)) {
        cpt = '\v';
      } else if ((cpt >= 0xD800 && cpt <= 0xDFFF) || cpt > 0x10FFFF) {
        cpt = kSurrogateStandIn;
      }
      unicode::AppendUtf8(cpt, &subject);
    }
    cpt_offsets[cpts.size()] = static_cast<uint32_t>(subject.size());
    byte_to_cpt.assign(subject.size() + 1, 0);
    for (size_t i = 0; i <= cpts.size(); ++i)
      byte_to_cpt[cpt_offsets[i]] = static_cast<uint32_t>(i);

    // Pieces as code point ranges; each regex splits every piece of the previous one.
    std::vector<std::pair<uint32_t, uint32_t>> pieces = {{0, static_cast<uint32_t>(cpts.size())}};
    std::vector<std::pair<uint32_t, uint32_t>> next;
    for (const auto& regex : regexes_) {
      next.clear();
      MatchData match(regex->code);
      for (auto [begin, end] : pieces) {
        SplitPiece(regex->code, match.get(), subject, cpt_offsets[begin], cpt_offsets[end],
                   byte_to_cpt, &next);
      }
      pieces.swap(next);
    }

    // Buffers reused across pieces, so merging allocates nothing per word once warmed up.
    std::string word;
    std::string utf8;
    std::vector<Symbol> symbols;
    std::vector<Bigram> heap;
    for (auto [begin, end] : pieces) {
      if (begin == end) continue;
      utf8.clear();
      for (uint32_t i = begin; i < end; ++i) unicode::AppendUtf8(cpts[i], &utf8);
      word.clear();
      for (char byte : utf8) word += unicode::ByteToUnicode(static_cast<uint8_t>(byte));
      MergeWord(word, &symbols, &heap, out);
    }
  }

  std::string NormalPiece(std::string_view token_text) const override {
    std::string decoded;
    for (size_t offset = 0; offset < token_text.size();) {
      const size_t start = offset;
      const uint32_t cpt = unicode::DecodeOne(token_text, &offset);
      const int byte = unicode::UnicodeToByte(cpt);
      if (byte >= 0) {
        decoded.push_back(static_cast<char>(byte));
        continue;
      }
      // llama.cpp's marker for a character outside the byte alphabet.
      decoded += "[UNK_BYTE_0x";
      static constexpr char kHex[] = "0123456789abcdef";
      for (size_t k = start; k < offset; ++k) {
        const auto b = static_cast<uint8_t>(token_text[k]);
        decoded.push_back(kHex[b >> 4]);
        decoded.push_back(kHex[b & 15]);
      }
      decoded.append(token_text);
      decoded.push_back(']');
    }
    return decoded;
  }

 private:
  // Splits subject[from, to) into matches and the stretches between them (as std::regex_iterator
  // walks it, empty matches splitting without consuming), appending code point ranges.
  static void SplitPiece(const pcre2_code* code, pcre2_match_data* match,
                         const std::string& subject, uint32_t from, uint32_t to,
                         const std::vector<uint32_t>& byte_to_cpt,
                         std::vector<std::pair<uint32_t, uint32_t>>* out) {
    const auto* base = reinterpret_cast<PCRE2_SPTR>(subject.data() + from);
    const size_t length = to - from;
    const auto emit = [&](size_t a, size_t b) {
      if (b > a) out->push_back({byte_to_cpt[from + a], byte_to_cpt[from + b]});
    };
    size_t last = 0;   // end of what was emitted
    size_t start = 0;  // where the next search starts
    uint32_t options = 0;
    while (start <= length) {
      const int rc =
          pcre2_match(code, base, length, start, options | PCRE2_NO_UTF_CHECK, match, nullptr);
      if (rc < 0) {
        if (options == 0) break;  // no more matches
        // No non-empty match at an empty match's position: step one character.
        options = 0;
        if (start >= length) break;
        start += unicode::SequenceLength(static_cast<char>(base[start]));
        continue;
      }
      const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match);
      const size_t match_begin = ovector[0], match_end = ovector[1];
      emit(last, match_begin);
      emit(match_begin, match_end);
      last = std::max(last, match_end);
      start = match_end;
      options = match_begin == match_end ? (PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED) : 0;
    }
    emit(last, length);
  }

  void MergeWord(const std::string& word, std::vector<Symbol>* symbols_buffer,
                 std::vector<Bigram>* heap_buffer, std::vector<int32_t>* out) const {
    if (vocab_.ignore_merges) {
      if (int32_t id = vocab_.Find(word); id != kNoToken) {
        out->push_back(id);
        return;
      }
    }
    std::vector<Symbol>& symbols = *symbols_buffer;
    symbols.clear();
    for (size_t offset = 0; offset < word.size();) {
      const size_t length = std::min(unicode::SequenceLength(word[offset]), word.size() - offset);
      const int index = static_cast<int>(symbols.size());
      symbols.push_back({index - 1, offset + length == word.size() ? -1 : index + 1,
                         static_cast<uint32_t>(offset), static_cast<uint32_t>(length),
                         vocab_.Find(std::string_view(word).substr(offset, length))});
      offset += length;
    }
    std::vector<Bigram>& heap = *heap_buffer;
    heap.clear();
    const auto try_add = [&](int left, int right) {
      if (left < 0 || right < 0) return;
      const int32_t left_id = symbols[left].id, right_id = symbols[right].id;
      if (left_id == kNoToken || right_id == kNoToken) return;
      const int32_t rank = vocab_.MergeRank(left_id, right_id);
      if (rank < 0) return;
      heap.push_back({left, right, rank, left_id, right_id});
      std::push_heap(heap.begin(), heap.end(), BigramOrder());
    };
    for (int i = 1; i < static_cast<int>(symbols.size()); ++i) try_add(i - 1, i);
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), BigramOrder());
      const Bigram bigram = heap.back();
      heap.pop_back();
      Symbol& left = symbols[bigram.left];
      Symbol& right = symbols[bigram.right];
      if (left.length == 0 || right.length == 0 || left.id != bigram.left_id ||
          right.id != bigram.right_id) {
        continue;  // one side changed since this pair was queued
      }
      left.length += right.length;
      right.length = 0;
      left.id = vocab_.Find(std::string_view(word).substr(left.offset, left.length));
      left.next = right.next;
      if (right.next >= 0) symbols[right.next].prev = bigram.left;
      try_add(left.prev, bigram.left);
      try_add(bigram.left, left.next);
    }
    for (const Symbol& symbol : symbols) {
      if (symbol.length == 0) continue;
      if (symbol.id != kNoToken) {
        out->push_back(symbol.id);
        continue;
      }
      // Not a token: llama.cpp looks each byte up as a one-character token.
      for (uint32_t k = symbol.offset; k < symbol.offset + symbol.length; ++k) {
        const int32_t id = byte_tokens_[static_cast<uint8_t>(word[k])];
        if (id != kNoToken) out->push_back(id);
      }
    }
  }

  std::vector<std::unique_ptr<CompiledRegex>> regexes_;
  std::array<int32_t, 256> byte_tokens_;
};

}  // namespace

Result<std::unique_ptr<Tokenizer>> MakeBpeTokenizer(Vocab vocab) {
  auto tokenizer = std::make_unique<BpeTokenizer>(std::move(vocab));
  RETURN_IF_ERROR(tokenizer->Compile());
  return std::unique_ptr<Tokenizer>(std::move(tokenizer));
}

}  // namespace corral::tokenizer::internal
