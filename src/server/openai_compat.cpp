// The OpenAI-compatible handlers: read the request, translate it (openai_translate.cpp), run
// the native handler through CallNative, and translate what it answers. Also the small helpers
// the translation needs (ids, RFC 3339 times, base64).
#include "server/openai_compat.h"

#include <httplib.h>

#include <cctype>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "server/compat_json.h"
#include "server/inference_routes.h"
#include "server/json_request.h"
#include "server/model_routes.h"
#include "server/native_bridge.h"
#include "server/server_state.h"

namespace corral::server {
namespace {

using openai::ojson;

constexpr const char kOpenAIJson[] = "application/json";
constexpr const char kEventStream[] = "text/event-stream";

using compat::Dump;

void WriteOpenAIError(httplib::Response& res, int status, std::string_view message) {
  res.status = status;
  res.set_content(Dump(openai::ErrorBody(status, message)), kOpenAIJson);
}

// The request body as an ordered JSON object (key order matters in a JSON schema), with
// Ollama's decoding errors (missing body, malformed JSON, not an object) in OpenAI's shape.
std::optional<ojson> ReadRequest(ServerState& state, RequestBody& body, std::string_view go_type,
                                 httplib::Response& res) {
  httplib::Response scratch;
  std::string raw;
  std::optional<nlohmann::json> parsed =
      ReadJsonRequest(body, state.limits.max_json_body_bytes, go_type, scratch, &raw);
  if (!parsed) {
    const ojson native = ojson::parse(scratch.body, nullptr, /*allow_exceptions=*/false);
    std::string message = native.is_object() ? openai::NativeErrorMessage(native) : scratch.body;
    // ReadJsonRequest names the api.* type; these requests are openai.* in Ollama.
    if (size_t at = message.find("Go value of type api."); at != std::string::npos) {
      message.replace(at + 17, 3, "openai");
    }
    WriteOpenAIError(res, scratch.status, message);
    return std::nullopt;
  }
  ojson ordered = ojson::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (ordered.is_discarded()) ordered = ojson(*parsed);  // invalid UTF-8 was replaced there
  if (ordered.is_null()) ordered = ojson::object();
  return ordered;
}

// Native error replies in OpenAI's error shape, the status kept.
void WholeError(int status, const ojson& native, httplib::Response& res) {
  WriteOpenAIError(res, status, openai::NativeErrorMessage(native));
}

void WriteOpenAIJson(httplib::Response& res, const ojson& body) {
  res.status = 200;
  res.set_content(Dump(body), kOpenAIJson);
}

class ChatTranslator : public ReplyTranslator {
 public:
  ChatTranslator(std::string id, bool include_usage)
      : id_(id), stream_(std::move(id), include_usage) {}
  void Whole(int status, const ojson& native, httplib::Response& res) override {
    if (status != 200) return WholeError(status, native, res);
    // A stream request can get a whole reply too (_debug_render_only answers at once).
    WriteOpenAIJson(res, openai::ChatCompletionFromNative(id_, native));
  }
  std::string StreamContentType() const override { return kEventStream; }
  void StreamObject(const ojson& native, std::string* out) override {
    *out += stream_.Push(native);
  }
  void StreamEnd(std::string* out) override { *out += stream_.End(); }

 private:
  std::string id_;
  openai::ChatStream stream_;
};

class CompletionTranslator : public ReplyTranslator {
 public:
  CompletionTranslator(std::string id, bool include_usage)
      : id_(id), stream_(std::move(id), include_usage) {}
  void Whole(int status, const ojson& native, httplib::Response& res) override {
    if (status != 200) return WholeError(status, native, res);
    WriteOpenAIJson(res, openai::CompletionFromNative(id_, native));
  }
  std::string StreamContentType() const override { return kEventStream; }
  void StreamObject(const ojson& native, std::string* out) override {
    *out += stream_.Push(native);
  }
  void StreamEnd(std::string* out) override { *out += stream_.End(); }

 private:
  std::string id_;
  openai::CompletionStream stream_;
};

// Translators for endpoints that never stream: one function of the whole native reply.
class WholeTranslator : public ReplyTranslator {
 public:
  using Fn = std::function<ojson(const ojson&)>;
  explicit WholeTranslator(Fn fn) : fn_(std::move(fn)) {}
  void Whole(int status, const ojson& native, httplib::Response& res) override {
    if (status != 200) return WholeError(status, native, res);
    WriteOpenAIJson(res, fn_(native));
  }
  std::string StreamContentType() const override { return kOpenAIJson; }
  // Never reached (these native handlers answer whole); an object is passed on untranslated
  // rather than lost.
  void StreamObject(const ojson& native, std::string* out) override { *out += Dump(native); }
  void StreamEnd(std::string*) override {}

 private:
  Fn fn_;
};

}  // namespace

void OpenAIChatHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                       httplib::Response& res) {
  std::optional<ojson> request = ReadRequest(state, body, "ChatCompletionRequest", res);
  if (!request) return;
  Result<openai::NativeCall> call = openai::TranslateChatRequest(*request);
  if (!call.ok()) return WriteOpenAIError(res, 400, call.status().message());
  CallNative(state, req, ChatHandler, Dump(call->body),
             std::make_shared<ChatTranslator>(openai::NewId("chatcmpl-"), call->include_usage),
             res);
}

void OpenAICompletionsHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                              httplib::Response& res) {
  std::optional<ojson> request = ReadRequest(state, body, "CompletionRequest", res);
  if (!request) return;
  Result<openai::NativeCall> call = openai::TranslateCompletionRequest(*request);
  if (!call.ok()) return WriteOpenAIError(res, 400, call.status().message());
  CallNative(state, req, GenerateHandler, Dump(call->body),
             std::make_shared<CompletionTranslator>(openai::NewId("cmpl-"), call->include_usage),
             res);
}

void OpenAIEmbeddingsHandler(ServerState& state, const httplib::Request& req, RequestBody& body,
                             httplib::Response& res) {
  std::optional<ojson> request = ReadRequest(state, body, "EmbedRequest", res);
  if (!request) return;
  Result<openai::EmbedCall> call = openai::TranslateEmbeddingRequest(*request);
  if (!call.ok()) return WriteOpenAIError(res, 400, call.status().message());
  auto translate = [model = call->model, base64 = call->base64](const ojson& native) {
    return openai::EmbeddingListFromNative(model, native, base64);
  };
  CallNative(state, req, EmbedHandler, Dump(call->body),
             std::make_shared<WholeTranslator>(translate), res);
}

void OpenAIListModelsHandler(ServerState& state, const httplib::Request& req, RequestBody&,
                             httplib::Response& res) {
  CallNative(state, req, ListModelsHandler, "",
             std::make_shared<WholeTranslator>(openai::ModelListFromNative), res);
}

void OpenAIRetrieveModelHandler(ServerState& state, const httplib::Request& req, RequestBody&,
                                httplib::Response& res) {
  const std::string id = req.matches.size() > 1 ? req.matches[1].str() : std::string();
  auto translate = [id](const ojson& show) { return openai::ModelFromShow(id, show); };
  CallNative(state, req, ShowModelHandler, Dump(ojson{{"model", id}}),
             std::make_shared<WholeTranslator>(translate), res);
}

}  // namespace corral::server

namespace corral::server::openai {
namespace {

// Ordinary days from 1970-01-01 to y-m-d (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

// ---- helpers ----

std::string NewId(std::string_view prefix) {
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> dist(0, 998);
  return std::string(prefix) + std::to_string(dist(rng));
}

int64_t UnixSeconds(std::string_view s) {
  auto digits = [&](size_t pos, size_t n, int64_t* out) {
    if (pos + n > s.size()) return false;
    int64_t v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  int64_t y, mo, d, h, mi, sec;
  if (!digits(0, 4, &y) || s.size() < 19 || s[4] != '-' || !digits(5, 2, &mo) || s[7] != '-' ||
      !digits(8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(11, 2, &h) || s[13] != ':' ||
      !digits(14, 2, &mi) || s[16] != ':' || !digits(17, 2, &sec)) {
    return -1;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return -1;
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const size_t start = pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
    if (pos == start) return -1;
  }
  int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
    offset = 0;
  } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
    int64_t oh, om;
    if (!digits(pos + 1, 2, &oh) || !digits(pos + 4, 2, &om)) return -1;
    offset = (oh * 60 + om) * 60 * (s[pos] == '-' ? -1 : 1);
  } else {
    return -1;
  }
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
}

std::string Base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (const size_t rest = bytes.size() - i; rest > 0) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool Base64Decode(std::string_view text, std::string* out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string clean;
  clean.reserve(text.size());
  for (char c : text) {
    if (c != '\r' && c != '\n') clean += c;
  }
  if (clean.size() % 4 != 0) return false;
  out->clear();
  out->reserve(clean.size() / 4 * 3);
  for (size_t i = 0; i < clean.size(); i += 4) {
    const bool last = i + 4 == clean.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = clean[i + static_cast<size_t>(k)];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return false;  // data after padding
      v[k] = value(c);
      if (v[k] < 0) return false;
    }
    const uint32_t n = (static_cast<uint32_t>(v[0]) << 18) | (static_cast<uint32_t>(v[1]) << 12) |
                       (static_cast<uint32_t>(v[2]) << 6) | static_cast<uint32_t>(v[3]);
    out->push_back(static_cast<char>((n >> 16) & 0xff));
    if (pad < 2) out->push_back(static_cast<char>((n >> 8) & 0xff));
    if (pad < 1) out->push_back(static_cast<char>(n & 0xff));
  }
  return true;
}

}  // namespace corral::server::openai
