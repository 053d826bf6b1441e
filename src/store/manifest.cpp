#include "store/manifest.h"

#include <limits>
#include <nlohmann/json.hpp>
#include <set>

namespace corral::store {
namespace {

using json = nlohmann::json;

bool EqualFoldAscii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](unsigned char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Go's decoder matches keys exactly first, then case-insensitively; so do we.
const json* Field(const json& object, std::string_view key) {
  auto it = object.find(key);
  if (it != object.end()) return &*it;
  for (auto i = object.begin(); i != object.end(); ++i) {
    if (EqualFoldAscii(i.key(), key)) return &*i;
  }
  return nullptr;
}

class Decoder {
 public:
  explicit Decoder(std::string_view source) : source_(source) {}

  Status Error(const std::string& where, const std::string& what) const {
    return CorruptionError("manifest " + std::string(source_) + ": " + where + ": " + what);
  }

  // JSON null or a missing key leaves the default, as Go does.
  Status String(const json& object, std::string_view key, const std::string& where,
                std::string* out) const {
    const json* v = Field(object, key);
    if (v == nullptr || v->is_null()) return Status::Ok();
    if (!v->is_string()) return Error(where + "." + std::string(key), "want a string");
    *out = v->get<std::string>();
    return Status::Ok();
  }

  Status Int(const json& object, std::string_view key, const std::string& where,
             int64_t* out) const {
    const json* v = Field(object, key);
    if (v == nullptr || v->is_null()) return Status::Ok();
    if (v->is_number_integer()) {
      if (v->is_number_unsigned() &&
          v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Error(where + "." + std::string(key), "integer out of range");
      }
      *out = v->get<int64_t>();
      return Status::Ok();
    }
    return Error(where + "." + std::string(key), "want an integer");
  }

  Status DecodeLayer(const json& v, const std::string& where, bool digest_required,
                     Layer* layer) const {
    if (v.is_null()) {
      if (digest_required) return Error(where, "is null");
      return Status::Ok();
    }
    if (!v.is_object()) return Error(where, "want an object");
    RETURN_IF_ERROR(String(v, "mediaType", where, &layer->media_type));
    std::string digest;
    RETURN_IF_ERROR(String(v, "digest", where, &digest));
    RETURN_IF_ERROR(Int(v, "size", where, &layer->size));
    RETURN_IF_ERROR(String(v, "from", where, &layer->from));
    RETURN_IF_ERROR(String(v, "name", where, &layer->name));
    if (layer->size < 0) return Error(where + ".size", "is negative");
    if (digest.empty()) {
      if (digest_required) return Error(where + ".digest", "is missing");
      return Status::Ok();
    }
    // Validated here, before any caller can turn it into a blob path.
    Result<Digest> parsed = Digest::Parse(digest);
    if (!parsed.ok()) return Error(where + ".digest", parsed.status().message());
    layer->digest = *parsed;
    return Status::Ok();
  }

 private:
  std::string_view source_;
};

void AppendLayer(const Layer& layer, std::string* out) {
  *out += "{\"mediaType\":";
  AppendGoJsonString(layer.media_type, out);
  *out += ",\"digest\":";
  AppendGoJsonString(layer.digest.String(), out);
  *out += ",\"size\":" + std::to_string(layer.size);
  if (!layer.from.empty()) {
    *out += ",\"from\":";
    AppendGoJsonString(layer.from, out);
  }
  if (!layer.name.empty()) {
    *out += ",\"name\":";
    AppendGoJsonString(layer.name, out);
  }
  out->push_back('}');
}

}  // namespace

void AppendGoJsonString(std::string_view s, std::string* out) {
  static const char* kHex = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          *out += "\\\"";
          break;
        case '\\':
          *out += "\\\\";
          break;
        case '\n':
          *out += "\\n";
          break;
        case '\r':
          *out += "\\r";
          break;
        case '\t':
          *out += "\\t";
          break;
        case '\b':
          *out += "\\b";
          break;
        case '\f':
          *out += "\\f";
          break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            *out += "\\u00";
            out->push_back(kHex[c >> 4]);
            out->push_back(kHex[c & 15]);
          } else {
            out->push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    // Multi-byte UTF-8: copied when well formed; invalid bytes become U+FFFD as in Go; U+2028
    // and U+2029 are escaped.
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    bool valid = len >= 2 && c <= 0xF4 && i + len <= s.size();
    uint32_t cp = 0;
    if (valid) {
      cp = c & (0x7F >> len);
      for (size_t k = 1; k < len; ++k) {
        unsigned char cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80) {
          valid = false;
          break;
        }
        cp = cp << 6 | (cc & 0x3F);
      }
      static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
      if (valid && (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) {
        valid = false;
      }
    }
    if (!valid) {
      *out += "\\ufffd";
      ++i;
      continue;
    }
    if (cp == 0x2028 || cp == 0x2029) {
      *out += cp == 0x2028 ? "\\u2028" : "\\u2029";
    } else {
      out->append(s.substr(i, len));
    }
    i += len;
  }
  out->push_back('"');
}

int64_t Manifest::Size() const {
  int64_t total = config.size;
  for (const Layer& layer : layers) total += layer.size;
  return total;
}

std::vector<Digest> Manifest::Blobs() const {
  std::vector<Digest> out;
  std::set<Digest> seen;
  auto add = [&](const Digest& d) {
    if (!d.empty() && seen.insert(d).second) out.push_back(d);
  };
  add(config.digest);
  for (const Layer& layer : layers) add(layer.digest);
  return out;
}

Result<Manifest> ParseManifest(std::string_view text, std::string_view source) {
  if (text.size() > kMaxManifestBytes) {
    return ResourceExhaustedError("manifest " + std::string(source) + " is " +
                                  std::to_string(text.size()) + " bytes; the limit is " +
                                  std::to_string(kMaxManifestBytes));
  }
  Decoder dec(source);
  json doc;
  // nlohmann reports syntax errors by exception; they stop here, at the module boundary.
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    return CorruptionError("manifest " + std::string(source) + " is not valid JSON: " + e.what());
  }
  if (!doc.is_object()) return dec.Error("top level", "want a JSON object");

  Manifest m;
  m.media_type.clear();
  m.schema_version = 0;
  RETURN_IF_ERROR(dec.Int(doc, "schemaVersion", "top level", &m.schema_version));
  RETURN_IF_ERROR(dec.String(doc, "mediaType", "top level", &m.media_type));
  if (const json* config = Field(doc, "config"); config != nullptr) {
    RETURN_IF_ERROR(dec.DecodeLayer(*config, "config", /*digest_required=*/false, &m.config));
  }
  if (const json* layers = Field(doc, "layers"); layers != nullptr && !layers->is_null()) {
    if (!layers->is_array()) return dec.Error("layers", "want an array");
    for (size_t i = 0; i < layers->size(); ++i) {
      Layer layer;
      RETURN_IF_ERROR(dec.DecodeLayer((*layers)[i], "layers[" + std::to_string(i) + "]",
                                      /*digest_required=*/true, &layer));
      m.layers.push_back(std::move(layer));
    }
  }
  return m;
}

std::string SerializeManifest(const Manifest& m) {
  std::string out = "{\"schemaVersion\":" + std::to_string(m.schema_version) + ",\"mediaType\":";
  AppendGoJsonString(m.media_type, &out);
  out += ",\"config\":";
  AppendLayer(m.config, &out);
  out += ",\"layers\":[";
  for (size_t i = 0; i < m.layers.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendLayer(m.layers[i], &out);
  }
  out += "]}\n";
  return out;
}

}  // namespace corral::store
