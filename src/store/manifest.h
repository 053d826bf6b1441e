// Ollama's manifest: the Docker v2 schema 2 shape with Ollama's layer media types
// (manifest/manifest.go). Parsing ignores unknown keys, validates every digest before anything
// can build a path from it, and reports malformed JSON with the file it came from.
// Serializing reproduces Go's json.Encoder bytes for Ollama's struct (key order, HTML escaping,
// trailing newline), so a manifest we write has the digest Ollama's would have.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/digest.h"

namespace corral::store {

inline constexpr std::string_view kMediaTypeManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kMediaTypeConfig =
    "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kMediaTypeModel = "application/vnd.ollama.image.model";
inline constexpr std::string_view kMediaTypeProjector = "application/vnd.ollama.image.projector";
inline constexpr std::string_view kMediaTypeAdapter = "application/vnd.ollama.image.adapter";
inline constexpr std::string_view kMediaTypeTemplate = "application/vnd.ollama.image.template";
inline constexpr std::string_view kMediaTypePrompt = "application/vnd.ollama.image.prompt";  // old
inline constexpr std::string_view kMediaTypeSystem = "application/vnd.ollama.image.system";
inline constexpr std::string_view kMediaTypeParams = "application/vnd.ollama.image.params";
inline constexpr std::string_view kMediaTypeLicense = "application/vnd.ollama.image.license";
inline constexpr std::string_view kMediaTypeMessages = "application/vnd.ollama.image.messages";

// Largest manifest file we read: real ones are a few KB; the cap keeps a hostile file from
// making us allocate without bound.
inline constexpr size_t kMaxManifestBytes = 4 << 20;

struct Layer {
  std::string media_type;
  Digest digest;  // empty only for a manifest without a config
  int64_t size = 0;
  std::string from;  // optional: the source model or file
  std::string name;  // optional: tensor/config path (safetensors models)

  friend bool operator==(const Layer&, const Layer&) = default;
};

struct Manifest {
  int64_t schema_version = 2;
  std::string media_type = std::string(kMediaTypeManifest);
  Layer config;
  std::vector<Layer> layers;

  // Sum of the config and layer sizes (what /api/tags reports as `size`).
  int64_t Size() const;
  // The config digest (when present) and every layer digest, in order, without repeats.
  std::vector<Digest> Blobs() const;

  friend bool operator==(const Manifest&, const Manifest&) = default;
};

// `source` names the file (or "registry response") in error messages. Errors: Corruption for
// malformed JSON, wrong types or an invalid digest; ResourceExhausted over kMaxManifestBytes.
Result<Manifest> ParseManifest(std::string_view json, std::string_view source);

// Go's json.NewEncoder(w).Encode(m) for Ollama's Manifest struct, byte for byte.
std::string SerializeManifest(const Manifest& manifest);

// Appends `s` as Go's encoding/json writes a string (json.Encoder's default, HTML escaping on):
// <, > and & as \u003c..., U+2028/U+2029 escaped, each invalid UTF-8 byte as \ufffd. Ollama
// writes manifests and model configs this way, and their digests depend on the exact bytes.
void AppendGoJsonString(std::string_view s, std::string* out);

}  // namespace corral::store
