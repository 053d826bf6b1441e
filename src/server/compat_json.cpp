#include "server/compat_json.h"

#include <zstd.h>

#include <chrono>
#include <memory>
#include <random>
#include <utility>

namespace corral::server::compat {

const ojson& Field(const ojson& object, const char* key) {
  static const ojson kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string StringField(const ojson& object, const char* key) {
  const ojson& v = Field(object, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

int64_t IntField(const ojson& object, const char* key) {
  const ojson& v = Field(object, key);
  return v.is_number_integer() ? v.get<int64_t>() : 0;
}

bool BoolField(const ojson& object, const char* key) {
  const ojson& v = Field(object, key);
  return v.is_boolean() && v.get<bool>();
}

Status Bad(std::string message) { return InvalidArgumentError(std::move(message)); }

std::string JoinPath(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
}

std::string JoinPath(std::string_view path, size_t index) {
  return JoinPath(path, std::to_string(index));
}

std::string Kind(const ojson& value) {
  switch (value.type()) {
    case ojson::value_t::null:
      return "null";
    case ojson::value_t::boolean:
      return "a boolean";
    case ojson::value_t::string:
      return "a string";
    case ojson::value_t::array:
      return "an array";
    case ojson::value_t::object:
      return "an object";
    default:
      return "a number";
  }
}

Status WrongType(const ojson& value, std::string_view path, std::string_view wanted) {
  return Bad(std::string(path) + ": expected " + std::string(wanted) + ", got " + Kind(value));
}

const ojson* Given(const ojson& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(std::string(key));
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

Status GetString(const ojson& object, std::string_view path, std::string_view key,
                 std::string* out) {
  const ojson* v = Given(object, key);
  if (!v) return Status::Ok();
  if (!v->is_string()) return WrongType(*v, JoinPath(path, key), "a string");
  *out = v->get<std::string>();
  return Status::Ok();
}

Result<double> Number(const ojson& object, std::string_view key) {
  const ojson* v = Given(object, key);
  if (v == nullptr) return Bad(std::string(key) + ": required");
  if (!v->is_number()) return WrongType(*v, key, "a number");
  return v->get<double>();
}

Status CheckKeys(const ojson& object, std::string_view path,
                 std::initializer_list<std::string_view> known,
                 std::initializer_list<std::string_view> ignored) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    bool ok = false;
    for (std::string_view k : known) ok |= it.key() == k;
    for (std::string_view k : ignored) ok |= it.key() == k;
    if (!ok) return Bad("unsupported field '" + JoinPath(path, it.key()) + "'");
  }
  return Status::Ok();
}

Result<std::string> ZstdDecompress(std::string_view compressed, size_t max_out) {
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!ctx) return InternalError("zstd: cannot allocate a decompression context");
  std::string out;
  ZSTD_inBuffer input{compressed.data(), compressed.size(), 0};
  std::string chunk(size_t{64} << 10, '\0');
  while (true) {
    ZSTD_outBuffer output{chunk.data(), chunk.size(), 0};
    const size_t ret = ZSTD_decompressStream(ctx.get(), &output, &input);
    if (ZSTD_isError(ret)) {
      return InvalidArgumentError(std::string("invalid zstd body: ") + ZSTD_getErrorName(ret));
    }
    if (out.size() + output.pos > max_out) return ResourceExhaustedError("request body too large");
    out.append(chunk.data(), output.pos);
    if (input.pos < input.size) continue;
    if (ret == 0) return out;  // every frame complete
    // All input used, a frame unfinished, and nothing more to flush: the body was cut short.
    if (output.pos < output.size) return InvalidArgumentError("invalid zstd body: truncated");
  }
}

std::string Dump(const ojson& value) {
  return value.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

std::string NamedEvent(std::string_view type, const ojson& data) {
  return "event: " + std::string(type) + "\ndata: " + Dump(data) + "\n\n";
}

std::string RandomHex(size_t n) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) s += kHex[rng() % 16];
  return s;
}

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace corral::server::compat
