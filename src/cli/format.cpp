#include "cli/format.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <iomanip>
#include <limits>
#include <sstream>

#include "base/strings.h"
#include "modelfile/modelfile.h"
#include "server/model_info.h"

namespace corral::cli {
namespace {

using nlohmann::json;

// printf's %.Nf (Go's %.Nf rounds the same way), without snprintf buffers to size.
std::string Fixed(double value, int decimals) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(decimals) << value;
  return out.str();
}

// Go's strings.Fields: the runs of non-space characters.
std::vector<std::string> Fields(std::string_view text) {
  std::vector<std::string> fields;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) fields.emplace_back(text.substr(start, i - start));
  }
  return fields;
}

std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> lines = Split(text, '\n');
  for (std::string& line : lines) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // bufio.ScanLines drops \r
  }
  return lines;
}

// Ollama's humanDuration (format/time.go) of a positive duration.
std::string HumanDuration(std::chrono::nanoseconds d) {
  const double ns = static_cast<double>(d.count());
  const int64_t seconds = d.count() / 1'000'000'000;
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return std::to_string(seconds) + " seconds";
  const int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return std::to_string(minutes) + " minutes";
  const int64_t hours = static_cast<int64_t>(std::llround(ns / 3.6e12));
  if (hours == 1) return "About an hour";
  if (hours < 48) return std::to_string(hours) + " hours";
  if (hours < 24 * 7 * 2) return std::to_string(hours / 24) + " days";
  if (hours < 24 * 30 * 2) return std::to_string(hours / 24 / 7) + " weeks";
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24 / 30) + " months";
  return std::to_string(hours / 24 / 365) + " years";
}

// Go's %v of a JSON-decoded value (float64, string, bool, []any, nil).
std::string GoValue(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return modelfile::GoFormatFloat(v.get<double>());
  if (v.is_number()) return modelfile::GoFormatFloat(v.get<double>());
  if (v.is_null()) return "<nil>";
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + GoValue(v[i]);
    return out + "]";
  }
  return "map[]";  // objects do not occur in model_info
}

// strconv.FormatFloat(f, 'f', -1, 64) of a JSON number (context and embedding lengths).
std::string PlainNumber(const json& v) {
  if (v.is_number_integer()) return v.dump();
  double d = v.get<double>();
  if (std::trunc(d) == d && std::fabs(d) < 1e15) return Fixed(d, 0);
  std::ostringstream out;
  out << std::setprecision(std::numeric_limits<double>::max_digits10) << d;
  return out.str();
}

std::string StringField(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t IntField(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<int64_t>() : 0;
}

// The first 12 characters of a digest (a shorter one as it is).
std::string ShortId(const json& model) {
  std::string digest = StringField(model, "digest");
  if (StartsWith(digest, "sha256:")) digest = digest.substr(7);
  return digest.substr(0, std::min<size_t>(12, digest.size()));
}

// tablewriter's PadRight: a cell wider than the column stays as it is.
std::string PadRight(const std::string& cell, int width) {
  int gap = width - DisplayWidth(cell);
  return gap > 0 ? cell + std::string(gap, ' ') : cell;
}

// One show section: "  Header\n", the table, a blank line (Ollama's tableRender).
void Section(std::string* out, std::string_view header,
             const std::vector<std::vector<std::string>>& rows) {
  const bool long_text = header == "Template" || header == "System" || header == "License";
  *out += "  " + std::string(header) + "\n";
  *out += RenderTable({}, rows, long_text ? 100 : 30);
  *out += "\n";
}

// Ollama's `head`: the first n non-blank lines (trimmed) as rows, then "..." if there are more.
std::vector<std::vector<std::string>> HeadRows(std::string_view text, int n) {
  std::vector<std::vector<std::string>> rows;
  int count = 0;
  for (const std::string& line : Lines(text)) {
    std::string trimmed(TrimSpace(line));
    if (trimmed.empty()) continue;
    ++count;
    if (count <= n) rows.push_back({"", trimmed});
  }
  if (count > n) rows.push_back({"", "..."});
  return rows;
}

// Ollama's shortening of an array in `show --verbose` metadata: as many items as fit in about
// ten columns, then " ...+N more]".
std::string ShortArray(const json& items) {
  constexpr int kTargetWidth = 10;
  int total_width = 1;  // the opening bracket
  size_t shown = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    int width = DisplayWidth(GoValue(items[i])) + (i > 0 ? 2 : 0);
    if (total_width + width > kTargetWidth && i > 0) break;
    total_width += width;
    ++shown;
  }
  if (shown == items.size()) return GoValue(items);
  json head = json::array();
  for (size_t i = 0; i < shown; ++i) head.push_back(items[i]);
  std::string text = GoValue(head);
  text.pop_back();  // "]"
  return text + " ...+" + std::to_string(items.size() - shown) + " more]";
}

}  // namespace

std::string HumanBytes(int64_t bytes) {
  constexpr int64_t kKilo = 1000, kMega = kKilo * 1000, kGiga = kMega * 1000, kTera = kGiga * 1000;
  double value = 0;
  const char* unit = "";
  if (bytes >= kTera) {
    value = static_cast<double>(bytes) / kTera, unit = "TB";
  } else if (bytes >= kGiga) {
    value = static_cast<double>(bytes) / kGiga, unit = "GB";
  } else if (bytes >= kMega) {
    value = static_cast<double>(bytes) / kMega, unit = "MB";
  } else if (bytes >= kKilo) {
    value = static_cast<double>(bytes) / kKilo, unit = "KB";
  } else {
    return std::to_string(bytes) + " B";
  }
  // Two significant figures below 10 ("1.3 GB"), whole units from 10 on ("807 KB").
  if (value >= 10 || value == std::trunc(value)) {
    return std::to_string(static_cast<int64_t>(value)) + " " + unit;
  }
  return Fixed(value, 1) + " " + unit;
}

std::string HumanTime(std::optional<SystemTime> t, SystemTime now, std::string_view zero_value) {
  if (!t) return std::string(zero_value);
  const std::chrono::nanoseconds delta = std::chrono::duration_cast<std::chrono::nanoseconds>(
      now - std::chrono::time_point_cast<SystemTime::duration>(*t));
  // Go: int(delta.Hours())/24/365 < -20, integer division truncating toward zero.
  const int64_t whole_hours = delta.count() / 3'600'000'000'000;
  if (whole_hours / 24 / 365 < -20) return "Forever";
  if (delta.count() < 0) return HumanDuration(-delta) + " from now";
  return HumanDuration(delta) + " ago";
}

std::string GoDurationString(int64_t nanoseconds) {
  if (nanoseconds == 0) return "0s";
  const bool negative = nanoseconds < 0;
  uint64_t u = negative ? 0 - static_cast<uint64_t>(nanoseconds) : nanoseconds;
  // Go's fmtFrac: `precision` fraction digits without trailing zeros (and no '.' if all zero).
  auto fraction = [](uint64_t* v, int precision) {
    std::string digits;
    bool print = false;
    for (int i = 0; i < precision; ++i) {
      int digit = static_cast<int>(*v % 10);
      print = print || digit != 0;
      if (print) digits.insert(digits.begin(), static_cast<char>('0' + digit));
      *v /= 10;
    }
    return print ? "." + digits : std::string();
  };
  std::string out;
  if (u < 1'000'000'000) {
    int precision = 0;
    std::string unit;
    if (u < 1'000) {
      unit = "ns";
    } else if (u < 1'000'000) {
      precision = 3, unit = "\u00b5s";
    } else {
      precision = 6, unit = "ms";
    }
    std::string frac = fraction(&u, precision);
    out = std::to_string(u) + frac + unit;
  } else {
    std::string frac = fraction(&u, 9);
    out = std::to_string(u % 60) + frac + "s";
    u /= 60;
    if (u > 0) {
      out = std::to_string(u % 60) + "m" + out;
      u /= 60;
      if (u > 0) out = std::to_string(u) + "h" + out;
    }
  }
  return negative ? "-" + out : out;
}

std::optional<SystemTime> ParseRfc3339(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  auto digits = [&](size_t pos, size_t n, int* value) {
    if (pos + n > text.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *value = v;
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!digits(0, 4, &year) || text.size() < 20 || text[4] != '-' || !digits(5, 2, &month) ||
      text[7] != '-' || !digits(8, 2, &day) || (text[10] != 'T' && text[10] != 't') ||
      !digits(11, 2, &hour) || text[13] != ':' || !digits(14, 2, &minute) || text[16] != ':' ||
      !digits(17, 2, &second)) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t scale = 100'000'000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      nanos += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
  }
  int offset_seconds = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (!digits(pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !digits(pos + 4, 2, &om)) {
      return std::nullopt;
    }
    offset_seconds = (oh * 3600 + om * 60) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  // Go's zero time is year 1 (UTC); it means "no time" (HumanTime's zero value).
  if (year == 1 && month == 1 && day == 1 && hour == 0 && minute == 0 && second == 0 &&
      nanos == 0 && offset_seconds == 0) {
    return std::nullopt;
  }
  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                                  std::chrono::day(day)};
  if (!ymd.ok()) return std::nullopt;
  const std::chrono::sys_seconds t = std::chrono::sys_days(ymd) + std::chrono::hours(hour) +
                                     std::chrono::minutes(minute) + std::chrono::seconds(second) -
                                     std::chrono::seconds(offset_seconds);
  // The clock counts nanoseconds in 64 bits (years 1678..2262); Ollama's "forever" is about
  // 290 years ahead, so later times are clamped to the end of the clock (still "Forever").
  using Limits = std::numeric_limits<SystemTime::rep>;
  const auto seconds_since_epoch = t.time_since_epoch().count();
  constexpr auto kPerSecond = static_cast<int64_t>(SystemTime::period::den);
  if (seconds_since_epoch >= Limits::max() / kPerSecond - 1) return SystemTime::max();
  if (seconds_since_epoch <= Limits::min() / kPerSecond + 1) return std::nullopt;
  return std::chrono::time_point_cast<SystemTime::duration>(t) +
         std::chrono::duration_cast<SystemTime::duration>(std::chrono::nanoseconds(nanos));
}

int DisplayWidth(std::string_view text) {
  int width = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++width;  // count lead bytes, not continuation bytes
  }
  return width;
}

std::vector<std::string> WrapWords(std::string_view text, int limit) {
  std::string flat(text);
  std::replace(flat.begin(), flat.end(), '\n', ' ');
  std::vector<std::string> words = Split(flat, ' ');
  if (words.empty()) words.push_back("");
  for (const std::string& w : words) limit = std::max(limit, DisplayWidth(w));
  // Minimum raggedness (kr/text's WrapWords, as tablewriter uses it): cost of a line is the
  // square of its slack, plus a large penalty for a line over the limit.
  const size_t n = words.size();
  constexpr int64_t kPenalty = 100000;
  std::vector<int64_t> prefix(n + 1, 0);  // total width of words[0, i)
  for (size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + DisplayWidth(words[i]);
  auto length = [&](size_t i, size_t j) {  // words i..j inclusive joined by one space
    return prefix[j + 1] - prefix[i] + static_cast<int64_t>(j - i);
  };
  std::vector<int64_t> cost(n, std::numeric_limits<int32_t>::max());
  std::vector<size_t> next_break(n, n);
  for (size_t i = n; i-- > 0;) {
    if (length(i, n - 1) <= limit) {
      cost[i] = 0;
      next_break[i] = n;
      continue;
    }
    for (size_t j = i + 1; j < n; ++j) {
      int64_t slack = limit - length(i, j - 1);
      int64_t c = slack * slack + cost[j];
      if (length(i, j - 1) > limit) c += kPenalty;
      if (c < cost[i]) {
        cost[i] = c;
        next_break[i] = j;
      }
    }
  }
  std::vector<std::string> lines;
  for (size_t i = 0; i < n; i = next_break[i]) {
    std::string line;
    for (size_t k = i; k < next_break[i]; ++k) line += (k > i ? " " : "") + words[k];
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows, int max_width) {
  constexpr std::string_view kPadding = "    ";
  std::vector<int> widths;
  auto parse = [&](const std::string& cell, size_t column) {
    std::vector<std::string> raw = Split(cell, '\n');
    if (raw.empty()) raw.push_back("");
    int width = 0;
    for (const std::string& line : raw) width = std::max(width, DisplayWidth(line));
    width = std::min(width, max_width);
    int new_width = width;
    std::vector<std::string> lines;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (i > 0) lines.push_back(" ");
      for (std::string& line : WrapWords(raw[i], width)) {
        new_width = std::max(new_width, DisplayWidth(line));
        lines.push_back(std::move(line));
      }
    }
    if (widths.size() <= column) widths.resize(column + 1, 0);
    widths[column] = std::max(widths[column], new_width);
    return lines;
  };
  std::vector<std::vector<std::string>> header_cells;
  for (size_t i = 0; i < header.size(); ++i) header_cells.push_back(parse(header[i], i));
  std::vector<std::vector<std::vector<std::string>>> row_cells;
  for (const auto& row : rows) {
    std::vector<std::vector<std::string>> cells;
    for (size_t i = 0; i < row.size(); ++i) cells.push_back(parse(row[i], i));
    row_cells.push_back(std::move(cells));
  }

  std::string out;
  if (!header.empty()) {
    size_t height = 0;
    for (const auto& cell : header_cells) height = std::max(height, cell.size());
    for (size_t line = 0; line < height; ++line) {
      for (size_t column = 0; column < widths.size(); ++column) {
        std::string text;
        if (column < header_cells.size() && line < header_cells[column].size()) {
          text = header_cells[column][line];
        }
        out += PadRight(text, widths[column]);
        out += column + 1 == widths.size() ? std::string_view(" ") : kPadding;
      }
      out += "\n";
    }
  }
  for (const auto& cells : row_cells) {
    size_t height = 0;
    for (const auto& cell : cells) height = std::max(height, cell.size());
    for (size_t line = 0; line < height; ++line) {
      for (size_t column = 0; column < cells.size(); ++column) {
        // tablewriter fills a shorter cell with "  " lines, which stay wider than an empty
        // column: continuation lines of a wrapped cell are indented two more columns.
        const std::string& text = line < cells[column].size() ? cells[column][line] : "  ";
        out += PadRight(text, widths[column]);
        out += kPadding;
      }
      out += "\n";
    }
  }
  return out;
}

std::string FormatModelList(const json& tags, std::string_view prefix, SystemTime now) {
  std::vector<std::vector<std::string>> rows;
  const json* models = tags.is_object() && tags.contains("models") ? &tags["models"] : nullptr;
  if (models != nullptr && models->is_array()) {
    const std::string lower_prefix = ToLower(prefix);
    for (const json& m : *models) {
      if (!m.is_object()) continue;
      std::string name = StringField(m, "name");
      if (!StartsWith(ToLower(name), lower_prefix)) continue;
      std::string size = StringField(m, "remote_model").empty() ? HumanBytes(IntField(m, "size"))
                                                                : std::string("-");
      rows.push_back({name, ShortId(m), size,
                      HumanTime(ParseRfc3339(StringField(m, "modified_at")), now, "Never")});
    }
  }
  return RenderTable({"NAME", "ID", "SIZE", "MODIFIED"}, rows);
}

std::string FormatRunningList(const json& ps, SystemTime now) {
  std::vector<std::vector<std::string>> rows;
  const json* models = ps.is_object() && ps.contains("models") ? &ps["models"] : nullptr;
  if (models != nullptr && models->is_array()) {
    for (const json& m : *models) {
      if (!m.is_object()) continue;
      const int64_t size = IntField(m, "size");
      const int64_t vram = IntField(m, "size_vram");
      std::string processor;
      if (vram == 0) {
        processor = "100% CPU";
      } else if (vram == size) {
        processor = "100% GPU";
      } else if (vram > size || size == 0) {
        processor = "Unknown";
      } else {
        const int64_t cpu_percent =
            std::llround(static_cast<double>(size - vram) / static_cast<double>(size) * 100);
        processor =
            std::to_string(cpu_percent) + "%/" + std::to_string(100 - cpu_percent) + "% CPU/GPU";
      }
      std::optional<SystemTime> expires = ParseRfc3339(StringField(m, "expires_at"));
      std::string until =
          expires && *expires < now ? std::string("Stopping...") : HumanTime(expires, now, "Never");
      rows.push_back({StringField(m, "name"), ShortId(m), HumanBytes(size), processor,
                      std::to_string(IntField(m, "context_length")), until});
    }
  }
  return RenderTable({"NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"}, rows);
}

std::string FormatShowInfo(const json& show, bool verbose) {
  std::string out;
  const json details =
      show.contains("details") && show["details"].is_object() ? show["details"] : json::object();
  const json info = show.contains("model_info") && show["model_info"].is_object()
                        ? show["model_info"]
                        : json::object();
  {
    std::vector<std::vector<std::string>> rows;
    if (!StringField(show, "remote_host").empty()) {
      rows.push_back({"", "remote model", StringField(show, "remote_model")});
      rows.push_back({"", "remote URL", StringField(show, "remote_host")});
    }
    const std::string arch = StringField(info, "general.architecture");
    if (!arch.empty()) {
      rows.push_back({"", "architecture", arch});
      std::string parameters = StringField(details, "parameter_size");
      if (parameters.empty() && info.contains("general.parameter_count") &&
          info["general.parameter_count"].is_number() &&
          info["general.parameter_count"].get<double>() >= 0) {
        parameters = server::HumanNumber(info["general.parameter_count"].get<uint64_t>());
      }
      rows.push_back({"", "parameters", parameters});
      for (const auto& [key, label] : {std::pair{".context_length", "context length"},
                                       std::pair{".embedding_length", "embedding length"}}) {
        auto it = info.find(arch + key);
        if (it != info.end() && it->is_number()) rows.push_back({"", label, PlainNumber(*it)});
      }
    } else {
      rows.push_back({"", "architecture", StringField(details, "family")});
      rows.push_back({"", "parameters", StringField(details, "parameter_size")});
    }
    rows.push_back({"", "quantization", StringField(details, "quantization_level")});
    if (std::string requires_version = StringField(show, "requires"); !requires_version.empty()) {
      rows.push_back({"", "requires", requires_version});
    }
    Section(&out, "Model", rows);
  }
  if (show.contains("capabilities") && show["capabilities"].is_array() &&
      !show["capabilities"].empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const json& c : show["capabilities"]) {
      if (c.is_string()) rows.push_back({"", c.get<std::string>()});
    }
    Section(&out, "Capabilities", rows);
  }
  if (show.contains("projector_info") && show["projector_info"].is_object()) {
    const json& projector = show["projector_info"];
    const std::string arch = StringField(projector, "general.architecture");
    std::vector<std::vector<std::string>> rows = {{"", "architecture", arch}};
    auto number = [&](const std::string& key) {
      auto it = projector.find(key);
      return it != projector.end() && it->is_number() ? PlainNumber(*it) : std::string();
    };
    if (auto it = projector.find("general.parameter_count");
        it != projector.end() && it->is_number() && it->get<double>() >= 0) {
      rows.push_back({"", "parameters", server::HumanNumber(it->get<uint64_t>())});
    }
    rows.push_back({"", "embedding length", number(arch + ".vision.embedding_length")});
    rows.push_back({"", "dimensions", number(arch + ".vision.projection_dim")});
    Section(&out, "Projector", rows);
  }
  if (std::string parameters = StringField(show, "parameters"); !parameters.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const std::string& line : Lines(parameters)) {
      if (line.empty()) continue;
      std::vector<std::string> row = {""};
      for (std::string& field : Fields(line)) row.push_back(std::move(field));
      rows.push_back(std::move(row));
    }
    Section(&out, "Parameters", rows);
  }
  if (std::string system = StringField(show, "system"); !system.empty()) {
    Section(&out, "System", HeadRows(system, 2));
  }
  if (std::string license = StringField(show, "license"); !license.empty()) {
    Section(&out, "License", HeadRows(license, 2));
  }
  if (verbose) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> keys;
    for (auto it = info.begin(); it != info.end(); ++it) keys.push_back(it.key());
    std::sort(keys.begin(), keys.end());
    for (const std::string& key : keys) {
      const json& v = info[key];
      std::string text;
      if (v.is_boolean() || v.is_string() || v.is_number()) {
        text = GoValue(v);
      } else if (v.is_array()) {
        text = ShortArray(v);
      } else {
        text = "<nil>";  // Go's %T of a nil interface
      }
      rows.push_back({"", key, text});
    }
    Section(&out, "Metadata", rows);
    if (show.contains("tensors") && show["tensors"].is_array() && !show["tensors"].empty()) {
      std::vector<std::vector<std::string>> tensor_rows;
      for (const json& t : show["tensors"]) {
        if (!t.is_object()) continue;
        std::string shape = t.contains("shape") ? GoValue(t["shape"]) : "[]";
        tensor_rows.push_back({"", StringField(t, "name"), StringField(t, "type"), shape});
      }
      Section(&out, "Tensors", tensor_rows);
    }
  }
  return out;
}

std::string FormatMetricsSummary(const json& final_chunk) {
  auto field = [&](const char* key) -> int64_t {
    auto it = final_chunk.find(key);
    return it != final_chunk.end() && it->is_number() ? it->get<int64_t>() : 0;
  };
  auto rate = [](int64_t count, int64_t nanos) {
    return Fixed(static_cast<double>(count) / (static_cast<double>(nanos) / 1e9), 2);
  };
  std::string out;
  const int64_t total = field("total_duration"), load = field("load_duration");
  const int64_t prompt_count = field("prompt_eval_count"),
                prompt_ns = field("prompt_eval_duration");
  const int64_t eval_count = field("eval_count"), eval_ns = field("eval_duration");
  if (total > 0) out += "total duration:       " + GoDurationString(total) + "\n";
  if (load > 0) out += "load duration:        " + GoDurationString(load) + "\n";
  if (prompt_count > 0) {
    out += "prompt eval count:    " + std::to_string(prompt_count) + " token(s)\n";
  }
  if (prompt_ns > 0) {
    out += "prompt eval duration: " + GoDurationString(prompt_ns) + "\n";
    out += "prompt eval rate:     " + rate(prompt_count, prompt_ns) + " tokens/s\n";
  }
  if (eval_count > 0) out += "eval count:           " + std::to_string(eval_count) + " token(s)\n";
  if (eval_ns > 0) {
    out += "eval duration:        " + GoDurationString(eval_ns) + "\n";
    out += "eval rate:            " + rate(eval_count, eval_ns) + " tokens/s\n";
  }
  return out;
}

}  // namespace corral::cli
