// Small string helpers shared by every layer. Nothing clever.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace corral {

std::string_view TrimSpace(std::string_view s);
std::vector<std::string> Split(std::string_view s, char sep);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);
std::string ToLower(std::string_view s);

// Appends the UTF-8 encoding of a code point; values above U+10FFFF become U+FFFD.
void AppendUtf8(uint32_t code_point, std::string* out);

// Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and U+0020. Control,
// format, separator, private-use and noncharacter ranges are excluded; unassigned code points
// (which Go also rejects) are kept, as that would need the full Unicode tables.
bool GoIsPrint(uint32_t code_point);

// Go's strconv.Quote (and %q): double quotes, \" and \\, printable runes as they are, \a \b \f
// \n \r \t \v, other runes as \xNN / \uNNNN / \UNNNNNNNN, and each byte of invalid UTF-8 as
// \xNN. Ollama's error texts and Modelfiles quote with it.
std::string GoQuote(std::string_view s);

// Escapes & < > " ' as &amp; &lt; &gt; &#34; &#39; (Go's html function and Jinja's escape
// filter agree on these five).
std::string HtmlEscape(std::string_view s);

// `s` in double quotes for an error message: at most `max_shown` bytes (then "..."), quotes and
// backslashes escaped, control bytes (and with ascii_only every byte >= 0x7f) as \xNN, so user
// input can neither forge a message nor flood a log.
std::string QuoteForMessage(std::string_view s, size_t max_shown, bool ascii_only);

// Levenshtein distance, for "did you mean" suggestions.
size_t EditDistance(std::string_view a, std::string_view b);

}  // namespace corral
