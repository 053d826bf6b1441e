// SentencePiece BPE as llama.cpp runs it: characters merged greedily by the score of the merged
// token (best score first, leftmost on ties); what never became a token goes out as <0xXX>
// byte tokens.
#include <array>
#include <cstdio>
#include <queue>

#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode.h"

namespace corral::tokenizer::internal {
namespace {

struct Symbol {
  int prev;
  int next;
  size_t offset;
  size_t length;  // 0 once merged into its left neighbour
};

struct Bigram {
  int left;
  int right;
  float score;
  size_t length;
};

struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

class SpmTokenizer final : public Tokenizer {
 public:
  explicit SpmTokenizer(Vocab vocab) : Tokenizer(std::move(vocab)) {
    for (int byte = 0; byte < 256; ++byte) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", byte);
      int32_t id = vocab_.Find(name);
      if (id == kNoToken) id = vocab_.Find(std::string(1, static_cast<char>(byte)));
      byte_tokens_[byte] = id != kNoToken ? id : vocab_.unk;
    }
    BuildPieceCache();
  }

 protected:
  void EncodeText(std::string_view text, bool after_special,
                  std::vector<int32_t>* out) const override {
    std::string escaped;
    if (vocab_.add_space_prefix && after_special) escaped = " ";
    escaped.append(text);
    escaped = ReplaceAll(escaped, " ", kSpaceMarker);

    std::vector<Symbol> symbols;
    symbols.reserve(escaped.size());
    for (size_t offset = 0; offset < escaped.size();) {
      const size_t length =
          std::min(unicode::SequenceLength(escaped[offset]), escaped.size() - offset);
      const int index = static_cast<int>(symbols.size());
      offset += length;
      symbols.push_back(
          {index - 1, offset == escaped.size() ? -1 : index + 1, offset - length, length});
    }

    std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
    const auto try_add = [&](int left, int right) {
      if (left < 0 || right < 0) return;
      const std::string_view merged(escaped.data() + symbols[left].offset,
                                    symbols[left].length + symbols[right].length);
      const int32_t id = vocab_.Find(merged);
      if (id == kNoToken) return;
      queue.push({left, right, vocab_.score(id), merged.size()});
    };
    for (int i = 1; i < static_cast<int>(symbols.size()); ++i) try_add(i - 1, i);

    while (!queue.empty()) {
      const Bigram bigram = queue.top();
      queue.pop();
      Symbol& left = symbols[bigram.left];
      Symbol& right = symbols[bigram.right];
      if (left.length == 0 || right.length == 0 || left.length + right.length != bigram.length) {
        continue;  // one side changed since this pair was queued
      }
      left.length += right.length;
      right.length = 0;
      left.next = right.next;
      if (right.next >= 0) symbols[right.next].prev = bigram.left;
      try_add(left.prev, bigram.left);
      try_add(bigram.left, left.next);
    }

    for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) {
      const Symbol& symbol = symbols[i];
      const std::string_view piece(escaped.data() + symbol.offset, symbol.length);
      if (int32_t id = vocab_.Find(piece); id != kNoToken) {
        out->push_back(id);
        continue;
      }
      for (char byte : piece) {
        const int32_t id = byte_tokens_[static_cast<uint8_t>(byte)];
        if (id != kNoToken) out->push_back(id);
      }
    }
  }

  std::string NormalPiece(std::string_view token_text) const override {
    return ReplaceAll(token_text, kSpaceMarker, " ");
  }

 private:
  std::array<int32_t, 256> byte_tokens_;
};

}  // namespace

std::unique_ptr<Tokenizer> MakeSpmTokenizer(Vocab vocab) {
  return std::make_unique<SpmTokenizer>(std::move(vocab));
}

}  // namespace corral::tokenizer::internal
