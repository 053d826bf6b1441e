// Text formatting for the client verbs, as Ollama's command line prints it: sizes ("1.3 GB"),
// relative times ("2 minutes ago", "4 minutes from now"), Go durations ("1.5s", "12.3ms"),
// tables (olekukonko/tablewriter as Ollama configures it), the `show` sections and the
// `run --verbose` statistics. Pure functions of their inputs (the clock is a parameter), so the
// tests can pin every string.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace corral::cli {

using SystemTime = std::chrono::system_clock::time_point;

// Ollama's format.HumanBytes (decimal units): "512 B", "807 KB", "1.3 GB", "2 GB", "13 GB".
std::string HumanBytes(int64_t bytes);

// Ollama's format.HumanTime: "Less than a second ago", "About a minute ago", "3 hours ago",
// "4 minutes from now", "Forever" (more than 20 years ahead); `zero_value` for Go's zero time.
std::string HumanTime(std::optional<SystemTime> t, SystemTime now, std::string_view zero_value);

// Go's time.Duration.String(): "0s", "850ns", "1.5µs", "12.345ms", "2.5s", "1m30s", "2h0m0s".
std::string GoDurationString(int64_t nanoseconds);

// An RFC 3339 timestamp as Go writes time.Time in JSON ("2024-09-12T03:54:03.516566+05:30",
// "...Z"). Nullopt for Go's zero time ("0001-01-01T00:00:00Z"), for text that does not parse
// and for years before 1678; times after 2262 (the clock's end) become SystemTime::max().
std::optional<SystemTime> ParseRfc3339(std::string_view text);

// olekukonko/tablewriter as Ollama's list/ps/show configure it (no borders, no header line,
// left-aligned, "no white space" mode, table padding of four spaces): every cell is padded to
// its column's width and followed by the padding, so rows end in spaces, exactly like Ollama's
// output; the header's last cell is followed by one space instead. Cells longer than
// `max_width` are word-wrapped onto more lines (tablewriter's minimum-raggedness wrapping, which
// splits at single spaces). An empty header prints no header row.
std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows, int max_width = 30);

// tablewriter's WrapString: the words of `text` (split on single spaces) in lines of at most
// `limit` display columns where possible, minimising raggedness.
std::vector<std::string> WrapWords(std::string_view text, int limit);

// The UTF-8 text's width in terminal columns (code points; wide CJK not special-cased).
int DisplayWidth(std::string_view text);

// `corral list`: rows of /api/tags models whose name starts with `prefix` (case-insensitive).
std::string FormatModelList(const nlohmann::json& tags, std::string_view prefix, SystemTime now);

// `corral ps`: /api/ps as NAME, ID, SIZE, PROCESSOR, CONTEXT, UNTIL.
std::string FormatRunningList(const nlohmann::json& ps, SystemTime now);

// `corral show MODEL`: the Model, Capabilities, Projector, Parameters, System and License
// sections (and with `verbose` Metadata and Tensors) of an /api/show response.
std::string FormatShowInfo(const nlohmann::json& show, bool verbose);

// The `run --verbose` statistics of a final generate chunk (Ollama's Metrics.Summary):
// "total duration:       1.2s\n" ... "eval rate:            45.67 tokens/s\n". Zero or
// absent metrics are left out.
std::string FormatMetricsSummary(const nlohmann::json& final_chunk);

}  // namespace corral::cli
