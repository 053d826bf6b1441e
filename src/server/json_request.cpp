#include "server/json_request.h"

#include <httplib.h>

#include <cstring>
#include <ctime>
#include <vector>

#include "base/strings.h"

namespace corral::server {
namespace {

// Go's quoteChar for scanner messages: 'x', '\n', '\x01'.
std::string QuoteChar(unsigned char c) {
  if (c == '\'') return "'\\''";
  if (c == '"') return "'\"'";
  if (c == '\n') return "'\\n'";
  if (c == '\r') return "'\\r'";
  if (c == '\t') return "'\\t'";
  if (c >= 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "'\\x%02x'", c);
  return buf;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// A scanner with encoding/json's messages. Iterative (explicit stack), so a deeply nested body
// cannot overflow ours; Go's own limit of 10000 levels applies. On success `end` is the offset
// just past the first value.
class GoScanner {
 public:
  explicit GoScanner(std::string_view s) : s_(s) {}

  // "" when the first value is well-formed; io.EOF is reported as "EOF".
  std::string Scan(size_t* end) {
    SkipSpace();
    if (i_ >= s_.size()) return "EOF";
    enum class Ctx { kArray, kObject };
    std::vector<Ctx> stack;
    while (true) {
      // Parse one value (containers push and continue).
      SkipSpace();
      if (i_ >= s_.size()) return "unexpected EOF";
      char c = s_[i_];
      if (c == '{' || c == '[') {
        if (stack.size() >= 10000) return "exceeded max depth";
        ++i_;
        SkipSpace();
        if (i_ >= s_.size()) return "unexpected EOF";
        if (c == '{') {
          stack.push_back(Ctx::kObject);
          if (s_[i_] == '}') {
            ++i_;
            stack.pop_back();
          } else {
            if (std::string e = Key(); !e.empty()) return e;
            continue;
          }
        } else {
          stack.push_back(Ctx::kArray);
          if (s_[i_] == ']') {
            ++i_;
            stack.pop_back();
          } else {
            continue;
          }
        }
      } else if (std::string e = Scalar(); !e.empty()) {
        return e;
      }
      // After a value: close containers or move to the next element.
      while (true) {
        if (stack.empty()) {
          *end = i_;
          return "";
        }
        SkipSpace();
        if (i_ >= s_.size()) return "unexpected EOF";
        char d = s_[i_];
        bool object = stack.back() == Ctx::kObject;
        if (d == ',') {
          ++i_;
          if (object) {
            SkipSpace();
            if (i_ >= s_.size()) return "unexpected EOF";
            if (std::string e = Key(); !e.empty()) return e;
          }
          break;
        }
        if (d == (object ? '}' : ']')) {
          ++i_;
          stack.pop_back();
          continue;
        }
        return "invalid character " + QuoteChar(d) +
               (object ? " after object key:value pair" : " after array element");
      }
    }
  }

 private:
  void SkipSpace() {
    while (i_ < s_.size() && IsSpace(s_[i_])) ++i_;
  }

  std::string Key() {
    if (s_[i_] != '"') {
      return "invalid character " + QuoteChar(s_[i_]) +
             " looking for beginning of object key string";
    }
    if (std::string e = String(); !e.empty()) return e;
    SkipSpace();
    if (i_ >= s_.size()) return "unexpected EOF";
    if (s_[i_] != ':') return "invalid character " + QuoteChar(s_[i_]) + " after object key";
    ++i_;
    return "";
  }

  std::string String() {
    ++i_;  // opening quote
    while (i_ < s_.size()) {
      unsigned char c = s_[i_];
      if (c == '"') {
        ++i_;
        return "";
      }
      if (c < 0x20) return "invalid character " + QuoteChar(c) + " in string literal";
      if (c == '\\') {
        if (++i_ >= s_.size()) return "unexpected EOF";
        char e = s_[i_];
        if (e == 'u') {
          for (int k = 0; k < 4; ++k) {
            if (++i_ >= s_.size()) return "unexpected EOF";
            if (!IsHex(s_[i_])) {
              return "invalid character " + QuoteChar(s_[i_]) +
                     " in \\u hexadecimal character escape";
            }
          }
        } else if (std::strchr("\"\\/bfnrt", e) == nullptr || e == '\0') {
          return "invalid character " + QuoteChar(e) + " in string escape code";
        }
      }
      ++i_;
    }
    return "unexpected EOF";
  }

  std::string Scalar() {
    char c = s_[i_];
    if (c == '"') return String();
    if (c == '-' || IsDigit(c)) return Number();
    for (std::string_view lit : {"true", "false", "null"}) {
      if (c != lit[0]) continue;
      for (size_t k = 1; k < lit.size(); ++k) {
        if (i_ + k >= s_.size()) return "unexpected EOF";
        if (s_[i_ + k] != lit[k]) {
          return "invalid character " + QuoteChar(s_[i_ + k]) + " in literal " + std::string(lit) +
                 " (expecting " + QuoteChar(lit[k]) + ")";
        }
      }
      i_ += lit.size();
      return "";
    }
    return "invalid character " + QuoteChar(c) + " looking for beginning of value";
  }

  std::string Number() {
    if (s_[i_] == '-') {
      if (++i_ >= s_.size()) return "unexpected EOF";
      if (!IsDigit(s_[i_])) {
        return "invalid character " + QuoteChar(s_[i_]) + " in numeric literal";
      }
    }
    if (s_[i_] == '0') {
      ++i_;
    } else {
      while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      if (++i_ >= s_.size()) return "unexpected EOF";
      if (!IsDigit(s_[i_])) {
        return "invalid character " + QuoteChar(s_[i_]) + " after decimal point in numeric literal";
      }
      while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      if (++i_ >= s_.size()) return "unexpected EOF";
      if (s_[i_] == '+' || s_[i_] == '-') {
        if (++i_ >= s_.size()) return "unexpected EOF";
      }
      if (!IsDigit(s_[i_])) {
        return "invalid character " + QuoteChar(s_[i_]) + " in exponent of numeric literal";
      }
      while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
    }
    return "";
  }

  std::string_view s_;
  size_t i_ = 0;
};

// Go decodes invalid UTF-8 inside strings as U+FFFD; nlohmann refuses it. Replaces each byte
// that does not start a well-formed sequence.
std::string ReplaceInvalidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size();
    for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 0x2;
    if (ok && n == 2) ok = c >= 0xc2;
    if (ok && n == 3) {
      unsigned char c1 = s[i + 1];
      ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
    }
    if (ok && n == 4) {
      unsigned char c1 = s[i + 1];
      ok = c <= 0xf4 && !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
    }
    if (ok) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  return out;
}

const char* JsonTypeName(const nlohmann::json& v) {
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "bool";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "null";
}

}  // namespace

bool RequestBody::Stream(const Chunk& sink) {
  if (consumed_) return true;
  consumed_ = true;
  if (!read_) return true;
  return read_(sink);
}

RequestBody::ReadStatus RequestBody::ReadAll(size_t limit, std::string* out) {
  out->clear();
  bool too_large = false;
  bool ok = Stream([&](const char* data, size_t size) {
    if (too_large || out->size() + size > limit) {
      too_large = true;
      out->clear();
      return true;  // keep reading (and dropping) so the reply lands on a clean connection
    }
    out->append(data, size);
    return true;
  });
  if (!ok) return ReadStatus::kFailed;
  return too_large ? ReadStatus::kTooLarge : ReadStatus::kOk;
}

void RequestBody::Drain() {
  Stream([](const char*, size_t) { return true; });
}

void WriteError(httplib::Response& res, int status, std::string_view message) {
  res.status = status;
  res.set_content(nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                          nlohmann::json::error_handler_t::replace),
                  kJsonContentType);
}

void WriteJson(httplib::Response& res, const nlohmann::ordered_json& body, int status) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace),
                  kJsonContentType);
}

std::string GoJsonSyntaxError(std::string_view text) {
  size_t end = 0;
  return GoScanner(text).Scan(&end);
}

std::optional<nlohmann::json> ReadJsonRequest(RequestBody& body, size_t limit,
                                              std::string_view go_type, httplib::Response& res,
                                              std::string* raw) {
  std::string text;
  switch (body.ReadAll(limit, &text)) {
    case RequestBody::ReadStatus::kOk:
      break;
    case RequestBody::ReadStatus::kTooLarge:
      WriteError(res, 413, "request body too large");
      return std::nullopt;
    case RequestBody::ReadStatus::kFailed:
      WriteError(res, 400, "unexpected EOF");
      return std::nullopt;
  }
  size_t end = 0;
  std::string error = GoScanner(text).Scan(&end);
  if (error == "EOF") {
    WriteError(res, 400, "missing request body");
    return std::nullopt;
  }
  if (!error.empty()) {
    WriteError(res, 400, error);
    return std::nullopt;
  }
  std::string_view first = std::string_view(text).substr(0, end);
  nlohmann::json j = nlohmann::json::parse(first, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    j = nlohmann::json::parse(ReplaceInvalidUtf8(first), nullptr, /*allow_exceptions=*/false);
  }
  if (j.is_discarded()) {  // numbers out of range, say; the scanner accepted the syntax
    WriteError(res, 400, "invalid JSON");
    return std::nullopt;
  }
  if (raw != nullptr) *raw = std::string(first);
  if (j.is_null()) return nlohmann::json::object();
  if (!j.is_object()) {
    WriteError(res, 400,
               "json: cannot unmarshal " + std::string(JsonTypeName(j)) +
                   " into Go value of type api." + std::string(go_type));
    return std::nullopt;
  }
  return j;
}

const nlohmann::json* JsonFields::Find(std::string_view key) const {
  if (!object_.is_object()) return nullptr;
  auto it = object_.find(std::string(key));
  if (it != object_.end()) return &*it;
  std::string lower = ToLower(key);
  for (auto i = object_.begin(); i != object_.end(); ++i) {
    if (ToLower(i.key()) == lower) return &*i;
  }
  return nullptr;
}

Status JsonFields::TypeError(const nlohmann::json& value, std::string_view key,
                             std::string_view go_type) const {
  return InvalidArgumentError("json: cannot unmarshal " + std::string(JsonTypeName(value)) +
                              " into Go struct field " + go_struct_ + "." + std::string(key) +
                              " of type " + std::string(go_type));
}

Status JsonFields::GetString(std::string_view key, std::string* out) const {
  const nlohmann::json* v = Find(key);
  if (v == nullptr || v->is_null()) return Status::Ok();
  if (!v->is_string()) return TypeError(*v, key, "string");
  *out = v->get<std::string>();
  return Status::Ok();
}

Status JsonFields::GetBool(std::string_view key, bool* out) const {
  const nlohmann::json* v = Find(key);
  if (v == nullptr || v->is_null()) return Status::Ok();
  if (!v->is_boolean()) return TypeError(*v, key, "bool");
  *out = v->get<bool>();
  return Status::Ok();
}

Status JsonFields::GetObject(std::string_view key, nlohmann::json* out) const {
  const nlohmann::json* v = Find(key);
  if (v == nullptr || v->is_null()) return Status::Ok();
  if (!v->is_object()) return TypeError(*v, key, "map[string]interface {}");
  *out = *v;
  return Status::Ok();
}

std::string FormatLocalTime(std::chrono::system_clock::time_point t) {
  auto ns_total =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return FormatLocalTime(ns_total / 1'000'000'000, ns_total % 1'000'000'000);
}

std::string FormatLocalTime(int64_t unix_seconds, int64_t nanos) {
  unix_seconds += nanos / 1'000'000'000;
  long ns = static_cast<long>(nanos % 1'000'000'000);
  if (ns < 0) {
    ns += 1'000'000'000;
    --unix_seconds;
  }
  time_t secs = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  localtime_r(&secs, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = date;
  if (ns != 0) {
    char frac[32];
    std::snprintf(frac, sizeof frac, ".%09ld", ns);
    std::string f = frac;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  long offset = tm.tm_gmtoff;
  if (offset == 0) return out + "Z";
  char sign = offset < 0 ? '-' : '+';
  if (offset < 0) offset = -offset;
  char zone[48];
  std::snprintf(zone, sizeof zone, "%c%02ld:%02ld", sign, offset / 3600, (offset % 3600) / 60);
  return out + zone;
}

}  // namespace corral::server
