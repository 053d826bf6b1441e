// Factories of the concrete tokenizers (spm.cpp, bpe.cpp, wpm.cpp); only tokenizer.cpp calls them.
#pragma once

#include <memory>

#include "base/status.h"
#include "tokenizer/tokenizer.h"

namespace corral::tokenizer::internal {

std::unique_ptr<Tokenizer> MakeSpmTokenizer(Vocab vocab);
Result<std::unique_ptr<Tokenizer>> MakeBpeTokenizer(Vocab vocab);
std::unique_ptr<Tokenizer> MakeWpmTokenizer(Vocab vocab);

// "▁" (U+2581), SentencePiece's visible space.
inline constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";

// Replaces every `from` in `text` with `to`.
std::string ReplaceAll(std::string_view text, std::string_view from, std::string_view to);

}  // namespace corral::tokenizer::internal
