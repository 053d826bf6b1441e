// UTF-8 checks for streamed text: where a sequence is cut short, and how invalid bytes look in
// JSON. Internal to the sampling module.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace corral::sampling {

// Length (1-4) of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or 0 when the bytes there are not one.
size_t Utf8SequenceLength(std::string_view s, size_t i);

// How many bytes at the end of `s` (0-3) begin a well-formed sequence that more bytes could
// still complete: what a streamer must hold back.
size_t IncompleteUtf8Suffix(std::string_view s);

// Appends `s` with each byte that does not begin a well-formed sequence replaced by U+FFFD, as
// Go's encoding/json writes them (one U+FFFD per byte), so the text is always valid UTF-8.
void AppendSanitizedUtf8(std::string_view s, std::string* out);
std::string SanitizeUtf8(std::string_view s);

}  // namespace corral::sampling
