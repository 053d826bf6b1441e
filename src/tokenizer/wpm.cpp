// WordPiece as llama.cpp runs it: BERT normalization (lowercase, accents stripped through the
// first code point of NFD, control characters dropped), words split on whitespace and around
// punctuation / ASCII symbols / CJK ideographs, then greedy longest match per "▁"-prefixed word;
// a word with any unmatched position becomes [UNK].
#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode.h"

namespace corral::tokenizer::internal {
namespace {

bool IsChineseChar(uint32_t cpt) {
  return (cpt >= 0x4E00 && cpt <= 0x9FFF) || (cpt >= 0x3400 && cpt <= 0x4DBF) ||
         (cpt >= 0x20000 && cpt <= 0x2A6DF) || (cpt >= 0x2A700 && cpt <= 0x2B73F) ||
         (cpt >= 0x2B740 && cpt <= 0x2B81F) || (cpt >= 0x2B920 && cpt <= 0x2CEAF) ||
         (cpt >= 0xF900 && cpt <= 0xFAFF) || (cpt >= 0x2F800 && cpt <= 0x2FA1F);
}

class WpmTokenizer final : public Tokenizer {
 public:
  explicit WpmTokenizer(Vocab vocab) : Tokenizer(std::move(vocab)) { BuildPieceCache(); }

 protected:
  void EncodeText(std::string_view text, bool /*after_special*/,
                  std::vector<int32_t>* out) const override {
    std::string word(kSpaceMarker);
    const auto flush = [&] {
      if (word.size() > kSpaceMarker.size()) EncodeWord(word, out);
      word.resize(kSpaceMarker.size());
    };
    for (size_t offset = 0; offset < text.size();) {
      uint32_t cpt = unicode::NfdFirst(unicode::DecodeOne(text, &offset));
      if (unicode::IsWhitespace(cpt)) {
        flush();
        continue;
      }
      const unicode::Category category = unicode::CategoryOf(cpt);
      if (cpt == 0 || cpt == unicode::kReplacementChar || category == unicode::Category::kOther ||
          category == unicode::Category::kMark) {
        continue;
      }
      const uint32_t lower = unicode::ToLower(cpt);
      if (category == unicode::Category::kPunctuation ||
          (cpt < 0x7F && category == unicode::Category::kSymbol) || IsChineseChar(cpt)) {
        flush();
        unicode::AppendUtf8(lower, &word);
        flush();
      } else {
        unicode::AppendUtf8(lower, &word);
      }
    }
    flush();
  }

  std::string NormalPiece(std::string_view token_text) const override {
    return ReplaceAll(token_text, kSpaceMarker, " ");
  }

 private:
  void EncodeWord(std::string_view word, std::vector<int32_t>* out) const {
    const size_t start = out->size();
    const size_t n = word.size();
    for (size_t i = 0; i < n;) {
      size_t j = std::min(n, i + vocab_.max_token_bytes + 1);
      int32_t id = kNoToken;
      for (; j > i; --j) {
        id = vocab_.Find(word.substr(i, j - i));
        if (id != kNoToken) break;
      }
      if (id == kNoToken) {
        out->resize(start);
        break;
      }
      out->push_back(id);
      i = j;
    }
    if (out->size() == start && vocab_.unk != kNoToken) out->push_back(vocab_.unk);
  }
};

}  // namespace

std::unique_ptr<Tokenizer> MakeWpmTokenizer(Vocab vocab) {
  return std::make_unique<WpmTokenizer>(std::move(vocab));
}

}  // namespace corral::tokenizer::internal
